"""The frame and close-frame builders, and the Close payload (RFC 6455 5.2, 5.5.1).

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
By default it refuses to produce a frame that a strict receiver would reject
(the same rules the parser applies), so a stack built on wsframe cannot become
the "broken peer" itself; ``validate=False`` builds broken frames on purpose.
"""

from __future__ import annotations

from struct import Struct

from .checks import check_bytes
from .close_codes import CloseCode, may_be_sent
from .errors import MAX_REASON_BYTES, ProtocolError, Violation
from .header_bits import HEAD_16, HEAD_64, OPCODES, RSV1, RSV2, RSV3, first_byte_problem
from .masking import encode_masked
from .opcodes import Opcode

__all__ = ["build_close", "build_frame", "encode_frame", "fit_close", "parse_close_payload"]

_U16 = Struct("!H")


def _opcode(opcode: object, validate: bool) -> int:
    """The opcode as an int 0-15; with ``validate``, one RFC 6455 defines."""
    if isinstance(opcode, bool) or not isinstance(opcode, int):
        raise TypeError(f"opcode must be an Opcode or an int, not {type(opcode).__name__}")
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"opcode must be 0x0-0xF (4 bits), not {opcode!r} (RFC 6455 5.2)")
    if validate and opcode not in OPCODES:
        raise ValueError(f"opcode 0x{opcode:X} is reserved (RFC 6455 5.2); "
                         "pass validate=False to build it anyway")
    return int(opcode)


def _refuse(problem: str, section: str) -> ValueError:
    return ValueError(f"{problem} ({section}); a strict receiver fails the connection on "
                      "it: pass validate=False to build it anyway")


def _check_frame(b0: int, payload: bytes) -> None:
    """What a strict receiver checks in a frame, checked before sending it."""
    problem = first_byte_problem(b0, RSV1 | RSV2 | RSV3)   # RSV only where allowed
    if problem is not None:
        violation, detail = problem
        raise _refuse(detail, violation.citation)
    opcode = OPCODES[b0 & 0x0F]
    if opcode.is_control and len(payload) > 125:
        raise _refuse(f"a {opcode.name} payload is at most 125 bytes, got {len(payload)}",
                      Violation.CONTROL_FRAME_TOO_LONG.citation)
    if opcode is Opcode.CLOSE:
        try:
            parse_close_payload(payload)
        except ProtocolError as exc:
            raise _refuse(f"a Close payload: {exc.reason}", exc.violation.citation) from None
    elif opcode is Opcode.TEXT and b0 & 0x80 and not b0 & RSV1:
        # A whole, uncompressed text message: its payload is its UTF-8 (8.1).
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _refuse(f"a whole text message must be UTF-8; byte {exc.start} is not",
                          Violation.TEXT_NOT_UTF8.citation) from None


def build_frame(opcode: Opcode | int, payload: bytes = b"", *, fin: bool = True,
                rsv1: bool = False, rsv2: bool = False, rsv3: bool = False,
                mask: bytes | None = None, validate: bool = True) -> bytes:
    """Encode one frame (RFC 6455 section 5.2) and return its bytes.

    ``mask`` is the 4-byte masking key (clients mask every frame, section
    5.3) or None for an unmasked frame (servers). The payload length always
    uses its minimal encoding.

    With ``validate`` (the default), a frame that a strict receiver would
    reject raises ValueError naming the rule:

    * a reserved opcode (0x3-0x7, 0xB-0xF; section 5.2);
    * a control frame (Close, Ping, Pong) with FIN clear or more than 125
      bytes of payload (5.5);
    * RSV bits on a control frame or a continuation frame (RFC 7692 6: an
      extension uses them on the first frame of a message only);
    * a Close payload of 1 byte, a code that may not be sent (7.4) or a
      reason that is not UTF-8 (5.5.1);
    * a final, uncompressed TEXT frame (a whole message) that is not UTF-8
      (8.1). Fragments of a text message are not checked: a character may
      span two of them.

    RSV bits on the first frame of a data message are allowed: they belong
    to whatever extension the caller negotiated. ``validate=False`` builds
    any of the above on purpose (fuzzers, tests, teaching); the opcode must
    still fit in 4 bits and the mask must still be 4 bytes.
    """
    op = _opcode(opcode, validate)
    if payload.__class__ is not bytes:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        payload = bytes(payload)
    first = (0x80 if fin else 0) | (RSV1 if rsv1 else 0) | (
        RSV2 if rsv2 else 0) | (RSV3 if rsv3 else 0) | op
    if validate:
        _check_frame(first, payload)
    if mask is not None and (mask.__class__ is not bytes or len(mask) != 4):
        if not isinstance(mask, (bytes, bytearray)) or len(mask) != 4:
            raise ValueError(
                f"mask must be a 4-byte masking key or None, not {mask!r} (RFC 6455 5.3)")
        mask = bytes(mask)
    return encode_frame(first, payload, mask)


