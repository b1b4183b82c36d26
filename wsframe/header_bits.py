"""The first byte of a frame header: FIN, RSV1-3 and the opcode (RFC 6455 5.2).

Strategy: the rules about the first header byte are written once, in
`first_byte_problem`, and both directions use them: the decoder turns them
into a 256-entry table (`first_byte_table`, one entry per possible byte) so
that its hot loop checks a byte with one index, and `build_frame` asks the
same function before it writes a byte a strict receiver would refuse.

The same table says what kind of frame a byte starts (`FrameKind`), which is
what the fragmentation rules (section 5.4) and the control-frame rules
(section 5.5) care about.
"""

from __future__ import annotations

from functools import cache
from struct import Struct
from typing import Final, NamedTuple

from .errors import Violation
from .opcodes import Opcode

__all__ = ["HEAD_16", "HEAD_64", "OPCODES", "RSV1", "RSV2", "RSV3", "FirstByte", "FrameKind",
           "first_byte_problem", "first_byte_table", "frame_kind"]

#: The RSV bits of the first header byte.
RSV1: Final = 0x40
RSV2: Final = 0x20
RSV3: Final = 0x10

#: The two longer header shapes of RFC 6455 5.2, for writing a frame: the first
#: byte, the MASK bit with 126 or 127, and the 16-bit or 64-bit length.
HEAD_16: Final = Struct("!BBH")
HEAD_64: Final = Struct("!BBQ")

#: Opcode value -> `Opcode`, for the six opcodes RFC 6455 defines.
OPCODES: Final[dict[int, Opcode]] = {op.value: op for op in Opcode}


class FrameKind:
    """What kind of frame an opcode makes, as sections 5.4 and 5.5 see it.

    Plain ints (compared in the decoder's hot loop), ordered so that
    ``kind >= FrameKind.CONTROL`` means a control frame.
    """

    START: Final = 0            #: TEXT or BINARY: starts a message
    CONTINUATION: Final = 1     #: continues a fragmented message
    CONTROL: Final = 2          #: PING or PONG
    CLOSE: Final = 3            #: CLOSE: a control frame whose payload is checked too


def frame_kind(opcode: Opcode) -> int:
    """The `FrameKind` of a defined opcode."""
    if opcode is Opcode.CLOSE:
        return FrameKind.CLOSE
    if opcode.is_control:
        return FrameKind.CONTROL
    return FrameKind.CONTINUATION if opcode is Opcode.CONTINUATION else FrameKind.START


class FirstByte(NamedTuple):
    """What a valid first header byte says."""

    opcode: Opcode
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    kind: int       #: a `FrameKind`


def first_byte_problem(b0: int, extension_rsv: int) -> tuple[Violation, str] | None:
    """Check a first header byte: FIN, RSV1-3 and opcode (RFC 6455 5.2, 5.5; RFC 7692 6).

    ``extension_rsv`` holds the RSV bits (`RSV1`, `RSV2`, `RSV3`) that a
    negotiated extension claims; an extension may use them on the first frame
    of a data message only, which is how RFC 7692 (permessage-deflate) defines
    RSV1. Returns None for a valid byte, else the violation and a detail.
    """
    opcode = OPCODES.get(b0 & 0x0F)
    if opcode is None:
        return Violation.RESERVED_OPCODE, f"reserved opcode 0x{b0 & 0x0F:X}"
    rsv = b0 & 0x70
    if rsv:
        names = "/".join(f"RSV{i}" for i, bit in ((1, RSV1), (2, RSV2), (3, RSV3))
                         if rsv & bit)
        if rsv & ~extension_rsv:
            return Violation.RESERVED_BITS, f"{names} set with no extension for it"
        if opcode is Opcode.CONTINUATION or opcode.is_control:
            return (Violation.EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION,
                    f"{names} set on a {opcode.name} frame")
    if opcode.is_control and not b0 & 0x80:
        return Violation.FRAGMENTED_CONTROL_FRAME, f"{opcode.name} frame with FIN=0"
    return None


@cache
def first_byte_table(extension_rsv: int) -> tuple[FirstByte | None, ...]:
    """For each of the 256 first-byte values: its decoded fields, or None if invalid."""
    table: list[FirstByte | None] = []
    for b0 in range(256):
        if first_byte_problem(b0, extension_rsv) is not None:
            table.append(None)
            continue
        opcode = OPCODES[b0 & 0x0F]
        table.append(FirstByte(opcode, bool(b0 & 0x80), bool(b0 & RSV1), bool(b0 & RSV2),
                               bool(b0 & RSV3), frame_kind(opcode)))
    return tuple(table)
