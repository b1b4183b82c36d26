"""WSFrameProtocol: an ASGI WebSocket server protocol for uvicorn, on wsframe.

uvicorn hands a connection over to its WebSocket protocol class when an HTTP
request asks for an upgrade (``--ws``/``Config(ws=...)`` takes the class or
``"wsframe_uvicorn:WSFrameProtocol"``). This class is the asyncio side: the
handshake, the framing and the closing handshake are wsframe's sans-I/O
pieces (`HeadReader`, `check_request`, `server_response`, `rejection`,
`Connection`); what is left here is the I/O, the timers and the ASGI
WebSocket interface (https://asgi.readthedocs.io/en/latest/specs/www.html):

* ``websocket.connect`` once the request head is checked; the application
  answers ``websocket.accept`` (101), ``websocket.close`` (403) or, with the
  denial-response extension, ``websocket.http.response.start``/``.body``;
* ``websocket.receive`` per message, reassembled and UTF-8 checked by
  wsframe (reading pauses until the application takes it: flow control);
* ``websocket.send`` and ``websocket.close`` from the application, and
  ``websocket.disconnect`` with the close code when the connection ends.

Pings are answered by wsframe's `Connection` (in wire order); with
``ws_ping_interval`` the server pings and, with ``ws_ping_timeout``, closes
with 1011 when no pong comes back.
permessage-deflate is negotiated when ``ws_per_message_deflate`` (the default);
an offer that cannot be parsed is declined (RFC 7692 section 5).

What a hostile or careless peer can cost is bounded (docs/uvicorn-hardening.md):

* reading stops while replies to what was read (Pongs) wait in a write
  buffer over its high-water mark (``pause_writing``/``resume_writing``): a
  client that sends Pings and never reads the Pongs fills its own socket, not
  the server's memory;
* bytes that come after the request head, before the application accepts,
  are held up to `EARLY_DATA_LIMIT`, then reading stops until it answers;
* ``send`` waits while the write buffer is over its high-water mark;
* no exception leaves an asyncio callback (``data_received``, the timers):
  an error nobody expected is logged once and ends the connection with an
  HTTP 500 before the handshake, a Close 1011 after it (RFC 6455 7.4.1);
* closing never waits on a peer that does not read: the transport is
  aborted when its buffer has not drained ``close_timeout`` seconds after
  the close, and at once at shutdown when writing is paused.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, cast
from urllib.parse import unquote

from uvicorn._types import WebSocketScope
from uvicorn.config import Config
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_local_addr,
    get_path_with_query_string,
    get_remote_addr,
    is_ssl,
)
from uvicorn.server import ServerState

from wsframe import (
    BinaryMessage,
    CloseReceived,
    Connection,
    Event,
    Pong,
    ProtocolError,
    Role,
    State,
    TextMessage,
    fit_close,
)
from wsframe.extensions.permessage_deflate import PerMessageDeflate, accept_offer
from wsframe.handshake import (
    HandshakeError,
    Head,
    HeadReader,
    check_request,
    offered_subprotocols,
    rejection,
    response_head,
    server_response,
)

__all__ = ["EARLY_DATA_LIMIT", "FEED_SIZE", "WSFrameProtocol"]

Message = dict[str, Any]

#: The most bytes given to the codec at once. `Connection.feed` parses all it
#: is given into events, which wait until the application takes each message:
#: a 256 KiB read of empty messages would be held as 2 MB of event objects,
#: a 16 KiB piece is about 130 KB (and no slower to parse: measured).
FEED_SIZE = 16 * 1024

#: Bytes held after the request head until the application accepts (a client
#: may not send them yet, RFC 6455 4.1, but some do); past this, reading pauses.
EARLY_DATA_LIMIT = 64 * 1024


class WSFrameProtocol(asyncio.Protocol):
    """One WebSocket connection under uvicorn (see the module documentation)."""

    def __init__(self, config: Config, server_state: ServerState,
                 app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None
                 ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.app = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.logger = logging.getLogger("uvicorn.error")
        self.root_path = config.root_path
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers: list[tuple[bytes, bytes]] = server_state.default_headers

        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme: Literal["wss", "ws"] = "ws"
        self.scope: WebSocketScope = {}  # type: ignore[typeddict-item]  # set at connect

        self.head = HeadReader()
        self.request: Head | None = None
        self.key = ""
        self.deflate: PerMessageDeflate | None = None
        self.deflate_response: str | None = None
        self.connection: Connection | None = None   # once the handshake is accepted
        self.early = bytearray()         # bytes that came after the head, before accept

        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.handshake_complete = False  # accepted, refused or answered over HTTP
        self.response_started = False    # the denial response is being sent
        self.response: tuple[int, list[tuple[bytes, bytes]]] | None = None   # head, held
        self.response_body = bytearray()
        self.disconnected = False
        self.disconnect_sent = False     # websocket.disconnect queued for the app
        self.close_timer: asyncio.TimerHandle | None = None
        self.close_timeout = 10.0        # seconds to wait for the client's Close after ours
        self.abort_timer: asyncio.TimerHandle | None = None   # closing, the buffer not drained
        self.error_logged = False        # an unexpected error is logged once
        # Reading pauses while any of these holds (`_update_reading`):
        self.read_paused = False         # a message waits for the application (flow control)
        self.write_paused = False        # the write buffer is over its high-water mark...
        self.replies_paused = False      # ...and reading wrote to it (Pongs): see _flush_replies
        self.early_full = False          # `early` is over EARLY_DATA_LIMIT
        self.reading_paused = False      # what the transport was last told
        self.events: Iterator[Event] | None = None   # of the last read, not all handed out
        self.backlog: list[bytes] = []   # pieces of reads not given to the codec yet
        self.writable = asyncio.Event()
        self.writable.set()

        self.ping_interval = config.ws_ping_interval
        self.ping_timeout = config.ws_ping_timeout
        self.ping_timer: asyncio.TimerHandle | None = None
        self.pong_timer: asyncio.TimerHandle | None = None
        self.pending_ping: bytes | None = None
        self.ping_sent_at = 0.0
        self.last_ping_rtt = 0.0

    # -- asyncio.Protocol ------------------------------------------------------------------
    # No exception may leave these: asyncio would log a "Fatal error" and, during
    # the upgrade (uvicorn calls connection_made and data_received itself before
    # handing the transport over), close it without this object ever hearing of
    # it: it would stay in uvicorn's set of connections for good.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.connections.add(self)  # type: ignore[arg-type]  # uvicorn types its protocols
        try:
            self.server = get_local_addr(self.transport)
            self.client = get_remote_addr(self.transport)
            self.scheme = "wss" if is_ssl(self.transport) else "ws"
            self._trace("WebSocket connection made")
        except Exception as error:
            self._internal_error(error)

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._stop_keepalive()
            connection = self.connection
            if connection is not None:
                # The transport ended: 1006 unless a Close frame came (RFC 6455 7.1.5).
                connection.receive_eof()
            code = connection.close_code if connection is not None and \
                connection.close_code is not None else 1006
            self._disconnect(code if self.handshake_complete else 1006)
            self._trace("WebSocket connection lost")
        except Exception as error:
            self._log_unexpected(error)
        finally:
            self.connections.discard(self)
            self.handshake_complete = True
            self.disconnected = True
            self.writable.set()              # never resumed after a paused transport is lost
            self._cancel_close_timer()
            if self.abort_timer is not None:
                self.abort_timer.cancel()
                self.abort_timer = None
            self.early = bytearray()
            self.events = None
            self.backlog.clear()
            if exc is None:
                self.transport.close()

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        """The write buffer went over its high-water mark: ``send`` waits (and
        reading stops at the next reply to the client: see `_flush_replies`)."""
        self.writable.clear()
        self.write_paused = True

    def resume_writing(self) -> None:
        """The write buffer drained below its low-water mark: read on."""
        self.writable.set()
        self.write_paused = False
        if self.replies_paused:
            self.replies_paused = False
            self._update_reading()

    def data_received(self, data: bytes) -> None:
        try:
            self._data_received(data)
        except Exception as error:
            self._internal_error(error)

    def _data_received(self, data: bytes) -> None:
        if self.connection is not None:
            self._received(data)
            return
        if self.handshake_complete or self.transport.is_closing():
            return                            # refused or answered over HTTP: not kept
        if self.request is not None:          # waiting for the application's answer
            self._hold(data)
            return
        try:
            head = self.head.feed(data)
            if head is None:
                return
            self.key = check_request(head)
        except HandshakeError as error:
            self.handshake_complete = True
            self._write(error.response())
            self._close_transport()
            return
        self.request = head
        self._connect(head)
        self._hold(self.head.remainder)

    def _hold(self, data: bytes) -> None:
        """Keep bytes that came before the application accepted (bounded)."""
        self.early += data
        if len(self.early) > EARLY_DATA_LIMIT and not self.early_full:
            self.early_full = True
            self._update_reading()

    # -- the opening handshake -------------------------------------------------------------------

    def _connect(self, head: Head) -> None:
        _method, target, _version = head.start_line
        raw_path, _, query = target.partition("?")
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                   for name, value in head.headers]
        self.scope = {
            "type": "websocket",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": self.scheme,
            "server": self.server,
            "client": self.client,
            "root_path": self.root_path,
            "path": self.root_path + unquote(raw_path),
            "raw_path": self.root_path.encode("ascii") + raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "headers": headers,
            "subprotocols": offered_subprotocols(head),
            "state": self.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        offer = head.get("Sec-WebSocket-Extensions")
        if offer and self.config.ws_per_message_deflate:
            try:
                accepted = accept_offer(offer)
            except HandshakeError as error:
                # RFC 7692 5: an offer the server cannot accept is declined; the
                # connection goes on without the extension.
                self._trace(f"permessage-deflate offer declined: {error}")
                accepted = None
            if accepted is not None:
                self.deflate_response, self.deflate = accepted
        self.queue.put_nowait({"type": "websocket.connect"})
        task = self.loop.create_task(self.run_asgi())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def _accept_response(self, message: Message) -> bytes:
        """The 101 response for ``websocket.accept``; ValueError or TypeError,
        naming the field, for what the application got wrong."""
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and subprotocol != "" and \
                subprotocol not in self.scope["subprotocols"]:
            # RFC 6455 4.2.2: the server selects one of the client's subprotocols.
            offered = ", ".join(self.scope["subprotocols"]) or "none"
            raise ValueError(f"websocket.accept: subprotocol {subprotocol!r} was not offered "
                             f"by the client (offered: {offered}; RFC 6455 4.2.2)")
        extra = message.get("headers", [])
        if isinstance(extra, (str, bytes)) or not isinstance(extra, Iterable):
            raise TypeError("websocket.accept: headers must be an iterable of (name, value) "
                            f"pairs, not {type(extra).__name__}")
        headers = [*self.default_headers, *extra]
        try:
            return server_response(self.key, extensions=self.deflate_response,
                                   subprotocol=subprotocol, headers=headers)
        except (ValueError, TypeError) as error:
            raise type(error)(f"websocket.accept: {error}") from None

    def _accept(self, message: Message) -> None:
        try:
            response = self._accept_response(message)
            extensions = [self.deflate] if self.deflate is not None else []
            connection = Connection(Role.SERVER, max_message_size=self.config.ws_max_size,
                                    extensions=extensions)
        except Exception:
            self._refuse()
            raise
        self._log(f'"WebSocket {get_path_with_query_string(self.scope)}" [accepted]')
        self.handshake_complete = True
        self.connection = connection
        if self.transport.is_closing():
            return
        self._write(response)
        self._start_keepalive()
        early, self.early = bytes(self.early), bytearray()
        self.early_full = False
        if early:
            self._received(early)
        self._update_reading()

    def _refuse(self) -> None:
        """The application's answer to the handshake was invalid: answer 500, close."""
        self._send_500()
        self._disconnect(1006)
        self.early = bytearray()
        self._close_transport()

    # -- receiving -------------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        connection = self.connection
        assert connection is not None
        # In pieces of FEED_SIZE, the later ones while the earlier ones' events
        # are handed out (and reads that come meanwhile after them).
        self.backlog.extend(data[i:i + FEED_SIZE] for i in range(0, len(data), FEED_SIZE))
        if self.events is not None or not self.backlog:
            return
        self.events = connection.feed(self.backlog.pop(0))
        self._process()

    def _process(self) -> None:
        """Hand the events of the last read to the application, one data message
        at a time.

        After a data message this stops, and goes on when the application next
        calls ``receive``: by then it has answered that message, so its answer
        goes out before whatever comes next takes effect (wsframe's Connection
        acts on each event as it is reached): the Close frame that fails the
        connection on a later frame in the same read, or the reply to the
        client's Close. (Autobahn cases 3.2, 4.1.3, 5.15... check this order.)
        """
        connection = self.connection
        assert connection is not None
        while self.events is not None:
            try:
                for event in self.events:
                    if isinstance(event, (TextMessage, BinaryMessage)):
                        # After our own Close the application is done with messages.
                        if connection.state is State.OPEN:
                            self._deliver({"type": "websocket.receive", "text": event.text}
                                          if isinstance(event, TextMessage) else
                                          {"type": "websocket.receive", "bytes": event.data})
                            self._flush_replies()  # Pongs for Pings before it
                            return
                    elif isinstance(event, Pong):  # (Pings are answered by Connection)
                        self._pong(event.payload)
                    elif isinstance(event, CloseReceived):
                        self.events = None
                        self.backlog.clear()
                        self._flush()
                        self._disconnect(event.code, event.reason)
                        self._cancel_close_timer()
                        self._close_transport()    # RFC 6455 7.1.1: the server closes TCP
                        return
            except ProtocolError as error:
                # wsframe queued the Close frame carrying the error's code (once).
                self.events = None
                self.backlog.clear()
                self._flush()
                self._disconnect(error.code, error.reason)
                self._close_transport()
                return
            except Exception as error:     # not the codec's contract: see _internal_error
                self._internal_error(error)
                return
            self.events = None
            if self.backlog:
                try:
                    self.events = connection.feed(self.backlog.pop(0))
                except Exception as error:
                    self._internal_error(error)
                    return
        self._flush_replies()
        # Read on once the application took every message, or once it closed
        # (it is done with messages; the client's Close must still be read).
        if self.read_paused and (self.queue.empty() or connection.state is not State.OPEN):
            self.read_paused = False
            self._update_reading()

    def _deliver(self, message: Message) -> None:
        self.queue.put_nowait(message)
        if not self.read_paused:         # flow control: the app takes one message at a time
            self.read_paused = True
            self._update_reading()

    def _update_reading(self) -> None:
        """Pause or resume reading: paused while a message waits for the
        application, while replies to what was read (Pongs) wait in a write
        buffer over its high-water mark, or while the bytes held before the
        application accepted are over `EARLY_DATA_LIMIT`."""
        paused = self.read_paused or self.replies_paused or self.early_full
        if paused is self.reading_paused or self.transport is None:
            return
        self.reading_paused = paused
        if paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def _disconnect(self, code: int, reason: str | None = None) -> None:
        """Queue ``websocket.disconnect`` for the application, once; a ``reason``
        only when a Close frame carried one (ASGI makes it optional)."""
        if not self.disconnect_sent:
            self.disconnect_sent = True
            message: Message = {"type": "websocket.disconnect", "code": code}
            if reason is not None:
                message["reason"] = reason
            self.queue.put_nowait(message)

    def _internal_error(self, error: BaseException) -> None:
        """Something nobody expected went wrong (a bug here or in the codec: only
        `ProtocolError` and `HandshakeError` are the codec's contract). Log it
        once, answer what can still be answered (HTTP 500 before the handshake,
        Close 1011 after it: RFC 6455 7.4.1), and close: never an exception
        out of an asyncio callback, never a connection left behind."""
        self._log_unexpected(error)
        self.events = None
        self.backlog.clear()
        self.early = bytearray()
        try:
            connection = self.connection
            if connection is None:
                self._send_500()
                self._disconnect(1006)
            else:
                if connection.state is State.OPEN:
                    connection.close(1011, "internal error")
                self._flush()
                self._disconnect(1011, "internal error")
        except Exception:               # already logged; closing is what matters now
            pass
        finally:
            self._cancel_close_timer()
            if self.transport is not None:
                self._close_transport()

    def _log_unexpected(self, error: BaseException) -> None:
        """Log an unexpected error with its traceback, once per connection."""
        if not self.error_logged:
            self.error_logged = True
            self.logger.error("Unexpected error in the WebSocket connection (wsframe_uvicorn); "
                              "closing it", exc_info=error)

    # -- keepalive -------------------------------------------------------------------------------

    def _start_keepalive(self) -> None:
        if self.ping_interval is not None and self.ping_interval > 0:
            self._schedule_ping()

    def _stop_keepalive(self) -> None:
        for timer in (self.ping_timer, self.pong_timer):
            if timer is not None:
                timer.cancel()
        self.ping_timer = self.pong_timer = None
        self.pending_ping = None

    def _schedule_ping(self) -> None:
        assert self.ping_interval is not None
        delay = max(0.0, self.ping_interval - self.last_ping_rtt)
        self.ping_timer = self._call_later(delay, self._send_keepalive_ping)

    def _send_keepalive_ping(self) -> None:
        self.ping_timer = None
        connection = self.connection
        if connection is None or connection.state is not State.OPEN or \
                self.transport.is_closing():
            return
        self.pending_ping = os.urandom(4)   # identifies this ping's pong
        self.ping_sent_at = self.loop.time()
        connection.send_ping(self.pending_ping)
        self._flush()
        if self.ping_timeout is not None:
            self.pong_timer = self._call_later(self.ping_timeout, self._keepalive_timeout)
        else:
            self._schedule_ping()

    def _pong(self, payload: bytes) -> None:
        if self.pending_ping is None or payload != self.pending_ping:
            return                           # unsolicited or stale
        self.last_ping_rtt = self.loop.time() - self.ping_sent_at
        self.pending_ping = None
        if self.pong_timer is not None:
            self.pong_timer.cancel()
            self.pong_timer = None
            self._schedule_ping()

    def _keepalive_timeout(self) -> None:
        self.pong_timer = None
        self.pending_ping = None
        connection = self.connection
        if connection is None or connection.state is not State.OPEN or \
                self.transport.is_closing():
            return
        self._trace("WebSocket keepalive ping timeout")
        connection.close(1011, "keepalive ping timeout")
        self._flush()
        self._disconnect(1011, "keepalive ping timeout")
        self._close_transport()
        if self.write_paused:
            self._abort()               # nor does it read: nothing to wait for

    # -- the application -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server is shutting down: close with 1012 (Service Restart)."""
        try:
            self._stop_keepalive()
            connection = self.connection
            if connection is not None and connection.state is not State.OPEN:
                self._cancel_close_timer()      # never a second Close frame
            elif connection is not None:
                self._disconnect(1012)
                connection.close(1012)
                self._flush()
            elif not self.handshake_complete:
                self._send_500()
        except Exception as error:
            self._internal_error(error)
        self._close_transport()
        if self.write_paused:
            self._abort()      # the client does not read what it was sent: no waiting for it

    def _send_500(self) -> None:
        if self.handshake_complete or self.response_started:
            return
        self.handshake_complete = True
        self._write(rejection(500, headers=[("content-type", "text/plain; charset=utf-8")],
                              body=b"Internal Server Error"))

    async def run_asgi(self) -> None:
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self._send_500()
            self._close_transport()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self._send_500()
                self._close_transport()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.",
                                  result)
        if self.close_timer is None:
            self._close_transport()

    async def send(self, message: Message) -> None:
        """The ASGI ``send`` callable."""
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        kind = message["type"]
        if not self.handshake_complete:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._log(f'"WebSocket {get_path_with_query_string(self.scope)}" 403')
                self.handshake_complete = True
                self._disconnect(1006)
                self.early = bytearray()
                self._write(rejection(403))
                self._close_transport()
            elif kind == "websocket.http.response.start":
                try:
                    head = self._response_start(message)
                except Exception:
                    self._refuse()
                    raise
                self._log(f'"WebSocket {get_path_with_query_string(self.scope)}" '
                          f'{message["status"]}')
                self.handshake_complete = True
                self.response_started = True
                self.early = bytearray()
                if head is not None:
                    self._write(head)
            else:
                raise RuntimeError("Expected ASGI message 'websocket.accept', 'websocket.close' "
                                   f"or 'websocket.http.response.start' but got '{kind}'.")
        elif self.response_started:
            if kind != "websocket.http.response.body":
                raise RuntimeError("Expected ASGI message 'websocket.http.response.body' but "
                                   f"got '{kind}'.")
            body = message.get("body", b"")
            if self.response is None:
                self._write(body)
            else:
                self.response_body += body
            if not message.get("more_body", False):
                if self.response is not None:
                    status, headers = self.response
                    self._write(rejection(status, headers=headers,
                                          body=bytes(self.response_body)))
                self._disconnect(1006)
                self._close_transport()
        else:
            connection = self.connection
            if connection is None:
                # The transport was lost before the handshake was answered
                # (connection_lost ends the handshake): nothing to send to.
                raise ClientDisconnected()
            if connection.state is not State.OPEN:
                if connection.close_received is not None or connection.failure is not None \
                        or self.transport.is_closing():
                    # The peer closed (or broke) it first, or it was given up on
                    # (keepalive timeout, an unexpected error): not the app's doing.
                    raise ClientDisconnected()
                raise RuntimeError(f"Unexpected ASGI message '{kind}', after sending "
                                   "'websocket.close'.")
            if kind == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    connection.send_binary(data)
                else:
                    connection.send_text(message.get("text") or "")
                self._flush()
            elif kind == "websocket.close":
                code = message.get("code", 1000)
                reason = message.get("reason") or ""
                self._disconnect(code, reason)
                # A code that may not be sent (1004-1006, 1015, ...) or a reason
                # over 123 bytes becomes one that may, rather than an error.
                connection.close(*fit_close(code, reason))
                self._flush()
                if self.events is not None:
                    self._process()     # look for the client's Close in what was read
                elif self.read_paused:
                    self.read_paused = False
                    self._update_reading()
                if not self.transport.is_closing():
                    self.close_timer = self._call_later(self.close_timeout, self._close_late)
            else:
                raise RuntimeError("Expected ASGI message 'websocket.send' or 'websocket.close',"
                                   f" but got '{kind}'.")

    def _response_start(self, message: Message) -> bytes | None:
        """Check ``websocket.http.response.start``: the head to send now when its
        length is known (the body then goes as it comes), else None (the body is
        collected, then sent with it: ``self.response``)."""
        status = message["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status < 600:
            raise RuntimeError(f"Invalid HTTP status code '{status}' in response.")
        headers = list(message.get("headers", []))
        head = response_head(status, headers=headers)   # checks the headers (ValueError)
        if any(name.lower() == b"content-length" for name, _value in headers):
            return head
        self.response = (status, headers)
        return None

    async def receive(self) -> Message:
        """The ASGI ``receive`` callable."""
        if self.events is not None and self.queue.empty() and not self.disconnected:
            self._process()          # the application is ready for the next event
        message = await self.queue.get()
        if self.read_paused and self.queue.empty() and self.events is None:
            self.read_paused = False
            self._update_reading()
        return message

    # -- helpers ---------------------------------------------------------------------------------

    def _call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """``loop.call_later`` for a callback that must not raise (see _internal_error)."""
        return self.loop.call_later(delay, self._guarded, callback)

    def _guarded(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception as error:
            self._internal_error(error)

    def _close_late(self) -> None:
        """The client did not answer our Close in time: close TCP (RFC 6455 7.1.1)."""
        self.close_timer = None
        self._close_transport()
        if self.write_paused:
            self._abort()               # nor does it read: nothing to wait for

    def _cancel_close_timer(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None

    def _close_transport(self) -> None:
        """Close TCP once the write buffer drained; if it has not ``close_timeout``
        seconds later (the client does not read), abort: a peer that never reads
        keeps no connection open, and shutdown waits for none."""
        self.transport.close()
        if not self.disconnected and self.abort_timer is None:
            self.abort_timer = self._call_later(self.close_timeout, self._abort)

    def _abort(self) -> None:
        """Drop the connection without waiting for the write buffer to drain."""
        if not self.disconnected:
            self._trace("WebSocket closed without waiting for the client to read")
            self.transport.abort()

    def _flush(self) -> bool:
        """Write what the connection queued; whether there was anything."""
        connection = self.connection
        if connection is None:
            return False
        data = connection.data_to_send()
        if data:
            self._write(data)
        return bool(data)

    def _flush_replies(self) -> None:
        """`_flush` for what reading produced (Pongs: RFC 6455 5.5.2 has every
        Ping answered). If that left the write buffer over its high-water mark,
        reading stops until it drained: a client that sends Pings and never
        reads the Pongs fills its own socket, not the server's memory. (Only
        then: the application's own sends wait in ``send``, and must not stop
        the reading of the client's messages and Close.)"""
        if self._flush() and self.write_paused and not self.replies_paused:
            self.replies_paused = True
            self._update_reading()

    def _write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def _log(self, text: str) -> None:
        self.logger.info("%s - %s", get_client_addr(self.scope), text)

    def _trace(self, text: str) -> None:
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%s%s", prefix, text)
