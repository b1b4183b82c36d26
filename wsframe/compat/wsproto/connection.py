"""wsproto's ``Connection``: an established WebSocket connection, on wsframe's `Connection`.

Strategy: wsframe's `wsframe.Connection` does the work, in the mode where
the caller answers (``auto_reply=False``: Pings and the peer's Close are
delivered, not answered) and in streaming mode (message pieces as they
arrive, no message size limit: wsproto has none, its embedders set their
own). This class adds what wsproto's callers rely on:

* bytes are parsed when `events` is iterated, not when they arrive, as in
  wsproto: `receive_data` only stores them, so the state changes as the
  caller reaches each event;
* wsproto's four states after the handshake. ``REMOTE_CLOSING`` comes with
  the peer's Close (or a protocol violation, reported as the
  `CloseConnection` carrying the violation's code); sending the
  `CloseConnection` answer then moves to ``CLOSED``. After a violation
  the Close frame wsframe queued (the violation's code and reason) is what
  goes out, whatever the answer event says;
* close codes that may not be sent are mapped, as wsproto does for 1005,
  1006 and 1015 and as `wsframe.fit_close` does for the rest (1004,
  unassigned codes: 1000), and the reason is cut to 123 bytes;
* wsframe's exceptions become wsproto's (`LocalProtocolError`, and
  TypeError for a text piece inside a binary message or the reverse).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator, Sequence
from enum import Enum
from typing import Any

from ... import events as _wsframe_events
from ...builders import fit_close
from ...close_codes import CloseCode
from ...connection import Connection as _WSFrameConnection
from ...connection import State as _State
from ...errors import ConnectionClosed, ProtocolError
from ...extensions.permessage_deflate import PerMessageDeflate as _Deflate
from ...roles import Role
from .events import (
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    TextMessage,
)
from .extensions import Extension, PerMessageDeflate
from .frame_protocol import CloseReason
from .utilities import LocalProtocolError

__all__ = ["CLIENT", "SERVER", "Connection", "ConnectionState", "ConnectionType"]


class ConnectionState(Enum):
    """Where a connection is: the opening handshake (RFC 6455 4), then the closing one (7)."""

    CONNECTING = 0          # the opening handshake is in progress
    OPEN = 1
    REMOTE_CLOSING = 2      # the peer sent a Close; this side answers
    LOCAL_CLOSING = 3       # this side sent a Close and waits for the peer's
    CLOSED = 4
    REJECTING = 5           # a rejection's body is being sent (or received)


class ConnectionType(Enum):
    """Which end of the connection this is."""

    CLIENT = 1
    SERVER = 2


CLIENT = ConnectionType.CLIENT
SERVER = ConnectionType.SERVER


def _close_code(code: int) -> int:
    """A received code as wsproto reports it: a `CloseReason` member when it has one."""
    try:
        return CloseReason(code)
    except ValueError:
        return code


def _codec_extensions(extensions: Sequence[Extension], client: bool) -> list[_Deflate]:
    out: list[PerMessageDeflate] = []
    for extension in extensions:
        if not extension.enabled():
            continue
        if not isinstance(extension, PerMessageDeflate):
            raise TypeError(
                f"{extension!r} is enabled, but wsframe.compat.wsproto runs only its own "
                "PerMessageDeflate: frame-level extension hooks are not reproduced "
                "(docs/embedding.md)")
        out.append(extension)
    return [extension.codec_extension(client) for extension in out]


class Connection:
    """An established WebSocket connection (after the opening handshake).

    Args:
        connection_type: `ConnectionType.CLIENT` or `ConnectionType.SERVER`.
        extensions: the extensions of the handshake; the enabled ones run.
        trailing_data: bytes received after the handshake, parsed first.
    """

    def __init__(self, connection_type: ConnectionType,
                 extensions: list[Extension] | None = None,
                 trailing_data: bytes = b"") -> None:
        self.client = connection_type is ConnectionType.CLIENT
        self._ws = _WSFrameConnection(
            Role.CLIENT if self.client else Role.SERVER, max_message_size=None, stream=True,
            extensions=_codec_extensions(extensions or [], self.client), auto_reply=False)
        self._state = ConnectionState.OPEN
        self._events: deque[Event] = deque()
        self._incoming = bytearray()
        self._parsing: Iterator[_wsframe_events.Event] | None = None
        self._eof = False           # the transport ended; its event is still to come
        self.receive_data(trailing_data)

    @property
    def state(self) -> ConnectionState:
        """The connection's state (`ConnectionState`)."""
        return self._state

    # -- sending ------------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """The bytes that send ``event``: a `Message` piece, `Ping`, `Pong` or
        `CloseConnection`. Raises `LocalProtocolError` for an event the state
        does not allow (anything but the Close answer once the peer closed)."""
        state = self._state
        try:
            if isinstance(event, Message) and state is ConnectionState.OPEN:
                self._send_data(event)
            elif isinstance(event, Ping) and state is ConnectionState.OPEN:
                self._ws.send_ping(bytes(event.payload))
            elif isinstance(event, Pong) and state is ConnectionState.OPEN:
                self._ws.send_pong(bytes(event.payload))
            elif isinstance(event, CloseConnection) and state in (
                    ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                self._send_close(event)
            else:
                raise LocalProtocolError(f"Event {event} cannot be sent in state {state}.")
        except ConnectionClosed as exc:
            raise LocalProtocolError(f"Event {event} cannot be sent: {exc}") from None
        return self._ws.data_to_send()

    def _send_data(self, event: Message[Any]) -> None:
        data = event.data
        final = bool(event.message_finished)
        try:
            if isinstance(data, str):
                self._ws.send_text(data, final=final)
            elif isinstance(data, (bytes, bytearray, memoryview)):
                self._ws.send_binary(data, final=final)
            else:
                raise TypeError("Must provide bytes or text")
        except ValueError as exc:
            if "piece by piece" in str(exc):
                raise TypeError(f"Data type mismatch inside message: {exc}") from None
            raise

    def _send_close(self, event: CloseConnection) -> None:
        code: int | None = event.code
        reason = event.reason or ""
        if code is None or code == CloseCode.NO_STATUS_RCVD:
            if reason:
                raise TypeError("cannot specify a reason without a code")
            code = None
        elif code in (CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE):
            code = CloseCode.NORMAL_CLOSURE     # what wsproto sends for local-only codes
        code, reason = fit_close(code, reason)
        if self._ws.state is _State.CLOSED:
            # A violation failed the connection: its Close frame is queued already.
            self._state = ConnectionState.CLOSED
            return
        self._ws.close(code, reason)
        self._state = (ConnectionState.CLOSED if self._state is ConnectionState.REMOTE_CLOSING
                       else ConnectionState.LOCAL_CLOSING)

    # -- receiving ------------------------------------------------------------------------

    def receive_data(self, data: bytes | None) -> None:
        """Received bytes in (parsed by `events`); None: the transport ended.

        After None the state is CLOSED and `events` reports a
        `CloseConnection` with code 1006 (RFC 6455 7.1.5) after the events
        of the bytes before it. Bytes after CLOSED raise `LocalProtocolError`.
        """
        if data is None:
            self._eof = True
            self._state = ConnectionState.CLOSED
            return
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes or None, not {type(data).__name__}")
        if self._state is ConnectionState.CLOSED:
            raise LocalProtocolError("Connection already closed.")
        if self._state is not ConnectionState.REMOTE_CLOSING and not self._eof:
            self._incoming += data

    def events(self) -> Generator[Event, None, None]:
        """The events of the bytes received so far, parsed as this is iterated.

        A generator left part-way keeps its place: the next call goes on
        from the next event.
        """
        while True:
            if self._events:
                yield self._events.popleft()
                continue
            if self._parsing is not None:
                event = self._next_event(self._parsing)
                if event is not None:
                    yield event
                continue
            if self._incoming:
                data = bytes(self._incoming)
                self._incoming.clear()
                self._parsing = self._ws.feed(data)
                continue
            if self._eof:
                self._eof = False
                self._ws.receive_eof()
                yield CloseConnection(code=CloseReason.ABNORMAL_CLOSURE)
                continue
            return

    def _next_event(self, parsing: Iterator[_wsframe_events.Event]) -> Event | None:
        """The next event from wsframe, translated (None: that feed is done)."""
        try:
            event = next(parsing)
        except StopIteration:
            self._parsing = None
            return None
        except ProtocolError as exc:
            # The Close frame with the violation's code is queued: the caller's
            # CloseConnection answer sends it.
            self._parsing = None
            self._incoming.clear()
            self._peer_closing()
            return CloseConnection(code=_close_code(exc.code), reason=exc.reason)
        if isinstance(event, _wsframe_events.TextChunk):
            return TextMessage(data=event.text, frame_finished=event.final,
                               message_finished=event.final)
        if isinstance(event, _wsframe_events.BinaryChunk):
            return BytesMessage(data=event.data, frame_finished=event.final,
                                message_finished=event.final)
        if isinstance(event, _wsframe_events.Ping):
            return Ping(payload=event.payload)
        if isinstance(event, _wsframe_events.Pong):
            return Pong(payload=event.payload)
        if isinstance(event, _wsframe_events.CloseReceived):
            self._incoming.clear()          # nothing after a Close is read (5.5.1)
            self._peer_closing()
            return CloseConnection(code=_close_code(event.code), reason=event.reason)
        raise AssertionError(f"unexpected event from wsframe in streaming mode: {event!r}")

    def _peer_closing(self) -> None:
        if self._state is ConnectionState.LOCAL_CLOSING:
            self._state = ConnectionState.CLOSED
        elif self._state is ConnectionState.OPEN:
            self._state = ConnectionState.REMOTE_CLOSING
