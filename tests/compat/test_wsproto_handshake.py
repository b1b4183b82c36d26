"""wsframe.compat.wsproto's opening handshake (H11Handshake, WSConnection), without h11.

wsproto's own suite drives its handshake against h11; here the peer's side
is plain bytes, so what goes on the wire is checked exactly. Both sides
are also run against each other.
"""

from __future__ import annotations

import base64

import pytest

from wsframe.compat.wsproto import WSConnection
from wsframe.compat.wsproto.connection import CLIENT, SERVER, ConnectionState
from wsframe.compat.wsproto.events import (
    AcceptConnection,
    BytesMessage,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsframe.compat.wsproto.extensions import Extension
from wsframe.compat.wsproto.handshake import H11Handshake
from wsframe.compat.wsproto.typing import Headers
from wsframe.compat.wsproto.utilities import (
    LocalProtocolError,
    RemoteProtocolError,
    generate_accept_token,
    normed_header_dict,
)
from wsframe.handshake import parse_head

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="          # RFC 6455 1.3's example
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


class Probe(Extension):
    """An extension that records what it is asked and answers as told."""

    name = "probe"

    def __init__(self, answer: bool | str | None = True) -> None:
        self.answer = answer
        self.asked: list[str] = []
        self.final: str | None = None

    def offer(self) -> bool | str:
        return "x=1"

    def accept(self, offer: str) -> bool | str | None:
        self.asked.append(offer)
        return self.answer

    def finalize(self, offer: str) -> None:
        self.final = offer

    def enabled(self) -> bool:
        return False            # handshake only: nothing runs at frame level


def request_bytes(*extra: bytes, method: bytes = b"GET", version: bytes = b"13",
                  key: bytes | None = KEY, connection: bytes = b"Keep-Alive, Upgrade",
                  upgrade: bytes = b"websocket", host: bytes | None = b"localhost") -> bytes:
    lines = [method + b" /chat?x=1 HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    lines += [b"Connection: " + connection, b"Upgrade: " + upgrade]
    if version:
        lines.append(b"Sec-WebSocket-Version: " + version)
    if key is not None:
        lines.append(b"Sec-WebSocket-Key: " + key)
    return b"\r\n".join([*lines, *extra]) + b"\r\n\r\n"


def server_request(data: bytes) -> tuple[WSConnection, Request]:
    server = WSConnection(SERVER)
    server.receive_data(data)
    (event,) = server.events()
    assert isinstance(event, Request)
    return server, event


# -- server ----------------------------------------------------------------------------

def test_the_request_event() -> None:
    _, request = server_request(request_bytes(
        b"X-Foo: bar", b"Sec-WebSocket-Protocol: one, two",
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, probe"))
    assert request.host == "localhost"
    assert request.target == "/chat?x=1"
    assert request.subprotocols == ["one", "two"]
    assert request.extensions == ["permessage-deflate; client_max_window_bits", "probe"]
    assert request.extra_headers == [
        (b"connection", b"Keep-Alive, Upgrade"), (b"upgrade", b"websocket"),
        (b"sec-websocket-version", b"13"), (b"sec-websocket-key", KEY), (b"x-foo", b"bar")]


def test_repeated_headers_add_up_in_order() -> None:
    _, request = server_request(request_bytes(
        b"Sec-WebSocket-Protocol: a", b"Sec-WebSocket-Extensions: e1; p, e2",
        b"Sec-WebSocket-Protocol: b, c", b"Sec-WebSocket-Extensions: e3; q=1"))
    assert request.subprotocols == ["a", "b", "c"]
    assert request.extensions == ["e1; p", "e2", "e3; q=1"]


@pytest.mark.parametrize("data, status, headers", [
    (request_bytes(method=b"POST"), 405, [(b"Allow", b"GET")]),
    (request_bytes(connection=b"Keep-Alive"), 400, []),
    (request_bytes(upgrade=b"h2c"), 426, []),
    (request_bytes(version=b"12"), 426, [(b"Sec-WebSocket-Version", b"13")]),
    (request_bytes(version=b""), 400, [(b"Sec-WebSocket-Version", b"13")]),
    (request_bytes(key=None), 400, []),
    (request_bytes(key=b"short"), 400, []),
    (request_bytes(host=None), 400, []),
])
def test_a_refused_request_says_how_to_answer(data: bytes, status: int,
                                              headers: Headers) -> None:
    server = WSConnection(SERVER)
    with pytest.raises(RemoteProtocolError) as caught:
        server.receive_data(data)
    assert caught.value.event_hint == RejectConnection(status_code=status, headers=headers)
    assert server.state is ConnectionState.CONNECTING
    # The hint is sendable as it is.
    assert server.send(caught.value.event_hint).startswith(b"HTTP/1.1 %d " % status)


@pytest.mark.parametrize("data", [b"broken nonsense\r\n\r\n", b"GET / HTTP/1.0\r\n\r\n"])
def test_a_malformed_request(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        WSConnection(SERVER).receive_data(data)
    assert caught.value.event_hint == RejectConnection()


def test_accepting_writes_the_101() -> None:
    server, _ = server_request(request_bytes(b"Sec-WebSocket-Protocol: one, two"))
    out = server.send(AcceptConnection(subprotocol="two", extra_headers=[(b"X-Foo", b"bar")]))
    assert out == (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + b"\r\n"
                   b"Sec-WebSocket-Protocol: two\r\nX-Foo: bar\r\n\r\n")
    assert server.state is ConnectionState.OPEN
    assert server.send(BytesMessage(data=b"x")) == b"\x82\x01x"


def test_an_unoffered_subprotocol_cannot_be_accepted() -> None:
    server, _ = server_request(request_bytes(b"Sec-WebSocket-Protocol: one"))
    with pytest.raises(LocalProtocolError, match="subprotocol three"):
        server.send(AcceptConnection(subprotocol="three"))
    assert server.state is ConnectionState.CONNECTING


@pytest.mark.parametrize("answer, header", [
    (True, b"probe"), ("", b"probe"), ("y=2; z", b"probe; y=2; z"), (None, None)])
def test_an_extension_answers_the_offer_of_its_name(answer: bool | str | None,
                                                    header: bytes | None) -> None:
    probe = Probe(answer)
    server, _ = server_request(request_bytes(
        b"Sec-WebSocket-Extensions: other, probe; x=3, probe; x=4"))
    head = parse_head(server.send(AcceptConnection(extensions=[probe])))
    found = head.get("Sec-WebSocket-Extensions")
    assert (found.encode() if found else None) == header
    # The first offer it accepts is the one; a declined one lets it see the next.
    assert probe.asked == (["probe; x=3"] if answer is not None else
                           ["probe; x=3", "probe; x=4"])


def test_data_that_came_with_the_request_reaches_the_connection() -> None:
    masked = b"\x81\x81mask" + bytes([ord("a") ^ ord("m")])
    server = WSConnection(SERVER)
    server.receive_data(request_bytes() + masked[:3])
    server.receive_data(masked[3:])
    assert [type(e) for e in server.events()] == [Request]
    server.send(AcceptConnection())
    assert list(server.events()) == [TextMessage(data="a")]


def test_initiate_upgrade_connection_takes_a_head_read_elsewhere() -> None:
    server = WSConnection(SERVER)
    server.initiate_upgrade_connection(
        [(b"Host", b"localhost"), (b"Connection", b"Upgrade"), (b"Upgrade", b"websocket"),
         (b"Sec-WebSocket-Version", b"13"), (b"Sec-WebSocket-Key", KEY),
         ("X-Str", "yes")], b"/p")
    (request,) = server.events()
    assert isinstance(request, Request)
    assert (request.target, request.host) == ("/p", "localhost")
    assert (b"x-str", b"yes") in request.extra_headers
    with pytest.raises(LocalProtocolError, match="as the client"):
        H11Handshake(CLIENT).initiate_upgrade_connection([], "/")


def test_rejection_without_a_body() -> None:
    server, _ = server_request(request_bytes())
    out = server.send(RejectConnection(status_code=403, headers=[(b"X-Why", b"no")]))
    assert out == b"HTTP/1.1 403 Forbidden\r\nX-Why: no\r\ncontent-length: 0\r\n\r\n"
    assert server.state is ConnectionState.CLOSED
    with pytest.raises(LocalProtocolError):
        server.send(RejectData(data=b"late"))


def test_rejection_with_a_body_is_chunked_unless_it_has_a_length() -> None:
    server, _ = server_request(request_bytes())
    out = server.send(RejectConnection(status_code=500, has_body=True))
    assert server.state is ConnectionState.REJECTING
    out += server.send(RejectData(data=b"Internal", body_finished=False))
    out += server.send(RejectData(data=b"", body_finished=False))
    out += server.send(RejectData(data=b" Error"))
    assert out == (b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n"
                   b"8\r\nInternal\r\n6\r\n Error\r\n0\r\n\r\n")
    assert server.state is ConnectionState.CLOSED

    server, _ = server_request(request_bytes())
    out = server.send(RejectConnection(status_code=400, headers=[(b"content-length", b"5")],
                                       has_body=True))
    out += server.send(RejectData(data=b"Hello"))
    assert out == b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\nHello"


def test_rejecting_twice_or_after_accepting_is_refused() -> None:
    server, _ = server_request(request_bytes())
    server.send(RejectConnection(has_body=True))
    with pytest.raises(LocalProtocolError, match="rejected"):
        server.send(RejectConnection())
    handshake = H11Handshake(SERVER)
    handshake.receive_data(request_bytes())
    handshake.send(AcceptConnection())
    with pytest.raises(LocalProtocolError):
        handshake.send(RejectConnection())
    with pytest.raises(LocalProtocolError):
        handshake.send(AcceptConnection())


def test_a_server_sends_no_request_and_no_data_events() -> None:
    with pytest.raises(LocalProtocolError, match="during the handshake"):
        H11Handshake(SERVER).send(Request(host="h", target="/"))
    with pytest.raises(LocalProtocolError, match="during the handshake"):
        H11Handshake(CLIENT).send(Ping())


# -- client ----------------------------------------------------------------------------

def client_request(**fields: object) -> tuple[WSConnection, bytes, bytes]:
    """A client that sent its Request; the bytes and the key it used."""
    client = WSConnection(CLIENT)
    assert client.state is ConnectionState.CONNECTING
    data = client.send(Request(**{"host": "localhost", "target": "/", **fields}))  # type: ignore[arg-type]
    head = parse_head(data)
    key = head.get("Sec-WebSocket-Key")
    assert key is not None
    return client, data, key.encode()


def test_the_request_a_client_sends() -> None:
    _, data, key = client_request(extra_headers=[(b"X-Foo", b"Bar")], subprotocols=["a", "b"],
                                  extensions=[Probe()])
    assert len(base64.b64decode(key)) == 16
    assert data == (b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: probe; x=1\r\n"
                    b"Sec-WebSocket-Protocol: a, b\r\nX-Foo: Bar\r\n\r\n")


@pytest.mark.parametrize("offer, header", [(True, "probe"), (False, None), ("", "probe")])
def test_an_extension_offer(offer: bool | str, header: str | None) -> None:
    class Offering(Probe):
        def offer(self) -> bool | str:
            return offer

    _, data, _ = client_request(extensions=[Offering()])
    assert parse_head(data).get("Sec-WebSocket-Extensions") == header


def test_an_international_host_goes_out_as_idna_and_comes_back() -> None:
    client = H11Handshake(CLIENT)
    data = client.send(Request(host="芝士汉堡", target="/"))
    assert b"\r\nHost: xn--7ks3rz39bh7u\r\n" in data
    server = H11Handshake(SERVER)
    server.receive_data(data)
    (request,) = server.events()
    assert isinstance(request, Request) and request.host == "芝士汉堡"


def response(key: bytes, *lines: bytes, status: bytes = b"101 Switching Protocols",
             accept: bool = True) -> bytes:
    head = [b"HTTP/1.1 " + status]
    if accept:
        head.append(b"Sec-WebSocket-Accept: " + generate_accept_token(key))
    return b"\r\n".join([*head, *lines]) + b"\r\n\r\n"


UPGRADE = (b"Connection: Upgrade", b"Upgrade: websocket")


def test_the_server_accepts() -> None:
    client, _, key = client_request()
    client.receive_data(response(key, *UPGRADE, b"X-Foo: bar"))
    assert list(client.events()) == [AcceptConnection(extra_headers=[(b"x-foo", b"bar")])]
    assert client.state is ConnectionState.OPEN
    with pytest.raises(LocalProtocolError):
        client.send(Request(host="localhost", target="/"))


def test_a_frame_that_came_with_the_101_is_read() -> None:
    client, _, key = client_request()
    client.receive_data(response(key, *UPGRADE) + b"\x81\x01a")
    assert list(client.events()) == [AcceptConnection(), TextMessage(data="a")]


@pytest.mark.parametrize("lines, accept", [
    ((b"Upgrade: websocket",), True),
    ((b"Upgrade: websocket", b"Connection: Keep-Alive"), True),
    ((b"Connection: Upgrade",), True),
    ((b"Connection: Upgrade", b"Upgrade: h2"), True),
    (UPGRADE, False),
])
def test_a_broken_101_is_refused(lines: tuple[bytes, ...], accept: bool) -> None:
    client, _, key = client_request()
    with pytest.raises(RemoteProtocolError) as caught:
        client.receive_data(response(key, *lines, accept=accept))
    assert caught.value.event_hint == RejectConnection()


def test_subprotocols_the_server_may_choose() -> None:
    client, _, key = client_request(subprotocols=["one", "two"])
    client.receive_data(response(key, *UPGRADE, b"Sec-WebSocket-Protocol: one"))
    assert list(client.events()) == [AcceptConnection(subprotocol="one")]
    client, _, key = client_request()
    with pytest.raises(RemoteProtocolError, match="new"):
        client.receive_data(response(key, *UPGRADE, b"Sec-WebSocket-Protocol: new"))


def test_extensions_the_server_may_agree_to() -> None:
    probe = Probe()
    client, _, key = client_request(extensions=[probe])
    client.receive_data(response(key, *UPGRADE, b"Sec-WebSocket-Extensions: probe; x=0"))
    assert list(client.events()) == [AcceptConnection(extensions=[probe])]
    assert probe.final == "probe; x=0"
    client, _, key = client_request(extensions=[Probe()])
    with pytest.raises(RemoteProtocolError, match="unrecognized extension bad"):
        client.receive_data(response(key, *UPGRADE, b"Sec-WebSocket-Extensions: bad, probe"))


def test_a_malformed_response() -> None:
    client, _, _ = client_request()
    with pytest.raises(RemoteProtocolError, match="Bad HTTP message"):
        client.receive_data(b"broken nonsense\r\n\r\n")


def rejected(*pieces: bytes) -> tuple[WSConnection, list[Event]]:
    client, _, _ = client_request()
    events: list[Event] = []
    for piece in pieces:
        client.receive_data(piece)
        events += client.events()
    return client, events


def test_a_rejection_and_its_body_by_length() -> None:
    client, events = rejected(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nHel",
                              b"lo")
    assert events == [RejectConnection(status_code=400, headers=[(b"content-length", b"5")],
                                       has_body=True),
                      RejectData(data=b"Hel", body_finished=False),
                      RejectData(data=b"lo", body_finished=False),
                      RejectData(data=b"", body_finished=True)]
    assert client.state is ConnectionState.CLOSED


def test_a_chunked_rejection_body() -> None:
    client, events = rejected(b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"2\r\nno\r\n", b"0\r\n\r\n")
    assert [e for e in events if isinstance(e, RejectData)] == [
        RejectData(data=b"no", body_finished=False), RejectData(data=b"", body_finished=True)]
    assert client.state is ConnectionState.CLOSED


def test_a_rejection_body_that_ends_with_the_connection() -> None:
    client, events = rejected(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbye",
                              b"")               # b"": the end of the stream, as for h11
    assert events == [RejectConnection(status_code=400, headers=[(b"connection", b"close")],
                                       has_body=True),
                      RejectData(data=b"bye", body_finished=False),
                      RejectData(data=b"", body_finished=True)]
    assert client.state is ConnectionState.CLOSED


def test_an_informational_answer_is_a_rejection_without_a_body() -> None:
    client, events = rejected(b"HTTP/1.1 102 Processing\r\n\r\n")
    assert events == [RejectConnection(status_code=102, has_body=False)]
    assert client.state is ConnectionState.CLOSED


# -- both sides --------------------------------------------------------------------------

def test_client_and_server_agree_and_report_their_states() -> None:
    client, server = H11Handshake(CLIENT), H11Handshake(SERVER)
    server.receive_data(client.send(Request(host="localhost", target="/")))
    assert isinstance(next(server.events()), Request)
    client.receive_data(server.send(AcceptConnection()))
    assert isinstance(next(client.events()), AcceptConnection)
    assert (client.state, server.state) == (ConnectionState.OPEN, ConnectionState.OPEN)
    assert repr(client) == "H11Handshake(client=True, state=ConnectionState.OPEN)"
    assert repr(server) == "H11Handshake(client=False, state=ConnectionState.OPEN)"
    assert client.connection is not None and server.connection is not None


def test_the_header_helpers() -> None:
    assert generate_accept_token(KEY) == ACCEPT
    assert normed_header_dict([(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]) == {
        b"a": b"1, 3", b"b": b"2"}


@pytest.mark.parametrize("header", [b"Sec-WebSocket-Protocol: ch\xe6t",
                                    b"Sec-WebSocket-Extensions: d\xe9flate"])
def test_a_non_ascii_list_header_is_a_bad_request(header: bytes) -> None:
    """Found by fuzz_compat (the real wsproto raises UnicodeDecodeError)."""
    with pytest.raises(RemoteProtocolError, match="not ASCII") as caught:
        WSConnection(SERVER).receive_data(request_bytes(header))
    assert caught.value.event_hint == RejectConnection()


def test_a_request_line_is_no_answer() -> None:
    """Found by fuzz_compat: it raised ValueError from int() on the status."""
    client, _, _ = client_request()
    with pytest.raises(RemoteProtocolError, match="not a response"):
        client.receive_data(b"GET /x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
