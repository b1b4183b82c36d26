"""RFC 6455 section 4 helpers: Sec-WebSocket-Accept, request and response checks."""

from __future__ import annotations

import pytest

from wsframe.handshake import (
    HandshakeError,
    accept_key,
    check_request,
    check_response,
    client_request,
    parse_head,
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