def encode_frame(first: int, payload: bytes, mask: bytes | None) -> bytes:
    """The bytes of a frame whose first header byte is ``first``: no checks at all.

    The one encoder behind `build_frame` (which checks its arguments first)
    and `MessageWriter` (which only builds valid frames): the minimal length
    encoding (5.2), then the masking key and the masked payload (5.3).
    """
    n = len(payload)
    if mask is None:
        if n < 126:
            return bytes((first, n)) + payload
        if n < 65536:
            return HEAD_16.pack(first, 126, n) + payload
        return HEAD_64.pack(first, 127, n) + payload
    return encode_masked(first, payload, mask)      # masking.py: one C call where built


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
    try:
        raw = reason.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"close reason is not encodable as UTF-8 (character {exc.start} is "
                         "a lone surrogate); RFC 6455 5.5.1 requires UTF-8") from None
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
    # _close_payload checked everything a receiver checks in a Close payload.
    return build_frame(Opcode.CLOSE, _close_payload(code, reason), mask=mask, validate=False)


def fit_close(code: int | None, reason: str = "") -> tuple[int | None, str]:
    """Make any close code and reason ones that may be sent (RFC 6455 5.5.1, 7.4).

    For a boundary where codes come from elsewhere (an application's close
    code, an ASGI ``websocket.close``): `build_close` and ``close()`` refuse
    what may not travel, this maps it instead. A sendable code is kept;
    1005 (no status) becomes no code, the empty Close frame; 1006 and 1015
    (pseudo-codes of a failed connection or TLS handshake) become 1011
    (internal error); every other code that may not be sent (below 1000,
    1004, unassigned 1016-2999, 5000 and up) becomes 1000. The reason is cut
    to 123 UTF-8 bytes at a character boundary (a lone surrogate becomes
    "?"), and dropped where there is no code. Returns ``(code, reason)``.
    """
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        raise TypeError(f"code must be an int or None, not {type(code).__name__}")
    if not isinstance(reason, str):
        raise TypeError(f"reason must be a str, not {type(reason).__name__}")
    if code is not None and not may_be_sent(code):
        code = (None if code == CloseCode.NO_STATUS_RCVD else
                CloseCode.INTERNAL_ERROR if code in (CloseCode.ABNORMAL_CLOSURE,
                                                     CloseCode.TLS_HANDSHAKE) else
                CloseCode.NORMAL_CLOSURE)
    if code is None:
        return None, ""
    raw = reason.encode("utf-8", "replace")[:MAX_REASON_BYTES]
    return code, raw.decode("utf-8", "ignore")      # a character cut in two is dropped


def parse_close_payload(payload: bytes, offset: int = 0) -> tuple[int | None, str]:
    """Decode a Close frame's payload into ``(code, reason)`` (RFC 6455 5.5.1).

    An empty payload gives ``(None, "")``: the peer sent no status code.
    Raises ProtocolError 1002 for a 1-byte payload or a code that may not
    appear on the wire (section 7.4), and ProtocolError 1007 for a reason
    that is not valid UTF-8. ``offset`` is reported in those errors: the
    position of the Close frame in the stream, when known.
    """
    payload = check_bytes("payload", payload)
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
