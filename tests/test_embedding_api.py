"""What a stack that embeds wsframe needs around the framing (issue 22, part 1):
a connection whose caller answers, the end of the transport, one record of
the Close sent, and messages sent piece by piece (RFC 6455 5.4, 5.5, 7.1;
RFC 7692 7.2.1)."""

from __future__ import annotations

import random

import pytest

from wsframe import (
    BinaryMessage,
    CloseReceived,
    Connection,
    ConnectionClosed,
    MessageReader,
    MessageWriter,
    Opcode,
    Ping,
    ProtocolError,
    Role,
    State,
    TextChunk,
    TextMessage,
    build_close,
    build_frame,
)
from wsframe.extensions.permessage_deflate import DeflateParams, PerMessageDeflate

KEY = b"\x01\x02\x03\x04"


def frames(data: bytes) -> list[tuple[int, int, bytes]]:
    """(first byte, opcode, payload) of each frame a server sent (unmasked)."""
    out, pos = [], 0
    while pos < len(data):
        length = data[pos + 1] & 0x7F
        head = 2
        if length == 126:
            length, head = int.from_bytes(data[pos + 2:pos + 4], "big"), 4
        out.append((data[pos], data[pos] & 0x0F, data[pos + head:pos + head + length]))
        pos += head + length
    return out


# -- auto_reply=False: the caller answers -------------------------------------------

def test_without_auto_reply_pings_are_delivered_and_not_answered() -> None:
    server = Connection(Role.SERVER, auto_reply=False)
    assert list(server.feed(build_frame(Opcode.PING, b"hb", mask=KEY))) == [Ping(b"hb")]
    assert server.data_to_send() == b""
    server.send_pong(b"hb")
    assert server.data_to_send() == build_frame(Opcode.PONG, b"hb")


def test_without_auto_reply_the_peers_close_waits_for_the_callers_answer() -> None:
    server = Connection(Role.SERVER, auto_reply=False)
    events = list(server.feed(build_close(1001, "bye", mask=KEY)))
    assert events == [CloseReceived(1001, "bye")]
    assert server.state is State.REMOTE_CLOSING and server.data_to_send() == b""
    assert server.close_code == 1001 and server.close_sent is None
    for send in (lambda: server.send_text("late"), lambda: server.send_binary(b"x"),
                 server.send_ping, server.send_pong):
        with pytest.raises(ConnectionClosed, match="only close\\(\\) may answer it"):
            send()
    server.close(1000, "ok")                # the caller's answer, its own code
    assert server.state is State.CLOSED
    assert server.data_to_send() == build_close(1000, "ok")
    assert server.close_sent == CloseReceived(1000, "ok")
    server.close(1000)                      # never a second Close
    assert server.data_to_send() == b""


def test_without_auto_reply_a_close_after_ours_completes_the_handshake() -> None:
    client = Connection(Role.CLIENT, auto_reply=False, mask_source=lambda n: KEY)
    client.close(1000)
    client.data_to_send()
    assert list(client.feed(build_close(1000))) == [CloseReceived(1000, "")]
    assert client.state is State.CLOSED and client.data_to_send() == b""


def test_without_auto_reply_a_violation_is_still_answered_with_its_code() -> None:
    server = Connection(Role.SERVER, auto_reply=False)
    with pytest.raises(ProtocolError) as info:
        list(server.feed(b"\x83\x80" + KEY))
    assert info.value.code == 1002 and server.state is State.CLOSED
    assert server.data_to_send() == build_close(1002, info.value.reason)


def test_the_default_still_answers_pings_and_closes() -> None:
    server = Connection(Role.SERVER)
    list(server.feed(build_frame(Opcode.PING, b"p", mask=KEY) + build_close(1000, mask=KEY)))
    assert server.data_to_send() == build_frame(Opcode.PONG, b"p") + build_close(1000)
    assert server.state is State.CLOSED


# -- receive_eof: the transport ended ----------------------------------------------------

