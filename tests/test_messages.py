"""MessageReader and MessageWriter: reassembly, limits, streaming, close handshake."""

from __future__ import annotations

import itertools
import random

import pytest
from splitting import SPLIT_MODES, chunks, run

from wsframe import Opcode, ProtocolError, Role, Violation, build_close, build_frame
from wsframe.messages import (
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Event,
    MessageReader,
    MessageWriter,
    Ping,
    Pong,
    TextChunk,
    TextMessage,
)

KEY = b"\x11\x22\x33\x44"


def client_frame(opcode: Opcode, payload: bytes = b"", fin: bool = True) -> bytes:
    """A masked frame; may break a rule on purpose (invalid UTF-8, bad Close)."""
    return build_frame(opcode, payload, fin=fin, mask=KEY, validate=False)


def read_all(stream: bytes, mode: str = "whole", **kwargs: object
             ) -> tuple[list[Event], ProtocolError | None]:
    reader = MessageReader(Role.SERVER, **kwargs)  # type: ignore[arg-type]
    return run(reader.feed, chunks(stream, mode, seed=11))


# -- reassembly ---------------------------------------------------------------

@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_valid_text_split_at_every_byte_boundary_into_two_fragments(mode: str) -> None:
    text = "Hello-µ@ßöäüàá κόσμε 中文 😀"
    data = text.encode()
    for k in range(len(data) + 1):
        stream = client_frame(Opcode.TEXT, data[:k], fin=False) + \
            client_frame(Opcode.CONTINUATION, data[k:])
        assert read_all(stream, mode) == ([TextMessage(text)], None)


def test_control_frames_between_fragments_come_first() -> None:
    stream = (client_frame(Opcode.BINARY, b"ab", fin=False) + client_frame(Opcode.PING, b"1") +
              client_frame(Opcode.CONTINUATION, b"cd", fin=False) +
              client_frame(Opcode.PONG, b"2") + client_frame(Opcode.CONTINUATION, b"ef"))
    for mode in SPLIT_MODES:
        assert read_all(stream, mode) == (
            [Ping(b"1"), Pong(b"2"), BinaryMessage(b"abcdef")], None)


def test_many_fragments_reassemble_in_order() -> None:
    rng = random.Random(5)
    data = rng.randbytes(50_000)
    cuts = sorted(rng.sample(range(1, len(data)), 300))
    pieces = [data[a:b] for a, b in itertools.pairwise([0, *cuts, len(data)])]
    stream = b"".join(client_frame(Opcode.BINARY if i == 0 else Opcode.CONTINUATION, piece,
                                   fin=i == len(pieces) - 1) for i, piece in enumerate(pieces))
    for mode in ("whole", "random"):
        assert read_all(stream, mode) == ([BinaryMessage(data)], None)


# -- size limits ------------------------------------------------------------------

def test_message_over_limit_fails_at_the_crossing_frame_before_its_payload() -> None:
    """20 fragments of 100 bytes with a 1000-byte limit: the 11th frame's header
    already proves the message too big; its payload is never needed."""
    frames = [client_frame(Opcode.TEXT if i == 0 else Opcode.CONTINUATION, b"x" * 100,
                           fin=i == 19) for i in range(20)]
    stream = b"".join(frames)
    crossing = sum(len(f) for f in frames[:10])
    for mode in SPLIT_MODES:
        events, error = read_all(stream, mode, max_message_size=1000)
        assert events == []
        assert error is not None and error.code == 1009
        assert error.violation is Violation.MESSAGE_TOO_BIG
        assert error.offset == crossing
    # The crossing frame's complete header (2 bytes + 4-byte key) is enough:
    # none of its payload is read or kept.
    reader = MessageReader(Role.SERVER, max_message_size=1000)
    list(reader.feed(stream[:crossing + 5]))
    with pytest.raises(ProtocolError):
        list(reader.feed(stream[crossing + 5:crossing + 6]))


def test_message_exactly_at_limit_is_accepted() -> None:
    stream = client_frame(Opcode.BINARY, b"a" * 600, fin=False) + \
        client_frame(Opcode.CONTINUATION, b"b" * 400)
    assert read_all(stream, "random", max_message_size=1000) == (
        [BinaryMessage(b"a" * 600 + b"b" * 400)], None)
    events, error = read_all(stream + client_frame(Opcode.TEXT, b"x" * 1001),
                             max_message_size=1000)
    assert events == [BinaryMessage(b"a" * 600 + b"b" * 400)]
    assert error is not None and error.code == 1009


