"""Frames, roles, and the frame and close-frame builders (RFC 6455 5.2, 5.5.1).

A frame on the wire (section 5.2)::

      0                   1                   2                   3
      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     +-+-+-+-+-------+-+-------------+-------------------------------+
     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
     | |1|2|3|       |K|             |                               |
     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
     |     Extended payload length continued, if payload len == 127  |
     + - - - - - - - - - - - - - - - +-------------------------------+
     |                               |Masking-key, if MASK set to 1  |
     +-------------------------------+-------------------------------+
     | Masking-key (continued)       |          Payload Data         |
     +-------------------------------- - - - - - - - - - - - - - - - +

`build_frame` writes exactly that, always with the minimal length encoding.
It refuses to produce a frame that a strict receiver would reject, so a stack
built on wsframe cannot become the "broken peer" itself.
"""

from __future__ import annotations

from enum import Enum
from struct import Struct
from typing import Any

from .close_codes import CloseCode, may_be_sent
from .errors import MAX_REASON_BYTES, ProtocolError, Violation
from .masking import apply_mask
from .opcodes import Opcode

__all__ = ["Frame", "Role", "build_frame", "build_close", "parse_close_payload"]

_U16 = Struct("!H")
_B_B_H = Struct("!BBH")     # first byte, MASK|126, 16-bit length
_B_B_Q = Struct("!BBQ")     # first byte, MASK|127, 64-bit length


class Role(Enum):
    """Which end of the connection this endpoint is (RFC 6455 section 5.1).

    A client masks every frame it sends and receives only unmasked frames; a
    server is the other way round. So a SERVER parser requires the MASK bit
    and a CLIENT parser forbids it.
    """

    SERVER = "server"
    CLIENT = "client"


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


_OPCODES = {op.value: op for op in Opcode}


def build_frame(opcode: Opcode | int, payload: bytes = b"", *, fin: bool = True,
                rsv1: bool = False, rsv2: bool = False, rsv3: bool = False,
                mask: bytes | None = None) -> bytes:
    """Encode one frame (RFC 6455 section 5.2) and return its bytes.

    ``mask`` is the 4-byte masking key (clients mask every frame, section
    5.3) or None for an unmasked frame (servers). The payload length always
    uses its minimal encoding.

    Raises ValueError for what would be a protocol violation to send: a
    reserved opcode, a control frame that is fragmented or carries more than
    125 bytes (section 5.5), or a masking key that is not 4 bytes.
    """
    try:
        op = _OPCODES[opcode]
    except (KeyError, TypeError):
        raise ValueError(
            f"opcode {opcode!r} is reserved or unknown (RFC 6455 5.2)") from None
    if payload.__class__ is not bytes:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        payload = bytes(payload)
    n = len(payload)
    if op >= 0x8:
        if not fin:
            raise ValueError(f"a {op.name} frame cannot be fragmented (RFC 6455 5.5)")
        if n > 125:
            raise ValueError(
                f"a {op.name} payload is at most 125 bytes, got {n} (RFC 6455 5.5)")
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (
        0x20 if rsv2 else 0) | (0x10 if rsv3 else 0) | op
    if mask is None:
        if n < 126:
            return bytes((first, n)) + payload
        if n < 65536:
            return _B_B_H.pack(first, 126, n) + payload
        return _B_B_Q.pack(first, 127, n) + payload
    if mask.__class__ is not bytes or len(mask) != 4:
        if not isinstance(mask, (bytes, bytearray)) or len(mask) != 4:
            raise ValueError(
                f"mask must be a 4-byte masking key or None, not {mask!r} (RFC 6455 5.3)")
        mask = bytes(mask)
    if n < 126:
        # Small frames (the common case): integer XOR inline, as in the parser.
        return bytes((first, 0x80 | n)) + mask + (
            int.from_bytes(payload, "little")
            ^ int.from_bytes((mask * ((n >> 2) + 1))[:n], "little")).to_bytes(n, "little")
    header = _B_B_H.pack(first, 0xFE, n) if n < 65536 else _B_B_Q.pack(first, 0xFF, n)
    return header + mask + apply_mask(payload, mask)


def _close_payload(code: int | None, reason: str) -> bytes:
    """Validate a close code and reason and return the Close frame payload."""
    if code is None:
        if reason:
            raise ValueError("a close reason needs a status code (RFC 6455 5.5.1)")
        return b""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"close code must be an int or None, not {type(code).__name__}")
    if not may_be_sent(code):
        raise ValueError(
            f"close code {code} must not be sent in a Close frame; allowed are "
            "1000-1003, 1007-1014 and 3000-4999 (RFC 6455 7.4)")
    if not isinstance(reason, str):
        raise TypeError(f"close reason must be str, not {type(reason).__name__}")
    raw = reason.encode("utf-8")
    if len(raw) > MAX_REASON_BYTES:
        raise ValueError(
            f"close reason is {len(raw)} UTF-8 bytes; at most {MAX_REASON_BYTES} "
            "fit in a Close frame (RFC 6455 5.5)")
    return _U16.pack(code) + raw


def build_close(code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "", *,
                mask: bytes | None = None) -> bytes:
    """Encode a whole Close frame (RFC 6455 section 5.5.1) and return its bytes.

    ``build_close(1002, "...")`` answers a peer that broke the protocol;
    ``build_close(1013, "...")`` is how a loaded server sheds a client, which
    should come back later with exponential backoff. ``build_close(None)``
    makes the empty Close frame (no status code).

    Raises ValueError for a code that must never be sent (below 1000, 1004,
    1005, 1006, 1015, unassigned 1016-2999, 5000 and above), a reason without
    a code, or a reason longer than 123 bytes of UTF-8; TypeError for values
    of the wrong type.
    """
    return build_frame(Opcode.CLOSE, _close_payload(code, reason), mask=mask)


def parse_close_payload(payload: bytes, offset: int = 0) -> tuple[int | None, str]:
    """Decode a Close frame's payload into ``(code, reason)`` (RFC 6455 5.5.1).

    An empty payload gives ``(None, "")``: the peer sent no status code.
    Raises ProtocolError 1002 for a 1-byte payload or a code that may not
    appear on the wire (section 7.4), and ProtocolError 1007 for a reason
    that is not valid UTF-8. ``offset`` is reported in those errors: the
    position of the Close frame in the stream, when known.
    """
    n = len(payload)
    if n == 0:
        return None, ""
    if n == 1:
        raise ProtocolError(Violation.CLOSE_PAYLOAD_TOO_SHORT,
                            "close frame payload of 1 byte", offset)
    code = (payload[0] << 8) | payload[1]
    if not may_be_sent(code):
        raise ProtocolError(Violation.CLOSE_CODE_NOT_ALLOWED,
                            f"close code {code} is not allowed on the wire", offset)
    try:
        reason = bytes(payload[2:]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(Violation.CLOSE_REASON_NOT_UTF8,
                            f"close reason is not UTF-8 (byte {exc.start + 2})",
                            offset) from None
    return code, reason