def test_eof_without_a_close_is_1006_and_sends_nothing() -> None:
    server = Connection(Role.SERVER)
    held = server.feed(build_frame(Opcode.TEXT, b"hi", mask=KEY))
    server.receive_eof()
    assert list(held) == []                 # an iterator from before stops
    assert server.state is State.CLOSED and server.close_code == 1006
    assert server.data_to_send() == b""
    with pytest.raises(ConnectionClosed, match="the transport ended"):
        server.send_text("late")
    assert list(server.feed(build_frame(Opcode.TEXT, b"x", mask=KEY))) == []


def test_eof_after_our_close_is_1006_and_after_the_handshake_changes_nothing() -> None:
    server = Connection(Role.SERVER)
    server.close(1001)
    server.receive_eof()                    # the peer never answered (RFC 6455 7.1.5)
    assert server.close_code == 1006 and server.close_sent == CloseReceived(1001, "")
    done = Connection(Role.SERVER)
    list(done.feed(build_close(4000, "x", mask=KEY)))
    done.receive_eof()
    assert done.close_code == 4000


# -- one record of the Close sent, and close() alike on Connection and MessageWriter ---------

def test_close_sent_is_the_writers_one_record() -> None:
    writer = MessageWriter(Role.SERVER)
    assert writer.close_sent is None
    assert writer.close(None) == b"\x88\x00"
    assert writer.close_sent == CloseReceived(1005, "")
    assert writer.close(1000) == b""        # as Connection.close: nothing more
    connection = Connection(Role.SERVER)
    connection.close(4001, "why")
    connection.close(1000)
    assert connection.close_sent == CloseReceived(4001, "why")
    assert connection.data_to_send() == build_close(4001, "why")


# -- sending a message piece by piece ------------------------------------------------------

def test_text_pieces_go_out_as_one_fragmented_message() -> None:
    writer = MessageWriter(Role.SERVER)
    wire = writer.text("Hel", final=False)
    assert writer.message_open
    wire += writer.ping(b"!")               # a control frame between the pieces (5.4)
    wire += writer.text("lo, ", final=False) + writer.text("wörld")
    assert not writer.message_open
    assert frames(wire) == [(0x01, 1, b"Hel"), (0x89, 9, b"!"), (0x00, 0, b"lo, "),
                            (0x80, 0, "wörld".encode())]
    events = list(MessageReader(Role.CLIENT).feed(wire))
    assert events == [Ping(b"!"), TextMessage("Hello, wörld")]


def test_binary_pieces_with_fragment_size_and_an_empty_last_piece() -> None:
    writer = MessageWriter(Role.CLIENT, mask_source=lambda n: KEY)
    wire = writer.binary(b"abcdef", fragment_size=4, final=False) + writer.binary(b"")
    reader = MessageReader(Role.SERVER)
    assert list(reader.feed(wire)) == [BinaryMessage(b"abcdef")]
    parser_view = [(b & 0x8F) for b in (wire[0], wire[10], wire[18])]
    assert parser_view == [0x02, 0x00, 0x80]    # BINARY, CONTINUATION, CONTINUATION+FIN


def test_the_other_kind_while_a_message_is_open_is_refused() -> None:
    writer = MessageWriter(Role.SERVER)
    writer.text("a", final=False)
    with pytest.raises(ValueError, match="a text message is being sent piece by piece"):
        writer.binary(b"b")
    assert writer.text("b") == b"\x80\x01b"     # the open one goes on


@pytest.mark.parametrize("takeover", [True, False])
def test_compressed_pieces_inflate_as_they_arrive_and_keep_the_window(takeover: bool) -> None:
    params = DeflateParams(server_no_context_takeover=not takeover)
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER, params)])
    reader = MessageReader(Role.CLIENT, stream=True,
                           extensions=[PerMessageDeflate(Role.CLIENT, params)])
    rng = random.Random(4)
    for _ in range(3):
        pieces = ["".join(rng.choice("ab é") for _ in range(rng.randint(0, 3000)))
                  for _ in range(4)]
        sent = [writer.text(piece, final=index == 3) for index, piece in enumerate(pieces)]
        assert sent[0][0] == 0x41                # RSV1 on the first frame only (RFC 7692 6)
        assert all(frame[0] & 0x70 == 0 for frame in sent[1:])
        got = ""
        for index, piece_bytes in enumerate(sent):
            chunks = list(reader.feed(piece_bytes))
            got += "".join(c.text for c in chunks if isinstance(c, TextChunk))
            # Each piece is readable when it arrives: sync-flushed, not held back.
            assert got == "".join(pieces[:index + 1]), index
        # A whole message after the pieces reads back too (the window carried over).
        whole = writer.text(pieces[0] or "x")
        assert [e for e in reader.feed(whole) if isinstance(e, TextChunk)][-1].final


