"""Frame opcodes (RFC 6455 section 5.2, registry in section 11.8).

The opcode is the low nibble of a frame's first byte. Values 0x0-0x2 are data
frames, 0x8-0xA are control frames; 0x3-0x7 and 0xB-0xF are reserved and make
the frame a protocol violation unless an extension defines them.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Opcode"]


class Opcode(IntEnum):
    """The six opcodes RFC 6455 defines.

    Control frames (CLOSE, PING, PONG) have the high bit of the opcode set
    (``opcode & 0x8``); they may appear between the fragments of a message
    but may not themselves be fragmented (section 5.5).
    """

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        """True for CLOSE, PING and PONG (section 5.5)."""
        return self >= 0x8
