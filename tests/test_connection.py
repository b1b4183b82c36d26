"""Connection: the one owner of the closing handshake (RFC 6455 5.5.1, 7.1)."""

from __future__ import annotations

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
    Pong,
    ProtocolError,
    Role,
    State,
    TextMessage,
    build_close,
    build_frame,
)

KEY = b"\x01\x02\x03\x04"


def replies(data: bytes) -> list[object]:
    """The server's bytes, as a client reads them."""
    return list(MessageReader(Role.CLIENT).feed(data))


def test_the_peer_closes_first_and_is_answered_with_its_code_and_reason() -> None:
    server = Connection(Role.SERVER)
    events = list(server.feed(build_close(4000, "bye", mask=KEY)))
    assert events == [CloseReceived(4000, "bye")]
    assert server.state is State.CLOSED and server.close_code == 4000
    assert server.data_to_send() == build_close(4000, "bye")
    # Nothing after that: bytes are ignored, sending is refused with a clear error.
    assert list(server.feed(build_frame(Opcode.TEXT, b"late", mask=KEY))) == []
    with pytest.raises(ConnectionClosed, match="cannot send a text message: the peer closed"):
        server.send_text("too late")


def test_an_empty_close_is_1005_and_answered_empty() -> None:
    server = Connection(Role.SERVER)
    assert list(server.feed(build_close(None, mask=KEY))) == [CloseReceived(1005, "")]
    assert server.data_to_send() == b"\x88\x00" and server.close_code == 1005


def test_this_side_closes_first_then_the_reply_completes_the_handshake() -> None:
    server = Connection(Role.SERVER)
    server.send_text("last words")
    server.close(1001, "going away")
    assert server.state is State.CLOSING
    assert replies(server.data_to_send()) == [TextMessage("last words"),
                                              CloseReceived(1001, "going away")]
    server.close(1000)                                     # never a second Close
    assert server.data_to_send() == b""
    with pytest.raises(ConnectionClosed, match="this side sent a Close frame"):
        server.send_binary(b"x")
    assert list(server.feed(build_close(1001, mask=KEY))) == [CloseReceived(1001, "")]
    assert server.state is State.CLOSED and server.data_to_send() == b""   # no echo


def test_a_violation_fails_the_connection_once_with_its_code() -> None:
    server = Connection(Role.SERVER)
    wire = build_frame(Opcode.TEXT, b"ok", mask=KEY) + b"\x83\x80" + KEY     # opcode 0x3
    iterator = server.feed(wire)
    assert next(iterator) == TextMessage("ok")
    with pytest.raises(ProtocolError) as info:
        next(iterator)
    assert info.value.code == 1002 and server.state is State.CLOSED
    assert server.failure is info.value
    assert server.data_to_send() == build_close(1002, "reserved opcode 0x3")
    assert list(server.feed(b"\x83\x80" + KEY)) == []      # ignored: no second Close
    assert server.data_to_send() == b""


def test_after_a_1013_close_a_broken_frame_gets_no_second_close() -> None:
    """The example server, run with --max-connections 0, used to answer a reserved
    opcode after its 1013 Close with a second Close (1002)."""
    server = Connection(Role.SERVER)
    server.close(1013, "busy")
    first = server.data_to_send()
    assert first == build_close(1013, "busy")
    with pytest.raises(ProtocolError):
        list(server.feed(b"\x83\x80" + KEY))
    assert server.state is State.CLOSED and server.data_to_send() == b""


def test_fail_gives_the_close_frame_then_stops() -> None:
    server = Connection(Role.SERVER)
    error = ProtocolError(*_violation_1009())
    server.fail(error)
    assert server.data_to_send() == build_close(1009, "too big") and server.close_code == 1009
    server.fail(error)
    assert server.data_to_send() == b""
    with pytest.raises(TypeError, match="error must be a ProtocolError"):
        server.fail("x")  # type: ignore[arg-type]


def _violation_1009() -> tuple[object, str]:
    from wsframe import Violation
    return Violation.MESSAGE_TOO_BIG, "too big"


def test_pings_are_answered_in_wire_order_before_the_close_reply() -> None:
    left, right = Connection(Role.CLIENT), Connection(Role.SERVER)
    left.send_ping(b"p")
    left.send_text("hé")
    left.close(1001, "bye")
    events = list(right.feed(left.data_to_send()))       # all in one read
    assert [type(e).__name__ for e in events] == ["Ping", "TextMessage", "CloseReceived"]
    # The Pong goes before the Close reply: nothing may follow a Close frame.
    answer = list(left.feed(right.data_to_send()))
    assert answer == [Pong(b"p"), CloseReceived(1001, "bye")]
    assert left.state is State.CLOSED and right.state is State.CLOSED
    assert MessageWriter(Role.SERVER).close_reply(CloseReceived(1005, "")) == b"\x88\x00"


