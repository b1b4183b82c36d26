"""An ASGI echo application, for uvicorn running on wsframe_uvicorn.WSFrameProtocol
in tests/integration/test_node.py (and by hand: see the module's functions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]


async def app(scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Message]],
              send: Callable[[Message], Awaitable[None]]) -> None:
    """Accept every WebSocket connection and send each message back as it came."""
    if scope["type"] != "websocket":
        raise RuntimeError(f"this application serves WebSocket only, not {scope['type']}")
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
