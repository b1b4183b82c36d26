"""Frame: the record of one frame, as received or to be sent (RFC 6455 5.2).

A plain record with slots: the decoder makes one per frame, once its payload
is known and unmasked; `build_frame` (builders.py) turns the fields into bytes.
"""

from __future__ import annotations

from typing import Any

from .opcodes import Opcode

__all__ = ["Frame"]


class Frame:
    """One frame as received (payload already unmasked) or to be sent.

    Attributes:
        opcode: the `Opcode`.
        payload: the application data, unmasked.
        fin: True if this is the final fragment of a message.
        rsv1, rsv2, rsv3: the reserved bits (set only by extensions).
        offset: for a parsed frame, the absolute position of its first byte
            in the received stream; 0 for frames you create. Not part of
            equality: two frames are equal when they carry the same content.
    """

    __slots__ = ("opcode", "payload", "fin", "rsv1", "rsv2", "rsv3", "offset")

    def __init__(self, opcode: Opcode, payload: bytes = b"", fin: bool = True,
                 rsv1: bool = False, rsv2: bool = False, rsv3: bool = False,
                 offset: int = 0) -> None:
        self.opcode = opcode
        self.payload = payload
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.offset = offset

    def _key(self) -> tuple[Any, ...]:
        return (self.opcode, self.payload, self.fin, self.rsv1, self.rsv2, self.rsv3)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        flags = "".join(name for name, on in (
            (" fin", self.fin), (" rsv1", self.rsv1), (" rsv2", self.rsv2),
            (" rsv3", self.rsv3)) if on)
        opcode = getattr(self.opcode, "name", self.opcode)
        payload = self.payload
        shown = repr(payload) if len(payload) <= 32 else (
            f"{payload[:32]!r}... ({len(payload)} bytes)")
        return f"<Frame {opcode}{flags} payload={shown} offset={self.offset}>"