def test_single_frame_over_message_limit_and_frame_limit() -> None:
    events, error = read_all(client_frame(Opcode.TEXT, b"x" * 51), max_message_size=50)
    assert events == [] and error is not None and error.code == 1009
    assert error.violation is Violation.MESSAGE_TOO_BIG
    events, error = read_all(client_frame(Opcode.TEXT, b"x" * 51), max_frame_size=50)
    assert error is not None and error.violation is Violation.FRAME_TOO_BIG


def test_limits_can_be_disabled() -> None:
    payload = b"z" * (2**20 + 10)
    stream = client_frame(Opcode.BINARY, payload)
    assert read_all(stream, max_message_size=None, max_frame_size=None) == (
        [BinaryMessage(payload)], None)
    _events, error = read_all(stream)
    assert error is not None and error.code == 1009


def test_bad_limit_arguments() -> None:
    with pytest.raises(ValueError, match="max_message_size"):
        MessageReader(Role.SERVER, max_message_size=-5)
    with pytest.raises(ValueError, match="max_frame_size must be an int >= 0 or None, not -1"):
        MessageReader(Role.SERVER, max_frame_size=-1)
    with pytest.raises(TypeError, match="max_frame_size must be an int >= 0 or None, not str"):
        MessageReader(Role.SERVER, max_frame_size="big")  # type: ignore[arg-type]
    assert MessageReader(role=Role.CLIENT).role is Role.CLIENT


# -- fail-fast UTF-8 --------------------------------------------------------------

def test_invalid_utf8_in_a_non_final_fragment_fails_at_once() -> None:
    reader = MessageReader(Role.SERVER)
    assert list(reader.feed(client_frame(Opcode.TEXT, b"ok", fin=False))) == []
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(client_frame(Opcode.CONTINUATION, b"\xc0\xaf", fin=False)))
    assert info.value.code == 1007
    assert info.value.offset == 8


def test_invalid_utf8_inside_an_incomplete_frame_fails_at_once() -> None:
    payload = b"valid so far, then \xff and more"
    frame = client_frame(Opcode.TEXT, payload)
    bad = 6 + payload.index(b"\xff")          # 2-byte header + 4-byte key
    reader = MessageReader(Role.SERVER)
    list(reader.feed(frame[:bad]))
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(frame[bad:bad + 1]))
    assert info.value.code == 1007


def test_truncated_utf8_at_message_end_is_1007() -> None:
    stream = client_frame(Opcode.TEXT, b"ok\xe2\x82", fin=False) + \
        client_frame(Opcode.CONTINUATION, b"")
    for mode in SPLIT_MODES:
        events, error = read_all(stream, mode)
        assert events == [] and error is not None and error.code == 1007
        assert error.offset == 10


# -- streaming ----------------------------------------------------------------------

def test_streaming_hands_out_pieces_as_they_arrive() -> None:
    reader = MessageReader(Role.SERVER, stream=True, max_message_size=None)
    payload = bytes(range(256)) * 40
    frame = client_frame(Opcode.BINARY, payload)    # header: 2 + 2 (length) + 4 (key)
    assert list(reader.feed(frame[:10])) == [BinaryChunk(payload[:2], False)]
    assert list(reader.feed(frame[10:5000])) == [BinaryChunk(payload[2:4992], False)]
    assert list(reader.feed(frame[5000:])) == [BinaryChunk(payload[4992:], True)]


def test_streaming_text_never_splits_a_character() -> None:
    text = "😀" * 50
    frame = client_frame(Opcode.TEXT, text.encode())
    reader = MessageReader(Role.SERVER, stream=True)
    pieces = [e for b in range(len(frame)) for e in reader.feed(frame[b:b + 1])]
    assert all(isinstance(p, TextChunk) for p in pieces)
    assert "".join(p.text for p in pieces) == text  # type: ignore[union-attr]
    assert len(pieces) == 50 and pieces[-1] == TextChunk("😀", True)