def test_an_echo_of_a_message_before_the_close_goes_out_before_the_close_reply() -> None:
    """A message and the peer's Close in one read: what the caller sends in
    answer to the message precedes the Close reply (nothing may follow it)."""
    server = Connection(Role.SERVER)
    wire = build_frame(Opcode.BINARY, b"abc", mask=KEY) + build_close(3000, "done", mask=KEY)
    seen = []
    for event in server.feed(wire):
        seen.append(event)
        if isinstance(event, BinaryMessage):
            assert server.state is State.OPEN        # the Close has not taken effect yet
            server.send_binary(event.data)
    assert seen == [BinaryMessage(b"abc"), CloseReceived(3000, "done")]
    assert server.state is State.CLOSED
    assert server.data_to_send() == build_frame(Opcode.BINARY, b"abc") + build_close(3000, "done")


def test_an_echo_before_a_violation_goes_out_before_the_1002_close() -> None:
    server = Connection(Role.SERVER)
    wire = build_frame(Opcode.TEXT, b"hi", mask=KEY) + b"\x83\x80" + KEY
    with pytest.raises(ProtocolError) as info:
        for event in server.feed(wire):
            assert isinstance(event, TextMessage)
            server.send_text(event.text)
    assert info.value.code == 1002
    assert server.data_to_send() == (build_frame(Opcode.TEXT, b"hi")
                                      + build_close(1002, "reserved opcode 0x3"))


def test_events_left_unread_take_effect_at_the_next_feed() -> None:
    server = Connection(Role.SERVER)
    events = server.feed(build_frame(Opcode.PING, b"p", mask=KEY)
                         + build_close(1000, mask=KEY) + b"\x83\x80" + KEY)
    del events                                     # never iterated
    assert server.data_to_send() == b"" and server.state is State.OPEN
    assert list(server.feed(build_frame(Opcode.TEXT, b"late", mask=KEY))) == []
    assert server.data_to_send() == build_frame(Opcode.PONG, b"p") + build_close(1000)
    assert server.state is State.CLOSED and server.close_code == 1000
    assert server.failure is None                 # the Close came before the bad frame


def test_data_to_send_in_the_middle_of_the_loop_holds_what_was_reached() -> None:
    """An embedder flushes after each message it handed on; the peer's Close
    further in the same read is not answered before the loop reaches it."""
    server = Connection(Role.SERVER)
    events = server.feed(build_frame(Opcode.PING, b"p", mask=KEY)
                         + build_frame(Opcode.TEXT, b"m", mask=KEY) + build_close(1001, mask=KEY))
    assert next(events) == Ping(b"p")
    assert next(events) == TextMessage("m")
    assert server.data_to_send() == build_frame(Opcode.PONG, b"p")
    assert server.state is State.OPEN
    server.send_text("echo")
    assert next(events) == CloseReceived(1001, "")
    assert server.data_to_send() == build_frame(Opcode.TEXT, b"echo") + build_close(1001)


# -- found by a probe of issue 21 ---------------------------------------------------

def test_an_iterator_from_an_earlier_feed_never_yields_a_later_feeds_events() -> None:
    server = Connection(Role.SERVER)
    stale = server.feed(build_frame(Opcode.TEXT, b"one", mask=KEY))
    fresh = server.feed(build_frame(Opcode.TEXT, b"two", mask=KEY))
    assert list(stale) == []
    assert list(fresh) == [TextMessage("two")]


def test_fail_after_a_clean_close_changes_nothing() -> None:
    server = Connection(Role.SERVER)
    server.close(1000)
    list(server.feed(build_close(1000, mask=KEY)))
    assert server.state is State.CLOSED
    server.data_to_send()
    server.fail(ProtocolError.__new__(ProtocolError))  # any ProtocolError
    assert server.failure is None and server.close_code == 1000
    assert server.data_to_send() == b""


def test_a_broken_deflate_stream_fails_the_connection_with_1007() -> None:
    # The 25-byte stream of issue 21: message 2 would start inside message
    # 1's stored block; zlib.error escaped Connection.feed.
    from wsframe.extensions import PerMessageDeflate
    client = Connection(Role.CLIENT, extensions=[PerMessageDeflate(Role.CLIENT)],
                        mask_source=lambda n: KEY)
    wire = bytes.fromhex("c20d000d00f2ff7878787878787878c20879cb48cdc9c90700")
    with pytest.raises(ProtocolError) as info:
        list(client.feed(wire))
    assert info.value.code == 1007 and client.state is State.CLOSED
    reply = MessageReader(Role.SERVER).feed(client.data_to_send())
    assert list(reply) == [CloseReceived(1007, info.value.reason)]


def test_a_subclass_of_bytes_is_read_like_bytes() -> None:
    class Received(bytes):
        pass

    wire = build_frame(Opcode.TEXT, b"hello", mask=KEY)
    for pieces in ([wire], [wire[:3], wire[3:]], [wire[:1], wire[1:8], wire[8:]]):
        reader = MessageReader(Role.SERVER)
        events = [e for piece in pieces for e in reader.feed(Received(piece))]
        assert events == [TextMessage("hello")]


def test_a_terminal_reader_raises_the_same_error_without_growing() -> None:
    import tracemalloc
    reader = MessageReader(Role.SERVER)
    with pytest.raises(ProtocolError) as first:
        list(reader.feed(b"\x83\x80abcd"))
    tracemalloc.start()
    for _ in range(1000):
        try:
            reader.feed(b"x")
        except ProtocolError as again:
            assert again is first.value
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert held < 10_000        # each raise added to one traceback: 350 KB
