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
