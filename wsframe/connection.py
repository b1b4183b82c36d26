"""Connection: both directions of one WebSocket connection and its closing handshake.

Strategy: `MessageReader` and `MessageWriter` each keep the rule of their own
direction (nothing is read after the peer's Close, nothing is sent after
ours). Whether the *connection* is open, closing or closed, which Close
frame answers which, and what to send when the peer breaks the protocol, is
decided here and only here, so that an embedder cannot send a second Close
frame or forget the reply:

* ``OPEN``: messages flow both ways.
* ``CLOSING``: this side sent a Close frame (`close`) and waits for the
  peer's (RFC 6455 5.5.1, 7.1.2); the caller closes TCP when it arrives or a
  timeout of its own expires.
* ``REMOTE_CLOSING`` (only with ``auto_reply=False``): the peer sent a Close
  frame and the caller has not answered yet; `close` sends the answer.
* ``CLOSED``: both Close frames were exchanged, or the connection failed
  (a `ProtocolError`, or `fail`), or the transport ended (`receive_eof`):
  the Close frame to send, if any, is queued, and everything after is
  ignored. A server then closes TCP (7.1.1).

Who answers: by default (``auto_reply=True``) the connection answers Pings
with Pongs and the peer's Close with the Close reply itself, which is what
an application server wants (the example server, uvicorn). A stack that
answers for itself, as wsproto's users do (``ping.response()``,
``close.response()``), passes ``auto_reply=False``. Either way a violation
is answered here, with the Close frame carrying its code: that answer
needs no decision.

Everything goes out in wire order. `feed` parses all the bytes at once,
but each event takes effect as the caller's loop reaches it: a Ping is
answered (RFC 6455 5.5.2) and the peer's Close is answered, or a violation
fails the connection, only when the loop gets there. So the echo of a
message that came before the peer's Close in the same read goes out before
the Close reply, and a Ping before that Close gets its Pong first. Events
the caller leaves unread take effect at the next `feed`.

Sans-I/O like the rest: received bytes go in through `feed`, and everything
to send (messages, pongs, Close frames) comes out of `data_to_send`. No
clock: timeouts belong to the caller.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from typing import TYPE_CHECKING, SupportsIndex

from .checks import Flag, check_extensions
from .close_codes import CloseCode
from .errors import ConnectionClosed, ProtocolError
from .events import CloseReceived, Event, Ping
from .messages import DEFAULT_MAX_MESSAGE_SIZE, FOLLOW_MESSAGE_LIMIT, MessageReader
from .roles import Role
from .writer import MessageWriter

if TYPE_CHECKING:
    from .extensions.base import Extension
    from .messages import _FollowMessageLimit

__all__ = ["Connection", "State"]


class State(Enum):
    """Where a connection is in its closing handshake (RFC 6455 7.1)."""

    OPEN = "open"
    CLOSING = "closing"     # this side sent a Close frame and waits for the peer's
    REMOTE_CLOSING = "remote closing"   # the peer sent one; the caller answers (auto_reply=False)
    CLOSED = "closed"       # both sent, or the connection failed, or the transport ended


class Connection:
    """One WebSocket connection, both directions, and the owner of its closing handshake.

    Args:
        role: `Role.SERVER` or `Role.CLIENT`.
        max_message_size, max_frame_size, stream: as for `MessageReader`.
        extensions: negotiated extensions, for both directions.
        mask_source: as for `MessageWriter`.
        auto_reply: answer Pings and the peer's Close here (the default); with
            False the caller does, with `send_pong` and `close` (see above).
    """

    __slots__ = ("_auto_reply", "_eof", "_feeds", "_outgoing", "_pending", "_pending_error",
                 "_reader", "_writer", "close_received", "failure", "role", "state")

    def __init__(self, role: Role, *,
                 max_message_size: SupportsIndex | None = DEFAULT_MAX_MESSAGE_SIZE,
                 max_frame_size: SupportsIndex | _FollowMessageLimit | None
                 = FOLLOW_MESSAGE_LIMIT,
                 stream: Flag = False, extensions: Iterable[Extension] = (),
                 mask_source: Callable[[int], bytes] = os.urandom,
                 auto_reply: Flag = True) -> None:
        extensions = check_extensions(extensions)     # once, for both directions
        self._reader = MessageReader(role, max_message_size=max_message_size,
                                     max_frame_size=max_frame_size, stream=stream,
                                     extensions=extensions)
        self._writer = MessageWriter(role, mask_source=mask_source, extensions=extensions)
        self.role = role
        self.state = State.OPEN
        self._auto_reply = bool(auto_reply)
        self._eof = False
        #: The peer's Close frame, once it arrived.
        self.close_received: CloseReceived | None = None
        #: The violation that failed the connection, if one did.
        self.failure: ProtocolError | None = None
        self._outgoing: list[bytes] = []
        # Parsed events whose effect (Pong, Close reply, state) is still to come,
        # and the violation after them: see `feed`.
        self._pending: deque[Event] = deque()
        self._pending_error: ProtocolError | None = None
        # Counts calls to `feed`: an iterator from an earlier call stops, so it
        # never yields events that a later call parsed.
        self._feeds = 0

    # -- receiving ----------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[Event]:
        """Received bytes in; events out (see `MessageReader.feed`).

        All of ``data`` is parsed at once; each event takes effect as the
        iterator yields it, so that whatever the caller sends in answer goes
        out in wire order:

        * a `Ping` is answered with its Pong (queued in `data_to_send`) while
          OPEN; the event is still delivered;
        * a `CloseReceived` is answered with the Close reply unless this side
          already sent a Close frame; either way the state is then CLOSED;
        * if the peer broke the protocol, the iterator raises the
          `ProtocolError` after the events before it, with the Close frame
          carrying its code queued and the state CLOSED.

        Events left unread take effect at the next `feed` (without being
        delivered), and the iterator of an earlier call stops there. Once
        CLOSED, received bytes are ignored.
        """
        self._settle()
        self._feeds += 1
        if self.state is State.CLOSED:
            return iter(())
        events: list[Event] = []
        try:
            for event in self._reader.feed(data):
                events.append(event)
        except ProtocolError as exc:
            self._pending_error = exc
        self._pending.extend(events)
        return self._play(self._feeds)

    def _play(self, feed: int) -> Iterator[Event]:
        pending = self._pending
        while pending and feed == self._feeds:
            event = pending.popleft()
            self._take_effect(event)
            yield event
        error = self._pending_error
        if error is not None and feed == self._feeds:
            self._pending_error = None
            self.fail(error)
            raise error

    def _take_effect(self, event: Event) -> None:
        if isinstance(event, Ping):
            if self.state is State.OPEN and self._auto_reply:
                self._outgoing.append(self._writer.pong(event.payload))
        elif isinstance(event, CloseReceived):
            self._peer_closed(event)

    def _settle(self) -> None:
        """Give events the caller left unread their effect, in order."""
        while self._pending:
            self._take_effect(self._pending.popleft())
        if self._pending_error is not None:
            error, self._pending_error = self._pending_error, None
            self.fail(error)

    def _peer_closed(self, event: CloseReceived) -> None:
        self.close_received = event
        if self.state is State.OPEN:
            if not self._auto_reply:
                self.state = State.REMOTE_CLOSING       # the caller answers with close()
                return
            # The reply echoes the peer's code and reason (or is empty, 1005).
            self._outgoing.append(self._writer.close_reply(event))
        self.state = State.CLOSED

    def receive_eof(self) -> None:
        """The transport ended (the peer closed TCP, or it broke).

        The state becomes CLOSED and nothing more is sent: no Close frame is
        owed on a connection that is gone. Without a Close frame from the
        peer, `close_code` is then 1006 (RFC 6455 7.1.5: abnormal closure).
        Events left unread take effect first.
        """
        self._settle()
        self._feeds += 1            # an iterator still held yields nothing more
        if self.state is not State.CLOSED:
            self._eof = True
            self.state = State.CLOSED

    # -- sending --------------------------------------------------------------------------

    def _check_open(self, what: str) -> None:
        if self.state is not State.OPEN:
            why = "the connection failed" if self.failure is not None else (
                "the transport ended" if self._eof else
                "the peer sent a Close frame: only close() may answer it"
                if self.state is State.REMOTE_CLOSING else
                "the peer closed the connection" if self.close_received is not None
                else "this side sent a Close frame")
            raise ConnectionClosed(f"cannot send {what}: {why} (RFC 6455 5.5.1)")

    def send_text(self, text: str, *, fragment_size: int | None = None,
                  compress: bool = True, final: bool = True) -> None:
        """Queue a text message, or a piece of one (see `MessageWriter.text`)."""
        self._check_open("a text message")
        self._outgoing.append(self._writer.text(text, fragment_size=fragment_size,
                                                compress=compress, final=final))

    def send_binary(self, data: bytes | bytearray | memoryview, *,
                    fragment_size: int | None = None, compress: bool = True,
                    final: bool = True) -> None:
        """Queue a binary message, or a piece of one (see `MessageWriter.binary`)."""
        self._check_open("a binary message")
        self._outgoing.append(self._writer.binary(data, fragment_size=fragment_size,
                                                  compress=compress, final=final))

    def send_ping(self, payload: bytes = b"") -> None:
        """Queue a Ping frame."""
        self._check_open("a Ping frame")
        self._outgoing.append(self._writer.ping(payload))

    def send_pong(self, payload: bytes = b"") -> None:
        """Queue an unsolicited Pong frame (a heartbeat, 5.5.3); Pings are answered
        by `feed` already."""
        self._check_open("a Pong frame")
        self._outgoing.append(self._writer.pong(payload))

    def close(self, code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the closing handshake: queue a Close frame; the state becomes CLOSING.

        In REMOTE_CLOSING (``auto_reply=False``) this is the answer to the
        peer's Close, and the state becomes CLOSED. Does nothing once a Close
        frame was sent or the connection is CLOSED: a connection never sends
        two (`MessageWriter.close` behaves the same). ``code=None`` sends the
        empty Close frame. Codes and reasons are checked as by `build_close`
        (`fit_close` makes any code and reason sendable).
        """
        if self.state is State.OPEN:
            self._outgoing.append(self._writer.close(code, reason))
            self.state = State.CLOSING
        elif self.state is State.REMOTE_CLOSING:
            self._outgoing.append(self._writer.close(code, reason))
            self.state = State.CLOSED

    def fail(self, error: ProtocolError) -> None:
        """Fail the connection (RFC 6455 7.1.7): queue the Close frame carrying
        ``error``'s code and reason (unless one was sent), then stop: the state
        is CLOSED, received bytes are ignored, nothing more can be sent.
        Once CLOSED already (after the closing handshake or an earlier
        failure), it does nothing: `failure` stays as it was."""
        if not isinstance(error, ProtocolError):
            raise TypeError(f"error must be a ProtocolError, not {error!r}")
        if self.state is State.CLOSED:
            return          # closed cleanly or failed already: nothing to fail
        self.failure = error
        self._outgoing.append(self._writer.close(error.code, error.reason))   # b"" if sent
        self.state = State.CLOSED

    def data_to_send(self) -> bytes:
        """Everything queued to send, in order (then the queue is empty).

        It holds the effects of the events iterated so far: it may be called in
        the middle of a `feed` loop (events not reached yet are not acted on).
        """
        out = b"".join(self._outgoing)
        self._outgoing.clear()
        return out

    # -- what happened ----------------------------------------------------------------------

    @property
    def close_sent(self) -> CloseReceived | None:
        """The Close frame this side sent, as ``(code, reason)`` (1005: it had no
        code), or None while none was sent (the writer's record)."""
        return self._writer.close_sent

    @property
    def close_code(self) -> int | None:
        """The code the connection ended with, as ASGI and the browser API report it:
        the peer's (1005 if its Close frame had none); else the one this side
        sent when it failed the connection; else 1006 if the transport ended
        (RFC 6455 7.1.5); else the one this side sent; None while no Close
        frame was exchanged."""
        sent = self._writer.close_sent
        if self.close_received is not None:
            return self.close_received.code
        if sent is not None and (self.failure is not None or not self._eof):
            return sent.code
        return CloseCode.ABNORMAL_CLOSURE if self._eof else None

    @property
    def buffered(self) -> int:
        """Received bytes held for a message in progress (see `MessageReader.buffered`)."""
        return self._reader.buffered
