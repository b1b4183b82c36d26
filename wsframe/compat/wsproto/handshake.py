"""wsproto's ``H11Handshake``: the HTTP/1.1 opening handshake, on wsframe's helpers.

wsproto drives h11 for the HTTP part; this module needs no h11. The
request and response heads are read with `wsframe.handshake.HeadReader`
and checked with `check_request` / `check_response`; answers are written
with `server_response`, `client_request` and `response_head`; a
rejection's body is read with `BodyReader` (Content-Length, chunked, or to
the end of the connection) and written as h11 would frame it (chunked
unless the caller gave a ``Content-Length``). Received header names are
lower-cased, as h11 reports them.

wsframe's checks are stricter than wsproto's in places (one Host, one
key that is base64 of 16 bytes, RFC 9112's start line): what they refuse
is a `RemoteProtocolError` whose ``event_hint`` is the `RejectConnection`
to answer with, its status the one wsframe chose (426 with
``Sec-WebSocket-Version: 13`` for a version other than 13, 400 when the
version is missing, as in wsproto; 405 with ``Allow: GET`` for another
method).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Generator, Iterable, Sequence

from ...handshake import (
    BodyReader,
    HandshakeError,
    Head,
    HeadReader,
    body_chunk,
    check_request,
    check_response,
    client_request,
    response_head,
    server_response,
)
from .connection import Connection, ConnectionState, ConnectionType
from .events import AcceptConnection, Event, RejectConnection, RejectData, Request
from .extensions import Extension
from .typing import Headers
from .utilities import LocalProtocolError, RemoteProtocolError, split_comma_header

__all__ = ["WEBSOCKET_UPGRADE", "WEBSOCKET_VERSION", "H11Handshake",
           "client_extensions_handshake", "server_extensions_handshake"]

#: The only version of the protocol (RFC 6455 4.2.1, point 6).
WEBSOCKET_VERSION = b"13"
#: The ``Upgrade`` token (RFC 6455 4.2.1, point 3).
WEBSOCKET_UPGRADE = b"websocket"

# What AcceptConnection.extra_headers leaves out on a client: the handshake's own.
_CLIENT_OWN = frozenset({"connection", "sec-websocket-extensions", "sec-websocket-accept",
                         "sec-websocket-protocol", "upgrade"})
# ... and Request.extra_headers on a server.
_SERVER_OWN = frozenset({"host", "sec-websocket-extensions", "sec-websocket-protocol"})


def _as_bytes(value: bytes | bytearray | str) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)


def _received(head: Head) -> Headers:
    """A head's headers as h11 reports them: lower-case names, both as bytes."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in head.headers]


def _offers(head: Head, name: str) -> list[str]:
    """A list header's items (subprotocols, extension offers): ASCII tokens, so a
    byte over 0x7F is a malformed handshake (RFC 6455 4.1, 9.1), not a crash."""
    try:
        return [piece for value in head.get_all(name)
                for piece in split_comma_header(value.encode("latin-1")) if piece]
    except UnicodeDecodeError:
        raise RemoteProtocolError(f"Bad HTTP message: {name} is not ASCII",
                                  event_hint=RejectConnection()) from None