def test_compress_false_on_the_first_piece_sends_the_message_plain() -> None:
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER)])
    wire = writer.binary(b"ab", final=False, compress=False) + writer.binary(b"cd")
    assert wire == b"\x02\x02ab\x80\x02cd"


def test_a_close_abandons_the_open_message() -> None:
    writer = MessageWriter(Role.SERVER)
    writer.text("a", final=False)
    assert writer.close(1000) == build_close(1000)
    assert not writer.message_open


def test_connection_sends_pieces_too() -> None:
    server = Connection(Role.SERVER)
    server.send_binary(b"ab", final=False)
    server.send_binary(b"cd")
    assert list(MessageReader(Role.CLIENT).feed(server.data_to_send())) == [
        BinaryMessage(b"abcd")]


# -- close codes at the boundary -----------------------------------------------------------

@pytest.mark.parametrize(("code", "reason", "fitted"), [
    (1000, "bye", (1000, "bye")),
    (4999, "", (4999, "")),
    (1004, "reserved", (1000, "reserved")),
    (1005, "ignored", (None, "")),
    (1006, "lost", (1011, "lost")),
    (1015, "tls", (1011, "tls")),
    (2000, "", (1000, "")),
    (999, "", (1000, "")),
    (5000, "", (1000, "")),
    (-1, "", (1000, "")),
    (None, "no code, no reason", (None, "")),
    (1001, "é" * 62, (1001, "é" * 61)),           # 124 bytes: the last character cut whole
    (1001, "x" * 200, (1001, "x" * 123)),
    (1001, "a\ud800b", (1001, "a?b")),
])
def test_fit_close_gives_what_build_close_accepts(code: int | None, reason: str,
                                                  fitted: tuple[int | None, str]) -> None:
    from wsframe import fit_close
    assert fit_close(code, reason) == fitted
    build_close(*fit_close(code, reason))       # never raises


def test_fit_close_names_its_arguments() -> None:
    from wsframe import fit_close
    with pytest.raises(TypeError, match=r"^code must be an int or None, not str$"):
        fit_close("1000")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^reason must be a str, not bytes$"):
        fit_close(1000, b"x")  # type: ignore[arg-type]


# -- handshake errors and responses for machines ----------------------------------------------

