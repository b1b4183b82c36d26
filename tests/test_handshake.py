"""RFC 6455 section 4 helpers: Sec-WebSocket-Accept, request and response checks."""

from __future__ import annotations

import tracemalloc

import pytest

from wsframe.handshake import (
    HandshakeError,
    HeadReader,
    accept_key,
    check_request,
    check_response,
    choose_subprotocol,
    client_request,
    offered_subprotocols,
    parse_head,
    rejection,
    server_response,
)

# RFC 6455 section 1.3 / 4.2.2: the sample key and its accept value.
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

GOOD = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
        b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n")


def test_accept_key_matches_rfc_example() -> None:
    assert accept_key(RFC_KEY) == RFC_ACCEPT


def test_check_request_accepts_the_rfc_example_and_returns_the_key() -> None:
    head = parse_head(GOOD)
    assert head.start_line == ("GET", "/chat", "HTTP/1.1")
    assert head.get("host") == "server.example.com"
    assert check_request(head) == RFC_KEY


@pytest.mark.parametrize(("replace", "status", "message"), [
    ((b"GET", b"POST"), 405, "GET"),
    ((b"HTTP/1.1\r\nHost", b"HTTP/1.0\r\nHost"), 400, "HTTP/1.1"),
    ((b"Host: server.example.com\r\n", b""), 400, "Host"),
    ((b"Upgrade: websocket", b"Upgrade: h2c"), 426, "Upgrade"),
    ((b"keep-alive, Upgrade", b"keep-alive"), 400, "Connection"),
    ((b"dGhlIHNhbXBsZSBub25jZQ==", b"c2hvcnQ="), 400, "16 bytes"),
    ((b"dGhlIHNhbXBsZSBub25jZQ==", b"not base64!!"), 400, "16 bytes"),
    ((b"Version: 13", b"Version: 8"), 426, "13"),
])
def test_check_request_rejects(replace: tuple[bytes, bytes], status: int, message: str) -> None:
    with pytest.raises(HandshakeError, match=message) as info:
        check_request(parse_head(GOOD.replace(*replace)))
    assert info.value.status == status


@pytest.mark.parametrize("bad", [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                                 b"GET / HTTP/1.1\r\nNo Colon Name: x\r\n\r\n"])
def test_parse_head_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(HandshakeError, match="malformed"):
        parse_head(bad)


def test_server_response_and_client_check_round_trip() -> None:
    request, key = client_request("localhost:9001", "/echo", extensions="permessage-deflate")
    head = parse_head(request)
    assert check_request(head) == key
    assert head.get("Sec-WebSocket-Extensions") == "permessage-deflate"
    response = server_response(key)
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert f"Sec-WebSocket-Accept: {accept_key(key)}\r\n".encode() in response
    check_response(parse_head(response), key)
    with pytest.raises(HandshakeError, match="does not match"):
        check_response(parse_head(response), RFC_KEY)
    with pytest.raises(HandshakeError, match="not 101"):
        check_response(parse_head(b"HTTP/1.1 403 Forbidden\r\n\r\n"), key)


# -- what an embedder needs around the handshake (each was missing) ---------------------

def test_server_response_takes_extra_headers_and_refuses_injection() -> None:
    response = server_response(RFC_KEY, subprotocol="chat",
                               headers=[("server", "uvicorn"), (b"date", b"Thu, 26 Nov 2026")])
    assert response.endswith(b"Sec-WebSocket-Protocol: chat\r\nserver: uvicorn\r\n"
                             b"date: Thu, 26 Nov 2026\r\n\r\n")
    with pytest.raises(ValueError, match="control character"):
        server_response(RFC_KEY, headers=[("x-evil", "a\r\nSet-Cookie: x")])
    with pytest.raises(ValueError, match="not a header name"):
        server_response(RFC_KEY, headers=[("bad name", "x")])


