"""Close status codes (RFC 6455 section 7.4 and the IANA registry).

Strategy: one IntEnum for the sixteen codes the IANA "WebSocket Close Code
Number Registry" assigns in 1000-1015, and one predicate, `may_be_sent`, that
says whether a code may appear in a Close frame on the wire. The parser, the
close-frame builder and the CLI all ask that predicate, so the rule lives once.

The knowledge *about* each code (meaning, when you see it, what to do) lives
in `wsframe.registry`; this module only holds the numbers and the wire rule.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CloseCode", "may_be_sent"]


class CloseCode(IntEnum):
    """Every code of the IANA WebSocket Close Code Number Registry, 1000-1015.

    Names follow the registry's own names. 1004 is reserved; 1005, 1006 and
    1015 are "pseudo-codes" for APIs and logs that MUST NOT be sent in a Close
    frame (RFC 6455 section 7.4.1).
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    RESERVED = 1004
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


# Codes in 1000-2999 that may travel in a Close frame: the assigned ones minus
# 1004 (reserved) and the three pseudo-codes 1005, 1006, 1015 (section 7.4.1).
# 1016-2999 are unassigned (section 7.4.2): receiving one is a protocol error.
_SENDABLE_PROTOCOL_CODES = frozenset(
    code
    for code in CloseCode
    if code not in (CloseCode.RESERVED, CloseCode.NO_STATUS_RCVD,
                    CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE)
)


def may_be_sent(code: int) -> bool:
    """Return True if ``code`` may appear in a Close frame (RFC 6455 section 7.4).

    Allowed: 1000-1003, 1007-1014 (defined by RFC 6455 and the IANA registry),
    3000-3999 (registered with IANA by libraries and frameworks) and
    4000-4999 (private use by applications). Everything else, 0-999, 1004,
    1005, 1006, 1015, unassigned 1016-2999 and 5000 and up, is not allowed.
    """
    return code in _SENDABLE_PROTOCOL_CODES or 3000 <= code <= 4999