from wsframe.handshake import (  # noqa: E402  (this part's imports, kept with its tests)
    BodyReader,
    HandshakeError,
    HeadReader,
    accept_headers,
    accept_key,
    body_chunk,
    check_connect,
    check_request,
    check_response,
    offered_subprotocols,
    parse_head,
    rejection,
    response_head,
    server_response,
)

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = (b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


@pytest.mark.parametrize(("replace", "header", "found", "required"), [
    ((b"GET", b"PUT"), "method", "PUT", "GET"),
    ((b"Upgrade: websocket", b"Upgrade: h2c"), "Upgrade", "h2c", "websocket"),
    ((b"Version: 13", b"Version: 8"), "Sec-WebSocket-Version", "8", "13"),
    ((b"Sec-WebSocket-Version: 13\r\n", b""), "Sec-WebSocket-Version", None, "13"),
    ((RFC_KEY.encode(), b"c2hvcnQ="), "Sec-WebSocket-Key", "c2hvcnQ=", "base64 of 16 bytes"),
    ((b"Host: h\r\n", b"Host: a\r\nHost: b\r\n"), "Host", "a, b", "exactly one Host header"),
])
def test_a_handshake_error_carries_its_cause_as_data(
        replace: tuple[bytes, bytes], header: str, found: str | None, required: str) -> None:
    with pytest.raises(HandshakeError) as info:
        check_request(parse_head(GOOD.replace(*replace)))
    error = info.value
    assert (error.header, error.found, error.required) == (header, found, required)


def test_a_response_error_names_the_accept_it_required() -> None:
    head = parse_head(server_response(RFC_KEY).replace(b"s3pP", b"XXXX"))
    with pytest.raises(HandshakeError) as info:
        check_response(head, RFC_KEY)
    assert info.value.header == "Sec-WebSocket-Accept"
    assert info.value.required == accept_key(RFC_KEY)
    assert info.value.found == accept_key(RFC_KEY).replace("s3pP", "XXXX")


def test_a_bare_head_and_a_chunked_body() -> None:
    head = response_head(403, headers=[("Transfer-Encoding", "chunked")], close=False)
    assert head == b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = body_chunk(b"no ") + body_chunk(bytearray(b"entry")) + body_chunk(b"")
    assert body == b"3\r\nno \r\n5\r\nentry\r\n0\r\n\r\n"


@pytest.mark.parametrize("cut", [1, 2, 3, 7, 1000])
def test_body_reader_reads_chunked_length_and_eof_bodies_in_any_cut(cut: int) -> None:
    wire = {
        "chunked": response_head(403, headers=[("Transfer-Encoding", "chunked")], close=False)
        + b"3;ext=1\r\nno \r\n5\r\nentry\r\n0\r\nX-Trailer: 1\r\n\r\nLEFT",
        "length": rejection(403, body=b"no entry") + b"LEFT",
        "eof": response_head(403) + b"no entry",
    }
    for kind, data in wire.items():
        head_reader = HeadReader()
        head = None
        for start in range(0, len(data), cut):
            head = head_reader.feed(data[start:start + cut])
            if head is not None:
                break
        assert head is not None
        reader = BodyReader(head)
        rest = head_reader.remainder + data[start + cut:]
        body = b"".join(reader.feed(rest[i:i + cut]) for i in range(0, len(rest), cut))
        if kind == "eof":
            assert not reader.done
            reader.feed_eof()
        assert reader.done and body == b"no entry", kind


def test_body_reader_refuses_truncated_oversized_and_malformed_bodies() -> None:
    truncated = BodyReader(parse_head(b"HTTP/1.1 400 Bad\r\nContent-Length: 10\r\n\r\n"))
    assert truncated.feed(b"abc") == b"abc"
    with pytest.raises(HandshakeError, match="closed before the end"):
        truncated.feed_eof()
    big = BodyReader(parse_head(b"HTTP/1.1 400 Bad\r\n\r\n"), max_size=4)
    assert big.feed(b"12345") == b"1234"        # what fits, then the error
    with pytest.raises(HandshakeError, match="larger than 4 bytes"):
        big.feed(b"")                           # terminal
    with pytest.raises(HandshakeError, match="larger than 4 bytes"):
        big.feed_eof()
    chunked = BodyReader(parse_head(b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n"))
    with pytest.raises(HandshakeError, match="invalid chunk size line"):
        chunked.feed(b"zz\r\n")
    with pytest.raises(HandshakeError, match="invalid Content-Length"):
        BodyReader(parse_head(b"HTTP/1.1 400 Bad\r\nContent-Length: 1\r\n"
                              b"Content-Length: 2\r\n\r\n"))
    assert BodyReader(parse_head(b"HTTP/1.1 204 No Content\r\n\r\n")).done


# -- WebSockets over HTTP/2 and HTTP/3 (RFC 8441, RFC 9220) ------------------------------------

CONNECT = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"),
           (":path", "/chat"), (":authority", "example.com"),
           ("sec-websocket-version", "13"), ("sec-websocket-protocol", "chat, superchat"),
           ("sec-websocket-extensions", "permessage-deflate")]


def test_an_extended_connect_is_checked_and_answered_200_without_a_key() -> None:
    head = check_connect(CONNECT)
    assert head.start_line == ("CONNECT", "/chat", "HTTP/2")
    assert offered_subprotocols(head) == ["chat", "superchat"]
    assert head.get("Sec-WebSocket-Extensions") == "permessage-deflate"
    assert check_connect([(n.encode(), v.encode()) for n, v in CONNECT]).start_line == (
        "CONNECT", "/chat", "HTTP/2")
    assert accept_headers(None, subprotocol="chat", extensions="permessage-deflate") == (
        200, [("Sec-WebSocket-Extensions", "permessage-deflate"),
              ("Sec-WebSocket-Protocol", "chat")])
    assert accept_headers(RFC_KEY) == (101, [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")])


@pytest.mark.parametrize(("change", "status", "header"), [
    ((":method", "GET"), 405, ":method"),
    ((":protocol", "h2c"), 400, ":protocol"),
    ((":path", ""), 400, ":path"),
    (("sec-websocket-version", "8"), 426, "Sec-WebSocket-Version"),
])
def test_a_bad_extended_connect_is_refused_with_its_cause(
        change: tuple[str, str], status: int, header: str) -> None:
    headers = [(n, change[1] if n == change[0] else v) for n, v in CONNECT]
    with pytest.raises(HandshakeError) as info:
        check_connect(headers)
    assert info.value.status == status and info.value.header == header


def test_server_response_without_a_key_points_to_accept_headers() -> None:
    with pytest.raises(TypeError, match=r"use accept_headers\(None, \.\.\.\)"):
        server_response(None)  # type: ignore[arg-type]


# -- deflate negotiation without a role ------------------------------------------------------

def test_one_agreement_builds_both_sides() -> None:
    from wsframe.extensions import accept_offer, negotiate
    offer_header = "permessage-deflate; client_max_window_bits; server_no_context_takeover"
    params = negotiate(offer_header)
    assert params is not None
    assert params.header() == accept_offer(offer_header)[0]  # type: ignore[index]
    server_side = PerMessageDeflate(Role.SERVER, params)
    client_side = PerMessageDeflate(Role.CLIENT, params)
    writer = MessageWriter(Role.SERVER, extensions=[server_side])
    reader = MessageReader(Role.CLIENT, extensions=[client_side])
    for text in ("one", "two" * 100, "three"):
        assert list(reader.feed(writer.text(text))) == [TextMessage(text)]
    assert negotiate("x-other, permessage-deflate; bogus=1") is None


def test_a_relay_forwards_a_streamed_message_chunk_by_chunk() -> None:
    """What a streaming reader gives, MessageWriter.send passes on piece by
    piece (mitmproxy's case): the far side reads the same message, with the
    Ping in the middle still in the middle."""
    sender = MessageWriter(Role.CLIENT, mask_source=lambda n: KEY)
    wire = (sender.text("Grüße, ", final=False) + sender.ping(b"hb")
            + sender.text("wörld"))
    relay_in = MessageReader(Role.SERVER, stream=True)
    relay_out = MessageWriter(Role.SERVER)
    reads = [wire[:5], wire[5:9], wire[9:]]        # cut inside the first piece
    forwarded = b"".join(relay_out.send(event) for read in reads
                         for event in relay_in.feed(read))
    assert list(MessageReader(Role.CLIENT).feed(forwarded)) == [
        Ping(b"hb"), TextMessage("Grüße, wörld")]


@pytest.mark.parametrize("headers", [[(":method", "CONNECT", "x")], [":method"], "x", None,
                                     [(":method", 5)]])
def test_check_connect_names_bad_arguments(headers: object) -> None:
    with pytest.raises(TypeError, match=r"^headers"):
        check_connect(headers)  # type: ignore[arg-type]


def test_body_reader_gives_the_same_body_and_error_for_every_split() -> None:
    """Found by the handshake fuzzer: read whole, a broken chunked body lost
    the bytes before the break; read in pieces, they came out first."""
    head = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"5;x=y\r\nhello\r\n1A\r\nabcdefg" + b"\xab" * 19 + b"\r\nzz\r\n"
    outcomes = set()
    for cut in range(1, len(body) + 1):
        reader = BodyReader(parse_head(head))
        got = b""
        try:
            for start in range(0, len(body), cut):
                got += reader.feed(body[start:start + cut])
            reader.feed_eof()
            error = None
        except HandshakeError as exc:
            error = str(exc)
        outcomes.add((got, error))
    assert outcomes == {(b"hello" + b"abcdefg" + b"\xab" * 19,
                         "invalid chunk size line b'zz' (RFC 9112 7.1)")}