def test_rejection_has_the_reason_phrase_and_a_body() -> None:
    assert rejection(403) == (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                              b"Connection: close\r\n\r\n")
    assert rejection(400, headers=[("Content-Type", "text/plain")], body=b"no") == (
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\nno")
    # The example server used to send "426 Bad Request"; the error knows its phrase.
    response = HandshakeError("only version 13", 426).response()
    assert response.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in response
    assert response.endswith(b"\r\n\r\nonly version 13\n")
    with pytest.raises(ValueError, match="status must be an HTTP status code"):
        rejection(1013)


def test_head_reader_collects_until_the_blank_line_with_a_size_cap() -> None:
    reader = HeadReader()
    assert reader.feed(GOOD[:10]) is None
    assert reader.feed(GOOD[10:-1]) is None
    head = reader.feed(GOOD[-1:] + b"\x81\x85")
    assert head is not None and head.start_line == ("GET", "/chat", "HTTP/1.1")
    assert reader.remainder == b"\x81\x85"            # the first frame's bytes, kept
    slow = HeadReader(max_size=64)
    with pytest.raises(HandshakeError, match="larger than 64 bytes") as info:
        for byte in GOOD:
            slow.feed(bytes((byte,)))                 # a slowloris never gets past 64 bytes
    assert info.value.status == 431
    with pytest.raises(TypeError, match="data must be bytes"):
        HeadReader().feed("GET")  # type: ignore[arg-type]


def test_subprotocol_negotiation_both_sides() -> None:
    request, key = client_request("h", "/", subprotocols=["v2.chat", "v1.chat"])
    head = parse_head(request)
    assert offered_subprotocols(head) == ["v2.chat", "v1.chat"]
    assert choose_subprotocol(head, ["v1.chat", "v2.chat"]) == "v1.chat"   # server's order
    assert choose_subprotocol(head, ["other"]) is None
    response = parse_head(server_response(key, subprotocol="v1.chat"))
    assert check_response(response, key, subprotocols=["v2.chat", "v1.chat"]) == "v1.chat"
    assert check_response(parse_head(server_response(key)), key) is None
    with pytest.raises(HandshakeError, match="was not offered"):
        check_response(response, key, subprotocols=["v2.chat"])


def test_version_is_checked_before_the_key_and_keys_have_their_own_messages() -> None:
    no_key = GOOD.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b"")
    old = no_key.replace(b"Version: 13", b"Version: 8")
    with pytest.raises(HandshakeError, match="must be 13, found 8") as info:
        check_request(parse_head(old))
    assert info.value.status == 426                   # was 400 "exactly one key"
    with pytest.raises(HandshakeError, match="missing Sec-WebSocket-Key header"):
        check_request(parse_head(no_key))
    twice = GOOD.replace(b"Origin:", b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin:")
    with pytest.raises(HandshakeError, match="2 Sec-WebSocket-Key headers"):
        check_request(parse_head(twice))


@pytest.mark.parametrize("target", [b"/a\x01b", b"/a\x7fb", b"/a\tb"])
def test_request_targets_with_control_bytes_are_refused(target: bytes) -> None:
    with pytest.raises(HandshakeError, match="malformed HTTP start line"):
        parse_head(GOOD.replace(b"/chat", target))


# -- found by a probe of issue 21: each was accepted, or answered wrongly --------

@pytest.mark.parametrize(("replace", "message"), [
    ((b"Host: server.example.com\r\n", b"Host: a\r\nHost: b\r\n"),
     "2 Host headers; exactly one is allowed (RFC 9112 3.2)"),
    ((b"HTTP/1.1\r\n", b"HTTP/1.1 junk\r\n"), "malformed HTTP start line"),
    ((b"HTTP/1.1\r\n", b"HTTP/1.\r\n"), "malformed HTTP start line"),
    ((b"HTTP/1.1\r\n", b"HTTP/1.10\r\n"), "malformed HTTP start line"),
    ((b"HTTP/1.1\r\n", b"HTTP/2.0\r\n"), "HTTP/1.1 or later is required, not 'HTTP/2.0'"),
    ((b"HTTP/1.1\r\n", b"HTTP/1.0\r\n"), "HTTP/1.1 or later is required, not 'HTTP/1.0'"),
])
def test_requests_the_rfcs_refuse_are_400(replace: tuple[bytes, bytes], message: str) -> None:
    with pytest.raises(HandshakeError) as info:
        check_request(HeadReader().feed(GOOD.replace(*replace)))  # type: ignore[arg-type]
    assert info.value.status == 400 and str(info.value).startswith(message)


def test_a_later_minor_version_is_accepted() -> None:
    head = parse_head(GOOD.replace(b"HTTP/1.1\r\n", b"HTTP/1.2\r\n"))
    assert check_request(head) == RFC_KEY


@pytest.mark.parametrize("bad", [b"HTTP/1.1 1011 Odd\r\n\r\n", b"HTTP/1 101 x\r\n\r\n",
                                 b"HTTP/1.1 10a OK\r\n\r\n"])
def test_malformed_status_lines_are_refused(bad: bytes) -> None:
    with pytest.raises(HandshakeError, match="malformed HTTP start line"):
        parse_head(bad)


def test_head_reader_is_terminal_after_its_error_and_holds_nothing() -> None:
    reader = HeadReader(max_size=64)
    assert reader.feed(b"GET / HTTP/1.1\r\n") is None
    with pytest.raises(HandshakeError) as first:
        reader.feed(b"X-Long: " + b"a" * 100)
    assert first.value.status == 431
    chunk = b"b" * 10_000
    tracemalloc.start()
    for _ in range(100):        # a peer that goes on sending is not buffered
        try:
            reader.feed(chunk)
        except HandshakeError as again:
            assert again is first.value
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held < 20_000        # was 1 MB: every read appended to the head
    broken = HeadReader()
    with pytest.raises(HandshakeError, match="malformed HTTP header line"):
        broken.feed(b"GET / HTTP/1.1\r\nno colon\r\n\r\n")
    with pytest.raises(HandshakeError, match="malformed HTTP header line"):
        broken.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_head_reader_keeps_what_follows_a_head_in_the_same_read() -> None:
    reader = HeadReader(max_size=len(GOOD))
    frame = b"\x81\x85" + b"k" * 4 + b"x" * 50_000      # far over max_size after the head
    assert reader.feed(GOOD + frame) is not None
    assert reader.remainder == frame


@pytest.mark.parametrize(("host", "path"), [("h", "/"), ("127.0.0.1:80", "/a?b=c&d=%20"),
                                            ("[::1]:9", "/~x/y;z"), ("example.com", "//")])
def test_every_request_client_request_builds_passes_check_request(host: str, path: str) -> None:
    request, key = client_request(host, path, origin="http://o", subprotocols=["a", "b"],
                                  extensions="permessage-deflate; client_max_window_bits")
    head = HeadReader().feed(request)
    assert head is not None and head.start_line == ("GET", path, "HTTP/1.1")
    assert check_request(head) == key and head.get("Host") == host


def test_a_non_ascii_key_in_a_request_is_refused_and_its_response_cannot_match() -> None:
    with pytest.raises(HandshakeError, match="base64 of 16 bytes"):
        check_request(parse_head(GOOD.replace(RFC_KEY.encode(), "ключ".encode())))
    response = parse_head(server_response(RFC_KEY))
    # A capture or a proxy hands over whatever key the client sent.
    with pytest.raises(HandshakeError, match="key must be printable ASCII"):
        check_response(response, "ключ".encode().decode("latin-1"))
