"""wsproto's ``frame_protocol`` names that embedders use: `Opcode` and `CloseReason`.

Only the public vocabulary is here. wsproto's frame-level machinery
(``FrameProtocol``, ``FrameDecoder``, ``Buffer``, ``MessageDecoder``, the
maskers) is not reproduced: wsframe's decoder does that work, and no
embedder reaches for it. Importing one of those names fails with an
AttributeError that says so.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["LOCAL_ONLY_CLOSE_REASONS", "MAX_CLOSE_REASON", "MAX_LIBRARY_CLOSE_REASON",
           "MAX_PRIVATE_CLOSE_REASON", "MAX_PROTOCOL_CLOSE_REASON", "MIN_CLOSE_REASON",
           "MIN_LIBRARY_CLOSE_REASON", "MIN_PRIVATE_CLOSE_REASON", "MIN_PROTOCOL_CLOSE_REASON",
           "CloseReason", "Opcode"]


class Opcode(IntEnum):
    """The frame opcodes of RFC 6455 section 5.2."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    def iscontrol(self) -> bool:
        """Whether this is a control frame's opcode (the high bit of the nibble, 5.5)."""
        return bool(self & 0x08)


class CloseReason(IntEnum):
    """The status codes of RFC 6455 section 7.4.1 (and the IANA registry's 1012, 1013).

    1004 is reserved and has no member, as in wsproto. 1005, 1006 and 1015
    are never sent in a Close frame: they report what happened locally.
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXT = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    TLS_HANDSHAKE_FAILED = 1015


#: The codes that report a local condition and never travel (RFC 6455 7.4.1).
LOCAL_ONLY_CLOSE_REASONS = (CloseReason.NO_STATUS_RCVD, CloseReason.ABNORMAL_CLOSURE,
                            CloseReason.TLS_HANDSHAKE_FAILED)

# The ranges of RFC 6455 section 7.4.2.
MIN_CLOSE_REASON = 1000
MIN_PROTOCOL_CLOSE_REASON = 1000
MAX_PROTOCOL_CLOSE_REASON = 2999
MIN_LIBRARY_CLOSE_REASON = 3000
MAX_LIBRARY_CLOSE_REASON = 3999
MIN_PRIVATE_CLOSE_REASON = 4000
MAX_PRIVATE_CLOSE_REASON = 4999
MAX_CLOSE_REASON = 4999

_OUT_OF_SCOPE = frozenset({"FrameProtocol", "FrameDecoder", "Buffer", "MessageDecoder",
                           "XorMaskerSimple", "XorMaskerNull", "ParseFailed", "RsvBits",
                           "Header", "Frame"})


def __getattr__(name: str) -> object:
    if name in _OUT_OF_SCOPE:
        raise AttributeError(
            f"wsproto.frame_protocol.{name} is frame-level machinery that "
            "wsframe.compat.wsproto does not reproduce (wsframe's decoder does that work); "
            "see docs/embedding.md")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
