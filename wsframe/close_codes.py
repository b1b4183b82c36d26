"""Close status codes (RFC 6455 section 7.4 and the IANA registry).

Strategy: one IntEnum for the sixteen codes the IANA "WebSocket Close Code
Number Registry" assigns in 1000-1015, and one predicate, `may_be_sent`, that
says whether a code may appear in a Close frame on the wire. The parser, the
close-frame builder and the CLI all ask that predicate, so the rule lives once.

The knowledge *about* each code (meaning, when you typically see it, what to
do, reconnect advice) is the registry at the end of this module: `explain`
returns it as data for any code, `compare` sets two codes side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

__all__ = ["COMPARED_FIELDS", "CloseCode", "CloseCodeInfo", "Comparison", "Retry", "compare",
           "explain", "may_be_sent", "registry"]


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


# -- the registry: what each code means and what to do ------------------------

class Retry(Enum):
    """What a client should do about reconnecting after a close code."""

    NOT_NEEDED = "no reconnect needed: the session ended on purpose"
    WITH_BACKOFF = "reconnect, with exponential backoff"
    MAYBE = "the application decides; if it reconnects, with backoff"
    NOT_UNCHANGED = "do not reconnect unchanged: fix the cause first"


@dataclass(frozen=True)
class CloseCodeInfo:
    """Everything wsframe knows about a close code, or a range of codes.

    Attributes:
        code, last: the code, or the first and last code of a range.
        name: the name in the IANA registry (or of the range).
        constant: the `CloseCode` member name, None for ranges.
        meaning: what the code says.
        when_seen: when you typically see it.
        what_to_do: what to do about it.
        sendable: whether it may appear in a Close frame (RFC 6455 7.4).
        sent_by: who sends it.
        retry: reconnect advice, as a `Retry` value; ``reconnect`` says it in words.
        reference: where the code is defined.
    """

    code: int
    last: int
    name: str
    constant: str | None
    meaning: str
    when_seen: str
    what_to_do: str
    sendable: bool
    sent_by: str
    retry: Retry
    reconnect: str
    reference: str

    @property
    def label(self) -> str:
        """``"1002 Protocol error"`` or ``"4000-4999 Private use"``."""
        span = str(self.code) if self.code == self.last else f"{self.code}-{self.last}"
        return f"{span} {self.name}"


_RFC = "RFC 6455 section 7.4.1"
_IANA = "IANA WebSocket Close Code Number Registry"
_EITHER = "either endpoint"
_NOBODY = "nobody: a local pseudo-code for APIs and logs, never sent"

_CODES = [
    CloseCodeInfo(
        1000, 1000, "Normal Closure", "NORMAL_CLOSURE",
        "The connection did what it was opened for and is being shut down on purpose.",
        "A user logs out or closes a view, a job finishes, a server ends a session cleanly.",
        "Nothing is wrong. Open a new connection only when the application needs one.",
        True, _EITHER, Retry.NOT_NEEDED,
        "Not needed; connect again only when there is new work.", _RFC),
    CloseCodeInfo(
        1001, 1001, "Going Away", "GOING_AWAY",
        "The endpoint is leaving: a server shutting down, or a browser leaving the page.",
        "Server deploys and shutdowns; a browser tab that navigates away or closes.",
        "A client whose server went away may come back after a pause; when the client "
        "itself left, nothing needs doing.",
        True, _EITHER, Retry.MAYBE,
        "Maybe: a client may reconnect after a backoff if it still needs the service.",
        _RFC),
    CloseCodeInfo(
        1002, 1002, "Protocol error", "PROTOCOL_ERROR",
        "The endpoint received bytes that break the WebSocket protocol (RFC 6455) and "
        "is failing the connection.",
        "A frame that cannot be valid: a malformed header, wrong masking (an unmasked "
        "client frame, a masked server frame), a reserved opcode or RSV bit, broken "
        "fragmentation. Usually a buggy client library, or a proxy that mangles frames.",
        "Do not retry unchanged: the same bytes fail the same way. Capture the traffic "
        "(`wsframe dissect` names the broken rule), fix the peer so it follows RFC 6455 "
        "framing, and check intermediaries (proxies, load balancers) that rewrite frames.",
        True, _EITHER, Retry.NOT_UNCHANGED,
        "No: reconnecting with the same client or path reproduces the error.", _RFC),
    CloseCodeInfo(
        1003, 1003, "Unsupported Data", "UNSUPPORTED_DATA",
        "The endpoint received a type of data it cannot accept.",
        "Binary messages sent to a text-only endpoint, or the other way round.",
        "Send the message type the peer expects; check the application protocol.",
        True, _EITHER, Retry.NOT_UNCHANGED,
        "No: the same messages will be refused again.", _RFC),
    CloseCodeInfo(
        1004, 1004, "Reserved", "RESERVED",
        "Reserved by RFC 6455; no meaning is defined.",
        "Never, from a correct peer: receiving it is a protocol error (1002).",
        "Nothing to handle; a peer that sends it is broken.",
        False, "nobody: reserved", Retry.NOT_UNCHANGED,
        "A peer that sends it is broken: fix it first.", _RFC),
    CloseCodeInfo(
        1005, 1005, "No Status Rcvd", "NO_STATUS_RCVD",
        "The peer's Close frame carried no status code.",
        "In APIs such as the browser's CloseEvent.code when the peer sent an empty "
        "Close frame. Never on the wire.",
        "Treat it as a normal closure without details.",
        False, _NOBODY, Retry.NOT_NEEDED,
        "Usually not needed: the peer closed deliberately, it just gave no reason.", _RFC),
    CloseCodeInfo(
        1006, 1006, "Abnormal Closure", "ABNORMAL_CLOSURE",
        "The connection ended without any Close frame.",
        "A TCP reset, a network drop, a crashed peer, a proxy idle timeout. Reported by "
        "APIs, never on the wire.",
        "Reconnect with backoff; if it repeats, look at the network path, proxy "
        "timeouts (send pings to keep idle connections alive) and server crashes.",
        False, _NOBODY, Retry.WITH_BACKOFF,
        "Yes, with exponential backoff.", _RFC),
    CloseCodeInfo(
        1007, 1007, "Invalid frame payload data", "INVALID_FRAME_PAYLOAD_DATA",
        "The endpoint received data inconsistent with the message type.",
        "A text message (or a close reason) that is not valid UTF-8; a compressed "
        "message that does not inflate.",
        "Fix the sender's encoding (text must be UTF-8); do not retry unchanged.",
        True, _EITHER, Retry.NOT_UNCHANGED,
        "No: the same data fails again.", _RFC),
    CloseCodeInfo(
        1008, 1008, "Policy Violation", "POLICY_VIOLATION",
        "The endpoint received a message that breaks its policy; the generic code "
        "when no more specific one fits or details are hidden on purpose.",
        "Failed authentication or authorization, a forbidden origin, application rules.",
        "Check credentials, permissions and the application's rules before retrying.",
        True, _EITHER, Retry.NOT_UNCHANGED,
        "No: fix credentials or behaviour first.", _RFC),
    CloseCodeInfo(
        1009, 1009, "Message Too Big", "MESSAGE_TOO_BIG",
        "The endpoint received a frame or message too big for it to process.",
        "Uploads or payloads beyond the receiver's configured limit.",
        "Send smaller messages, split data at the application level, or agree on a "
        "larger limit; do not retry unchanged.",
        True, _EITHER, Retry.NOT_UNCHANGED,
        "No: the same message is refused again.", _RFC),
    CloseCodeInfo(
        1010, 1010, "Mandatory Ext.", "MANDATORY_EXTENSION",
        "The client is closing because the server did not negotiate an extension the "
        "client requires.",
        "A client that insists on an extension (e.g. compression) the server lacks.",
        "Enable the extension on the server or drop the requirement in the client.",
        True, "client", Retry.NOT_UNCHANGED,
        "No: the handshake will fail the same way until configuration changes.", _RFC),
    CloseCodeInfo(
        1011, 1011, "Internal Error", "INTERNAL_ERROR",
        "The server met an unexpected condition that stopped it from fulfilling the "
        "request.",
        "An unhandled exception or a failing dependency in the server's handler.",
        "Look at the server's logs; a client may retry with backoff.",
        True, _EITHER, Retry.MAYBE,
        "Maybe: a retry with backoff can succeed if the fault was transient.", _RFC),
    CloseCodeInfo(
        1012, 1012, "Service Restart", "SERVICE_RESTART",
        "The server is restarting.",
        "Deploys and restarts of the service.",
        "Reconnect after a short, randomized delay; the service will be back.",
        True, "server", Retry.WITH_BACKOFF,
        "Yes, with backoff and jitter so that clients do not return all at once.", _IANA),
    CloseCodeInfo(
        1013, 1013, "Try Again Later", "TRY_AGAIN_LATER",
        "The server is running but will not keep this connection for now: it is busy "
        "and asks the client to come back later.",
        "Load shedding or connection throttling by a busy server. It is not a restart "
        "(that is 1012): the process is healthy, its capacity is used up for the moment.",
        "Come back later with exponential backoff: first wait 1 s, then twice as long "
        "after each failed attempt, randomized (jitter). Repeated 1013s point at "
        "capacity: add servers, or admit fewer concurrent connections per server.",
        True, "server", Retry.WITH_BACKOFF,
        "Yes, with exponential backoff starting at 1 s and doubling each attempt; add "
        "jitter, or every shed client returns at the same instant.", _IANA),
    CloseCodeInfo(
        1014, 1014, "Bad Gateway", "BAD_GATEWAY",
        "The server, acting as a gateway or proxy, got an invalid response from the "
        "upstream server.",
        "A WebSocket proxy whose backend misbehaves or is unreachable.",
        "Check the upstream service behind the proxy; a client may retry with backoff.",
        True, "server (a gateway or proxy)", Retry.MAYBE,
        "Maybe: retry with backoff while the upstream recovers.", _IANA),
    CloseCodeInfo(
        1015, 1015, "TLS handshake", "TLS_HANDSHAKE",
        "The TLS handshake failed, e.g. the server certificate could not be verified.",
        "Reported by APIs for wss:// connections; never on the wire.",
        "Fix certificates or TLS configuration; do not retry unchanged.",
        False, _NOBODY, Retry.NOT_UNCHANGED,
        "No: the same handshake fails again.", _RFC),
]

_RANGES = [
    CloseCodeInfo(
        0, 999, "Not used", None,
        "RFC 6455 assigns no meaning to codes below 1000.",
        "Never, from a correct peer: receiving one is a protocol error (1002).",
        "Nothing to handle; a peer that sends one is broken.",
        False, "nobody", Retry.NOT_UNCHANGED, "A peer that sends it is broken.",
        "RFC 6455 section 7.4.2"),
    CloseCodeInfo(
        1016, 1999, "Unassigned (reserved for the protocol)", None,
        "Reserved for future revisions of the protocol; no meaning yet.",
        "Never, from a correct peer: receiving one is a protocol error (1002).",
        "Nothing to handle; a peer that sends one is broken or from the future.",
        False, "nobody", Retry.NOT_UNCHANGED, "A peer that sends it is broken.",
        "RFC 6455 section 7.4.2"),
    CloseCodeInfo(
        2000, 2999, "Unassigned (reserved for extensions)", None,
        "Reserved for WebSocket extensions; none is assigned.",
        "Never, from a correct peer: receiving one is a protocol error (1002).",
        "Nothing to handle; a peer that sends one is broken.",
        False, "nobody", Retry.NOT_UNCHANGED, "A peer that sends it is broken.",
        "RFC 6455 section 7.4.2"),
    CloseCodeInfo(
        3000, 3999, "Registered by libraries and frameworks", None,
        "Codes registered with IANA, first come first served, by libraries, frameworks "
        "and applications; the meaning is whatever the registration says.",
        "Framework-specific conditions (authentication, timeouts and the like).",
        "Look the code up in the IANA registry or the framework's documentation.",
        True, _EITHER, Retry.MAYBE, "Depends on the registered meaning.",
        "RFC 6455 section 7.4.2"),
    CloseCodeInfo(
        4000, 4999, "Private use", None,
        "Free for applications; the two endpoints agree on the meaning privately.",
        "Application-defined conditions.",
        "Read the application's own documentation.",
        True, _EITHER, Retry.MAYBE, "Depends on the application's meaning.",
        "RFC 6455 section 7.4.2"),
    CloseCodeInfo(
        5000, 65535, "Invalid", None,
        "Beyond every range RFC 6455 defines.",
        "Never, from a correct peer: receiving one is a protocol error (1002).",
        "Nothing to handle; a peer that sends one is broken.",
        False, "nobody", Retry.NOT_UNCHANGED, "A peer that sends it is broken.",
        "RFC 6455 section 7.4.2"),
]

_BY_CODE = {info.code: info for info in _CODES}


def explain(code: int) -> CloseCodeInfo:
    """Return what wsframe knows about ``code`` (0-65535), as data.

    Assigned codes 1000-1015 have their own entry; every other code gets the
    entry of its range (e.g. 4000-4999 "Private use"). Raises TypeError for a
    non-integer and ValueError for a number that cannot be a close code.
    """
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"a close code is an int, not {type(code).__name__}")
    if not 0 <= code <= 65535:
        raise ValueError(f"{code} cannot be a close code: close codes are 2 bytes, 0-65535")
    info = _BY_CODE.get(code)
    if info is not None:
        return info
    return next(r for r in _RANGES if r.code <= code <= r.last)


def registry() -> list[CloseCodeInfo]:
    """Every entry: the 16 assigned codes in order, then the ranges."""
    return [*_CODES, *_RANGES]


#: The fields `compare` sets side by side, with their labels.
COMPARED_FIELDS = [
    ("name", "name"),
    ("meaning", "meaning"),
    ("when_seen", "when you see it"),
    ("what_to_do", "what to do"),
    ("sendable", "in a Close frame"),
    ("sent_by", "sent by"),
    ("reconnect", "reconnect"),
]


@dataclass(frozen=True)
class Comparison:
    """Two close codes side by side (see `compare`)."""

    left: CloseCodeInfo
    right: CloseCodeInfo
    rows: list[tuple[str, str, str]]
    summary: str


def _show(value: object) -> str:
    if isinstance(value, bool):     # the only bool field: sendable
        return "may be sent" if value else "must never be sent"
    return str(value)


def compare(a: int, b: int) -> Comparison:
    """Set two codes side by side: every compared field, and the key difference.

    ``compare(1002, 1013)`` is the model: a broken peer that must be fixed
    versus a loaded server that asks the client to come back later.
    """
    left, right = explain(a), explain(b)
    rows = [(label, _show(getattr(left, field)), _show(getattr(right, field)))
            for field, label in COMPARED_FIELDS]
    if left.retry is right.retry:
        summary = (f"Both say: {left.retry.value}.")
    else:
        summary = (f"After {left.label}: {left.retry.value}. "
                   f"After {right.label}: {right.retry.value}.")
    return Comparison(left, right, rows, summary)