class H11Handshake:
    """The opening handshake of one HTTP/1.1 connection, either side.

    A server reads a `Request` and answers with `AcceptConnection` or
    `RejectConnection` (and `RejectData`); a client sends a `Request` and
    reads `AcceptConnection` or `RejectConnection` and `RejectData`. Once
    accepted, `connection` is the `Connection` to go on with.
    """

    def __init__(self, connection_type: ConnectionType) -> None:
        self.client = connection_type is ConnectionType.CLIENT
        self._state = ConnectionState.CONNECTING
        self._connection: Connection | None = None
        self._events: deque[Event] = deque()
        self._reader = HeadReader()
        self._head_done = False
        self._trailing = bytearray()     # bytes after the head, for the connection
        self._initiating_request: Request | None = None
        self._key: str | None = None     # server: the client's; client: ours
        self._body: BodyReader | None = None
        self._chunked = False            # server: the rejection body is sent chunked

    @property
    def state(self) -> ConnectionState:
        """CONNECTING, then OPEN (accepted), REJECTING (a body follows) or CLOSED."""
        return self._state

    @property
    def connection(self) -> Connection | None:
        """The established connection, or None before the handshake succeeded."""
        return self._connection

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client={self.client}, state={self._state})"

    def initiate_upgrade_connection(self, headers: Iterable[tuple[bytes | str, bytes | str]],
                                    path: bytes | str) -> None:
        """Server: start from a request head some other code already read.

        ``headers`` are its ``(name, value)`` pairs (bytes or str, an h11
        ``Headers`` object too) and ``path`` its target; the `Request` event
        follows as if the head had been received.
        """
        if self.client:
            raise LocalProtocolError(
                "Cannot initiate an upgrade connection when acting as the client")
        target = path.decode("latin-1") if isinstance(path, (bytes, bytearray)) else path
        lines = [f"GET {target} HTTP/1.1".encode("latin-1")]
        lines += [_as_bytes(name) + b": " + _as_bytes(value) for name, value in headers]
        self.receive_data(b"\r\n".join(lines) + b"\r\n\r\n")

    # -- events in --------------------------------------------------------------------

    def receive_data(self, data: bytes | None) -> None:
        """Received bytes in (None or b"": the connection ended); events come from `events`.

        Raises `RemoteProtocolError` for a malformed or refused handshake.
        """
        if self._head_done:
            if self._state is ConnectionState.REJECTING and self._body is not None:
                self._read_body(data or None)   # b"" is the end of the stream, as for h11
            elif data:
                self._trailing += data
            return
        if data is None:
            return
        try:
            head = self._reader.feed(data)
        except HandshakeError as exc:
            raise RemoteProtocolError(f"Bad HTTP message: {exc}",
                                      event_hint=RejectConnection()) from None
        if head is None:
            return
        self._head_done = True
        remainder = self._reader.remainder
        if self.client:
            self._response(head, remainder)
        else:
            self._trailing += remainder
            self._events.append(self._request(head))

    def events(self) -> Generator[Event, None, None]:
        """The handshake events received so far."""
        while self._events:
            yield self._events.popleft()

    # -- events out -------------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """The bytes that send a handshake event (`Request`, `AcceptConnection`,
        `RejectConnection`, `RejectData`); `LocalProtocolError` if the state or
        the side does not allow it."""
        try:
            if isinstance(event, Request) and self.client:
                return self._send_request(event)
            if isinstance(event, AcceptConnection) and not self.client:
                return self._accept(event)
            if isinstance(event, RejectConnection) and not self.client:
                return self._reject(event)
            if isinstance(event, RejectData) and not self.client:
                return self._reject_data(event)
        except ValueError as exc:          # wsframe refused a name, value or code
            raise LocalProtocolError(str(exc)) from None
        raise LocalProtocolError(f"Event {event} cannot be sent during the handshake")

    # -- server ------------------------------------------------------------------------

    def _request(self, head: Head) -> Request:
        try:
            self._key = check_request(head)
        except HandshakeError as exc:
            status, headers = exc.status, []
            if exc.header == "Sec-WebSocket-Version":
                status = 426 if exc.found else 400
                headers.append((b"Sec-WebSocket-Version", WEBSOCKET_VERSION))
            elif status == 405:
                headers.append((b"Allow", b"GET"))
            raise RemoteProtocolError(
                str(exc), event_hint=RejectConnection(status_code=status, headers=headers),
            ) from None
        host = head.get("Host") or ""
        with contextlib.suppress(UnicodeError):     # not IDNA: kept as sent
            host = host.encode("latin-1").decode("idna")
        self._initiating_request = Request(
            host=host, target=head.start_line[1],
            extensions=_offers(head, "Sec-WebSocket-Extensions"),
            extra_headers=[(name, value) for name, value in _received(head)
                           if name.decode("latin-1") not in _SERVER_OWN],
            subprotocols=_offers(head, "Sec-WebSocket-Protocol"))
        return self._initiating_request

    def _accept(self, event: AcceptConnection) -> bytes:
        request = self._initiating_request
        if request is None or self._key is None or self._state is not \
                ConnectionState.CONNECTING:
            raise LocalProtocolError(f"Connection cannot be accepted in state {self._state}")
        if event.subprotocol is not None and event.subprotocol not in request.subprotocols:
            raise LocalProtocolError(f"unexpected subprotocol {event.subprotocol}")
        accepts = None
        if event.extensions:
            offered = [offer for offer in request.extensions if isinstance(offer, str)]
            accepts = server_extensions_handshake(offered, event.extensions)
        data = server_response(self._key,
                               extensions=accepts.decode("ascii") if accepts else None,
                               subprotocol=event.subprotocol, headers=event.extra_headers)
        self._connection = Connection(ConnectionType.SERVER, event.extensions,
                                      bytes(self._trailing))
        self._trailing.clear()
        self._state = ConnectionState.OPEN
        return data

    def _reject(self, event: RejectConnection) -> bytes:
        if self._state is not ConnectionState.CONNECTING:
            raise LocalProtocolError(f"Connection cannot be rejected in state {self._state}")
        headers = list(event.headers)
        names = {_as_bytes(name).lower() for name, _ in headers}
        codings = [_as_bytes(value).lower() for name, value in headers
                   if _as_bytes(name).lower() == b"transfer-encoding"]
        if not event.has_body:
            if b"content-length" not in names and not codings:
                headers.append((b"content-length", b"0"))
        elif b"content-length" not in names and not codings:
            headers.append((b"transfer-encoding", b"chunked"))   # as h11 frames it
            self._chunked = True
        else:
            self._chunked = bool(codings) and codings[-1].strip().endswith(b"chunked")
        data = response_head(event.status_code, headers=headers, close=False)
        self._state = ConnectionState.REJECTING if event.has_body else ConnectionState.CLOSED
        return data

    def _reject_data(self, event: RejectData) -> bytes:
        if self._state is not ConnectionState.REJECTING:
            raise LocalProtocolError(f"Cannot send rejection data in state {self._state}")
        data = bytes(event.data)
        out = (body_chunk(data) if data else b"") if self._chunked else data
        if event.body_finished:
            if self._chunked:
                out += body_chunk(b"")
            self._state = ConnectionState.CLOSED
        return out

    # -- client ------------------------------------------------------------------------

    def _send_request(self, request: Request) -> bytes:
        if self._key is not None:
            raise LocalProtocolError("the Request was sent already")
        elements = []
        for extension in request.extensions:
            if not isinstance(extension, Extension):
                raise LocalProtocolError(
                    f"a client offers Extension objects, not {extension!r}")
            params = extension.offer()
            if params is True or params == "":
                elements.append(extension.name)
            elif isinstance(params, str):
                elements.append(f"{extension.name}; {params}")
        host = request.host if request.host.isascii() else \
            request.host.encode("idna").decode("ascii")
        data, self._key = client_request(
            host, request.target, extensions=", ".join(elements) or None,
            subprotocols=list(request.subprotocols), headers=request.extra_headers)
        self._initiating_request = request
        return data

    def _response(self, head: Head, remainder: bytes) -> None:
        request, key = self._initiating_request, self._key
        if request is None or key is None:
            raise LocalProtocolError("a response arrived before the Request was sent")
        version, status, _reason = head.start_line
        if not version.startswith("HTTP/") or not (status.isascii() and status.isdigit()):
            # parse_head reads requests too: a request line is no answer.
            raise RemoteProtocolError("Bad HTTP message: not a response (RFC 9112 4)",
                                      event_hint=RejectConnection())
        headers = _received(head)
        if status == "101":
            self._events.append(self._establish(head, request, key, remainder))
        elif status.startswith("1"):
            self._events.append(RejectConnection(status_code=int(status), headers=headers,
                                                 has_body=False))
            self._state = ConnectionState.CLOSED
        else:
            self._state = ConnectionState.REJECTING
            self._events.append(RejectConnection(status_code=int(status), headers=headers,
                                                 has_body=True))
            try:
                self._body = BodyReader(head)
            except HandshakeError as exc:
                raise RemoteProtocolError(f"Bad HTTP message: {exc}",
                                          event_hint=RejectConnection()) from None
            self._read_body(remainder)

    def _read_body(self, data: bytes | None) -> None:
        body = self._body
        assert body is not None
        try:
            if data is None:
                body.feed_eof()
                piece = b""
            else:
                piece = body.feed(data)
        except HandshakeError as exc:
            raise RemoteProtocolError(f"Bad HTTP message: {exc}",
                                      event_hint=RejectConnection()) from None
        if piece:
            self._events.append(RejectData(data=piece, body_finished=False))
        if body.done:
            self._events.append(RejectData(data=b"", body_finished=True))
            self._state = ConnectionState.CLOSED
            self._body = None

    def _establish(self, head: Head, request: Request, key: str,
                   remainder: bytes) -> AcceptConnection:
        try:
            subprotocol = check_response(head, key, subprotocols=request.subprotocols)
        except HandshakeError as exc:
            raise RemoteProtocolError(str(exc), event_hint=RejectConnection()) from None
        offered = [offer for offer in request.extensions if isinstance(offer, Extension)]
        extensions = client_extensions_handshake(_offers(head, "Sec-WebSocket-Extensions"),
                                                 offered)
        self._connection = Connection(ConnectionType.CLIENT, extensions, remainder)
        self._state = ConnectionState.OPEN
        return AcceptConnection(
            subprotocol=subprotocol, extensions=extensions,
            extra_headers=[(name, value) for name, value in _received(head)
                           if name.decode("latin-1") not in _CLIENT_OWN])


def server_extensions_handshake(requested: Iterable[str],
                                supported: Sequence[Extension]) -> bytes | None:
    """Server: agree on extensions; the ``Sec-WebSocket-Extensions`` value, or None.

    ``requested`` are the client's offers, one string each; each extension
    of ``supported`` answers the first offer of its name that it accepts.
    """
    accepted: dict[str, str] = {}
    for offer in requested:
        name = offer.split(";", 1)[0].strip()
        for extension in supported:
            if extension.name != name or name in accepted:
                continue
            answer = extension.accept(offer)
            if answer is True or answer == "":
                accepted[name] = name
            elif isinstance(answer, str):
                accepted[name] = f"{name}; {answer}"
    return ", ".join(accepted.values()).encode("ascii") if accepted else None


def client_extensions_handshake(accepted: Iterable[str],
                                supported: Sequence[Extension]) -> list[Extension]:
    """Client: the offered extensions the server agreed to, each finalized.

    Raises `RemoteProtocolError` for an extension that was not offered or
    an answer the extension cannot take.
    """
    agreed: list[Extension] = []
    for answer in accepted:
        name = answer.split(";", 1)[0].strip()
        extension = next((e for e in supported if e.name == name), None)
        if extension is None or extension in agreed:
            raise RemoteProtocolError(f"unrecognized extension {name}",
                                      event_hint=RejectConnection())
        try:
            extension.finalize(answer)
        except ValueError as exc:           # HandshakeError is one
            raise RemoteProtocolError(f"invalid {name} answer: {exc}",
                                      event_hint=RejectConnection()) from None
        agreed.append(extension)
    return agreed
