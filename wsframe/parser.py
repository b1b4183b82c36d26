"""FrameParser: frames, whole, as they arrive (RFC 6455 section 5.2).

Strategy: `FrameParser` is the `FrameDecoder` state machine with the simplest
possible answer to each of its hooks: every frame is taken whole (its masked
payload kept in one bytearray until the frame is complete, then unmasked
once) and handed out as one `Frame`, built once, when its payload is known.
It keeps reading after a Close frame, so a caller sees everything on the wire;
`MessageReader` is the layer that stops there.
"""

from __future__ import annotations

from typing import SupportsIndex

from .checks import Flag
from .decoder import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, FrameHeader
from .frame import Frame
from .header_bits import FirstByte
from .mypyc_support import mypyc_attr
from .opcodes import Opcode
from .roles import Role

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "FrameParser"]


@mypyc_attr(allow_interpreted_subclasses=True)
class FrameParser(FrameDecoder[Frame]):
    """Incremental, sans-I/O parser of RFC 6455 frames.

    Feed it bytes as they arrive, split anywhere; it yields each complete
    `Frame` (payload unmasked) in wire order, or raises `ProtocolError`
    carrying the close code to send.

    Args:
        role: `Role.SERVER` (every received frame must be masked) or
            `Role.CLIENT` (no received frame may be masked), section 5.1.
        max_frame_size: the largest payload accepted, in bytes; a larger
            declared length is rejected with 1009 as soon as the header is
            complete, before any of the payload is buffered. None: no limit.
        strict: if False, accept payload lengths that are not in their
            minimal encoding (e.g. the 16-bit form for 5 bytes). RFC 6455
            section 5.2 says "MUST" be minimal, so the default is True.
        extension_rsv: RSV bits that negotiated extensions own (0x40, 0x20,
            0x10), allowed on the first frame of a data message.
    """

    __slots__ = ()

    def __init__(self, role: Role, *,
                 max_frame_size: SupportsIndex | None = DEFAULT_MAX_FRAME_SIZE,
                 strict: Flag = True, extension_rsv: SupportsIndex = 0) -> None:
        super().__init__(role, max_frame_size=max_frame_size, strict=strict,
                         extension_rsv=extension_rsv, stop_at_close=False)

    def _frame(self, first: FirstByte, payload: bytes, offset: int, out: list[Frame]) -> None:
        out.append(Frame(first[0], payload, first[1], first[2], first[3], first[4], offset))

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[Frame]) -> None:
        out.append(Frame(Opcode.CLOSE, payload, True, False, False, False, offset))

    def _start(self, header: FrameHeader, out: list[Frame]) -> bool:
        return False            # whole frames only

    def _piece(self, data: bytes, key: bytes | None, left: int, out: list[Frame]) -> None:
        raise AssertionError("FrameParser takes every frame whole")
