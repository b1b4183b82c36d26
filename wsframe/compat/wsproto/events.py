"""wsproto's events: what a connection reports and what it is asked to send.

Frozen dataclasses with wsproto's field names, defaults and order, so that
embedders build and match them unchanged. The handshake events carry HTTP
data; the others map one to one onto wsframe's events (see `connection`).
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from .typing import Headers

if TYPE_CHECKING:
    from .extensions import Extension

__all__ = ["AcceptConnection", "BytesMessage", "CloseConnection", "Event", "Message", "Ping",
           "Pong", "RejectConnection", "RejectData", "Request", "TextMessage"]


class Event(ABC):  # noqa: B024 (a marker base, as in wsproto)
    """The base class of every event."""


@dataclass(frozen=True)
class Request(Event):
    """A client's opening handshake: received by a server, sent by a client.

    ``extensions`` holds the offered extensions: strings (one per offer)
    when received, `Extension` objects to offer when sending.
    ``extra_headers`` are the other headers (not Host, the extension offers
    or the subprotocols), names lower-cased when received.
    """

    host: str
    target: str
    extensions: Sequence[Extension] | Sequence[str] = field(default_factory=list)
    extra_headers: Headers = field(default_factory=list)
    subprotocols: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AcceptConnection(Event):
    """The server's acceptance (101): sent by a server, received by a client.

    A server lists the extensions it supports (each accepts or declines the
    client's offer); a client receives the ones that were agreed.
    """

    subprotocol: str | None = None
    extensions: list[Extension] = field(default_factory=list)
    extra_headers: Headers = field(default_factory=list)


@dataclass(frozen=True)
class RejectConnection(Event):
    """Any answer but 101: the status and headers of the HTTP response.

    Sending it with ``has_body=True`` leaves the response open for
    `RejectData` events; with False the response ends at once
    (``Content-Length: 0``). Received, ``has_body`` is True unless the
    status was an informational one other than 101.
    """

    status_code: int = 400
    headers: Headers = field(default_factory=list)
    has_body: bool = False


@dataclass(frozen=True)
class RejectData(Event):
    """A piece of a rejection's body; ``body_finished`` on the last one."""

    data: bytes
    body_finished: bool = True


@dataclass(frozen=True)
class CloseConnection(Event):
    """A Close frame, received or to send (RFC 6455 5.5.1).

    Nothing answers the peer's Close by itself: send `response` back while
    the connection is in ``REMOTE_CLOSING``. ``code`` 1005 means the
    peer's frame had no code; 1006 that the transport ended without one.
    """

    code: int
    reason: str | None = None

    def response(self) -> CloseConnection:
        """The Close to send back: the same code and reason."""
        return CloseConnection(code=self.code, reason=self.reason)


T = TypeVar("T", bytes | bytearray, str)


@dataclass(frozen=True)
class Message(Event, Generic[T]):
    """A piece of a data message (the base of `TextMessage` and `BytesMessage`).

    Received: one piece as it arrived; ``message_finished`` on the
    message's last piece. To send: ``data`` is a piece (str for text, bytes
    for binary) and ``message_finished=False`` keeps the message open for
    more pieces of the same kind. ``frame_finished`` is informational only.
    """

    data: T
    frame_finished: bool = True
    message_finished: bool = True


@dataclass(frozen=True)
class TextMessage(Message[str]):
    """A piece of a text message (decoded, valid UTF-8)."""


@dataclass(frozen=True)
class BytesMessage(Message[bytes | bytearray]):
    """A piece of a binary message."""


@dataclass(frozen=True)
class Ping(Event):
    """A Ping frame. Nothing answers it by itself: send `response` back (5.5.2)."""

    payload: bytes = b""

    def response(self) -> Pong:
        """The Pong that answers this Ping (the same payload)."""
        return Pong(payload=self.payload)


@dataclass(frozen=True)
class Pong(Event):
    """A Pong frame (5.5.3)."""

    payload: bytes = b""
