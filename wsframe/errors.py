"""Protocol violations and the error that reports them.

Strategy: every rule a peer can break is one member of `Violation`, carrying
the close code to answer with and the RFC section that states the rule. The
parser raises from this table, the documentation and the CLI list it, and the
tests iterate over it, so a rule and its code are written down exactly once.

`ProtocolError` is the only exception the parsing side of wsframe raises for
bad input. It carries everything a caller needs to answer the peer:
``build_close(err.code, err.reason)`` is the close frame to send.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["ConnectionClosed", "ProtocolError", "Violation", "MAX_REASON_BYTES"]

#: A Close frame's payload is at most 125 bytes (section 5.5), two of which
#: are the status code, so a reason is at most 123 bytes of UTF-8.
MAX_REASON_BYTES = 123


class Violation(Enum):
    """One rule of RFC 6455 (or RFC 7692) that received bytes can break.

    Each member's value is a tuple ``(close_code, rfc, section, rule)``; the
    attributes `code`, `rfc`, `section` and `rule` name its parts.
    """

    # -- frame header, RFC 6455 section 5.2 ---------------------------------
    RESERVED_OPCODE = (
        1002, 6455, "5.2",
        "opcodes 0x3-0x7 and 0xB-0xF are reserved; a receiver MUST fail the "
        "connection on an opcode it does not know")
    RESERVED_BITS = (
        1002, 6455, "5.2",
        "RSV1, RSV2 and RSV3 MUST be 0 unless a negotiated extension gives "
        "them a meaning")
    LENGTH_HIGH_BIT = (
        1002, 6455, "5.2",
        "the most significant bit of a 64-bit payload length MUST be 0")
    NON_MINIMAL_LENGTH = (
        1002, 6455, "5.2",
        "the minimal number of bytes MUST be used to encode the payload length")
    # -- masking, section 5.1 / 5.3 -------------------------------------------
    UNMASKED_CLIENT_FRAME = (
        1002, 6455, "5.1",
        "a client MUST mask every frame it sends; a server MUST close the "
        "connection on an unmasked frame")
    MASKED_SERVER_FRAME = (
        1002, 6455, "5.1",
        "a server MUST NOT mask frames; a client MUST close the connection on "
        "a masked frame")
    # -- control frames, section 5.5 ------------------------------------------
    FRAGMENTED_CONTROL_FRAME = (
        1002, 6455, "5.5",
        "control frames MUST NOT be fragmented (FIN must be 1)")
    CONTROL_FRAME_TOO_LONG = (
        1002, 6455, "5.5",
        "control frames MUST have a payload length of 125 bytes or less, so their "
        "length always fits the 7-bit field")
    # -- fragmentation, section 5.4 -------------------------------------------
    UNEXPECTED_CONTINUATION = (
        1002, 6455, "5.4",
        "a continuation frame may only follow a data frame with FIN=0")
    EXPECTED_CONTINUATION = (
        1002, 6455, "5.4",
        "the fragments of a message MUST NOT be interleaved with another "
        "message: after FIN=0 only continuation and control frames may come")
    # -- close frames, sections 5.5.1 and 7.4 ---------------------------------
    CLOSE_PAYLOAD_TOO_SHORT = (
        1002, 6455, "5.5.1",
        "a Close frame's payload is empty or starts with a 2-byte status code; "
        "1 byte is malformed")
    CLOSE_CODE_NOT_ALLOWED = (
        1002, 6455, "7.4",
        "a Close frame may carry 1000-1003, 1007-1014 or 3000-4999; other "
        "codes are reserved or MUST NOT be sent")
    CLOSE_REASON_NOT_UTF8 = (
        1007, 6455, "5.5.1",
        "the reason in a Close frame MUST be valid UTF-8")
    # -- message content, sections 5.6 and 8.1 --------------------------------
    TEXT_NOT_UTF8 = (
        1007, 6455, "8.1",
        "a text message MUST be valid UTF-8; the receiver fails the connection "
        "as soon as the bytes cannot be UTF-8")
    # -- limits, section 10.4 -------------------------------------------------
    FRAME_TOO_BIG = (
        1009, 6455, "10.4",
        "an endpoint MUST protect itself against frames larger than it can "
        "handle (here: larger than max_frame_size)")
    MESSAGE_TOO_BIG = (
        1009, 6455, "10.4",
        "an endpoint MUST protect itself against messages larger than it can "
        "handle after reassembly (here: larger than max_message_size)")
    # -- permessage-deflate, RFC 7692 -----------------------------------------
    EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION = (
        1002, 7692, "6",
        "an extension's RSV bit (for permessage-deflate RSV1, the Per-Message "
        "Compressed bit) MUST NOT be set on control frames or on non-first "
        "fragments of a message")
    #: The name this rule had while only RSV1 was meant: an alias, kept for
    #: one release (it was raised for RSV2 and RSV3 as well).
    COMPRESSED_CONTROL_OR_CONTINUATION = EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION
    INVALID_COMPRESSED_DATA = (
        1007, 7692, "6.2",
        "a compressed message MUST inflate to valid DEFLATE output")

    def __init__(self, code: int, rfc: int, section: str, rule: str) -> None:
        self.code = code
        self.rfc = rfc
        self.section = section
        self.rule = rule

    @property
    def citation(self) -> str:
        """The rule's source, e.g. ``"RFC 6455 section 5.2"``."""
        return f"RFC {self.rfc} section {self.section}"


def _fit_reason(text: str) -> str:
    """Cut ``text`` to at most MAX_REASON_BYTES of UTF-8 without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= MAX_REASON_BYTES:
        return text
    return raw[:MAX_REASON_BYTES].decode("utf-8", "ignore")


class ProtocolError(Exception):
    """The peer broke RFC 6455; the connection must be failed.

    Attributes:
        code: the close code to send back (1002, 1007 or 1009).
        reason: a short explanation, at most 123 UTF-8 bytes so that it fits
            in a Close frame: ``build_close(err.code, err.reason)``.
        offset: absolute position in the received byte stream of the first
            byte of the frame in which the violation was found. Code that
            does not know the stream (an extension inflating a payload) leaves
            it -1 ("not known yet"), and the layer that knows attaches it with
            `at`; errors that `feed` raises always carry it.
        violation: the `Violation` (rule) that was broken.
        rfc, section: where that rule is written, e.g. 6455 and ``"5.2"``.
    """

    def __init__(self, violation: Violation, detail: str, offset: int = -1) -> None:
        self.violation = violation
        self.code: int = violation.code
        self.reason: str = _fit_reason(detail)
        self.offset: int = offset
        self.rfc: int = violation.rfc
        self.section: str = violation.section
        super().__init__(self.reason)

    def at(self, offset: int) -> ProtocolError:
        """Attach the stream offset of the frame, if none is known yet; return self."""
        if self.offset < 0:
            self.offset = offset
        return self

    def __str__(self) -> str:
        where = "" if self.offset < 0 else f", frame at offset {self.offset}"
        return f"{self.reason} (close code {self.code}, {self.violation.citation}{where})"

    def __reduce__(self) -> tuple[type[ProtocolError], tuple[Violation, str, int]]:
        # Exceptions pickle their ``args``; ours are not the constructor's.
        return (ProtocolError, (self.violation, self.reason, self.offset))


class ConnectionClosed(RuntimeError):
    """Something was to be sent after this side's Close frame, or after the
    connection closed or failed: RFC 6455 5.5.1 allows no data after a Close.
    The message says which."""