def test_streaming_small_message_is_one_final_chunk() -> None:
    reader = MessageReader(Role.SERVER, stream=True)
    assert list(reader.feed(client_frame(Opcode.TEXT, b"hi"))) == [TextChunk("hi", True)]
    assert list(reader.feed(client_frame(Opcode.BINARY, b""))) == [BinaryChunk(b"", True)]


# -- close handshake ------------------------------------------------------------------

def test_everything_after_close_is_discarded() -> None:
    stream = client_frame(Opcode.TEXT, b"before") + build_close(1001, "going", mask=KEY) + \
        client_frame(Opcode.PING) + b"\xff\xff garbage that is not even a frame"
    for mode in SPLIT_MODES:
        reader = MessageReader(Role.SERVER)
        events, error = run(reader.feed, chunks(stream, mode))
        assert (events, error) == ([TextMessage("before"), CloseReceived(1001, "going")], None)
        assert reader.closed
        assert list(reader.feed(b"\x83\x00more")) == []


def test_reader_is_terminal_after_an_error() -> None:
    reader = MessageReader(Role.SERVER)
    with pytest.raises(ProtocolError) as first:
        list(reader.feed(client_frame(Opcode.TEXT, b"\xff")))
    assert reader.error is first.value
    with pytest.raises(ProtocolError) as again:
        reader.feed(client_frame(Opcode.TEXT, b"fine"))
    assert again.value is first.value


def test_message_error_before_a_frame_error_in_the_same_feed_wins() -> None:
    stream = client_frame(Opcode.TEXT, b"\xff") + b"\x83\x80" + KEY
    _events, error = read_all(stream)
    assert error is not None and error.code == 1007 and error.offset == 0


# -- writer -----------------------------------------------------------------------------

def keys() -> object:
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def test_client_writer_masks_every_frame_with_a_fresh_key() -> None:
    writer = MessageWriter(Role.CLIENT, mask_source=keys())  # type: ignore[arg-type]
    assert writer.text("Hello") == build_frame(Opcode.TEXT, b"Hello", mask=b"\0\0\0\1")
    assert writer.ping(b"p") == build_frame(Opcode.PING, b"p", mask=b"\0\0\0\2")
    assert writer.binary(b"abcdef", fragment_size=4) == (
        build_frame(Opcode.BINARY, b"abcd", fin=False, mask=b"\0\0\0\3") +
        build_frame(Opcode.CONTINUATION, b"ef", mask=b"\0\0\0\4"))


def test_client_writer_uses_os_urandom_by_default() -> None:
    writer = MessageWriter(Role.CLIENT)
    a, b = writer.text("x"), writer.text("x")
    assert a[1] == b[1] == 0x81 and a[2:6] != b[2:6]


def test_server_writer_does_not_mask() -> None:
    writer = MessageWriter(Role.SERVER)
    assert writer.text("Hello") == bytes.fromhex("810548656c6c6f")
    assert writer.pong(b"Hello") == bytes.fromhex("8a0548656c6c6f")
    assert writer.text("héllo", fragment_size=2) == (
        b"\x01\x02h\xc3" + b"\x00\x02\xa9l" + b"\x80\x02lo")


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
@pytest.mark.parametrize("fragment_size", [None, 1, 7, 1000])
def test_writer_reader_round_trip(role: Role, fragment_size: int | None) -> None:
    writer = MessageWriter(role)
    reader = MessageReader(Role.CLIENT if role is Role.SERVER else Role.SERVER)
    messages: list[Event] = [TextMessage("κόσμε " * 50), BinaryMessage(bytes(range(256)) * 9),
                             Ping(b"are you there"), Pong(b""), TextMessage("")]
    wire = b"".join(
        writer.text(m.text, fragment_size=fragment_size) if isinstance(m, TextMessage) else
        writer.binary(m.data, fragment_size=fragment_size) if isinstance(m, BinaryMessage) else
        writer.send(m) for m in messages)
    wire += writer.close(1013, "busy")
    assert list(reader.feed(wire)) == [*messages, CloseReceived(1013, "busy")]


