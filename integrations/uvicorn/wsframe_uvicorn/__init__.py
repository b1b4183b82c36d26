"""uvicorn's WebSocket protocol on wsframe.

    uvicorn app:app --ws wsframe_uvicorn:WSFrameProtocol
"""

from .protocol import WSFrameProtocol

__all__ = ["WSFrameProtocol"]