def test_close_reply_echoes_the_code_and_reason_or_is_empty() -> None:
    writer = MessageWriter(Role.SERVER)
    assert writer.close_reply(CloseReceived(1001, "bye")) == build_close(1001, "bye")
    assert writer.close_sent
    assert writer.close_reply(CloseReceived(1000, "")) == b"", "handshake already complete"
    # An empty Close frame is reported as 1005 (RFC 6455 7.1.5), and answered empty.
    assert list(MessageReader(Role.CLIENT).feed(b"\x88\x00")) == [CloseReceived(1005, "")]
    assert MessageWriter(Role.SERVER).close_reply(CloseReceived(1005, "")) == b"\x88\x00"
    client = MessageWriter(Role.CLIENT, mask_source=lambda n: b"\0" * n)
    assert client.close_reply(CloseReceived(4000, "")) == b"\x88\x82\0\0\0\0\x0f\xa0"


def test_writer_refuses_data_after_close_and_bad_input() -> None:
    writer = MessageWriter(Role.SERVER)
    writer.close(1000)
    with pytest.raises(RuntimeError, match="after a Close frame"):
        writer.text("late")
    # One Close per connection: a second close() sends nothing (as on Connection).
    assert writer.close(1001) == b"" and writer.close_sent == CloseReceived(1000, "")
    fresh = MessageWriter(Role.SERVER)
    with pytest.raises(TypeError, match="text must be str, not bytes"):
        fresh.text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be bytes, bytearray or memoryview, not str"):
        fresh.binary("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fragment_size must be an int >= 1 or None, not 0"):
        fresh.text("x", fragment_size=0)
    with pytest.raises(ValueError, match="character 1 is a lone surrogate"):
        fresh.text("x\ud800")
    with pytest.raises(ValueError, match="must not be sent"):
        fresh.close(1005)
    with pytest.raises(ValueError, match="at most 125"):
        fresh.ping(b"x" * 126)
    with pytest.raises(ValueError, match="mask_source returned b'abc', not 4 bytes"):
        MessageWriter(Role.CLIENT, mask_source=lambda n: b"abc").text("x")
    with pytest.raises(TypeError, match="Role"):
        MessageWriter("client")  # type: ignore[arg-type]


def test_frame_limit_follows_the_message_limit() -> None:
    # A browser sends a 2 MiB message as one frame: raising max_message_size
    # alone is enough (it used to fail with 1009: max_frame_size stayed 1 MiB).
    payload = bytes(range(256)) * (2 * 4096)
    reader = MessageReader(Role.SERVER, max_message_size=4 * 2**20)
    assert reader.max_frame_size == 4 * 2**20
    assert list(reader.feed(client_frame(Opcode.BINARY, payload))) == [BinaryMessage(payload)]
    # Over the message limit it is still refused at the header, as MESSAGE_TOO_BIG.
    events, error = read_all(client_frame(Opcode.BINARY, payload), max_message_size=2**21 - 1)
    assert events == [] and error is not None and error.violation is Violation.MESSAGE_TOO_BIG
    assert error.offset == 0
    # An explicit frame limit still applies on its own.
    events, error = read_all(client_frame(Opcode.BINARY, payload), max_message_size=None,
                             max_frame_size=2**20)
    assert error is not None and error.violation is Violation.FRAME_TOO_BIG
    assert MessageReader(Role.SERVER, max_message_size=None).max_frame_size is None


def test_max_frame_size_says_what_is_enforced_and_cannot_be_changed_afterwards() -> None:
    # It was a plain attribute: assigning it changed what the reader reported,
    # not what it enforced (the limit was copied when the decoder was built).
    from wsframe import FrameParser
    reader = MessageReader(Role.SERVER, max_message_size=100, max_frame_size=10)
    parser = FrameParser(Role.SERVER, max_frame_size=10)
    for decoder in (reader, parser):
        assert decoder.max_frame_size == 10
        with pytest.raises(AttributeError):
            decoder.max_frame_size = 1000   # type: ignore[misc]
        assert decoder.max_frame_size == 10
    events, error = read_all(client_frame(Opcode.BINARY, b"x" * 11), max_message_size=100,
                             max_frame_size=10)
    assert events == [] and error is not None and error.violation is Violation.FRAME_TOO_BIG
    assert MessageReader(Role.SERVER, max_message_size=100).max_frame_size == 100
