"""permessage-deflate on rare but valid streams, and on broken ones: the same
result for every split (RFC 7692 7.2.2, 7.2.3.4, 7.2.3.6)."""

from __future__ import annotations

import random
import sys
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from splitting import SPLIT_MODES, chunks, run

from wsframe import (
    BinaryChunk,
    BinaryMessage,
    MessageReader,
    MessageWriter,
    Opcode,
    ProtocolError,
    Role,
    TextChunk,
    TextMessage,
    Violation,
    build_frame,
)
from wsframe.extensions.permessage_deflate import (
    DeflateParams,
    PerMessageDeflate,
    accept_offer,
    accept_response,
)
from wsframe.handshake import HandshakeError


def client_reader(**kwargs: Any) -> MessageReader:
    """A client reading a server's frames (unmasked), default deflate parameters."""
    params = kwargs.pop("params", None)
    return MessageReader(Role.CLIENT, extensions=[PerMessageDeflate(Role.CLIENT, params)],
                         **kwargs)


def every_split(wire: bytes, make: Any) -> list[tuple[list[Any], tuple[int, str, int] | None]]:
    """The outcome for the whole stream, byte by byte, random chunks and every 2-way cut."""
    outcomes = []
    cuts = [chunks(wire, mode, seed=5) for mode in SPLIT_MODES]
    cuts += [[wire[:k], wire[k:]] for k in range(1, len(wire))]
    for pieces in cuts:
        events, error = run(make().feed, pieces)
        outcomes.append((events, None if error is None else (
            error.code, error.violation.name, error.offset)))
    return outcomes


def the_same(wire: bytes, make: Any) -> tuple[list[Any], tuple[int, str, int] | None]:
    outcomes = every_split(wire, make)
    assert all(outcome == outcomes[0] for outcome in outcomes), outcomes
    return outcomes[0]


# 1. Limits as large as sys.maxsize: zlib's max_length is capped, not overflowed.

@pytest.mark.parametrize("limit", [sys.maxsize, 2**63 - 1, 2**64])
def test_huge_limits_do_not_overflow(limit: int) -> None:
    wire = bytes.fromhex("c107f248cdc9c90700")
    assert the_same(wire, lambda: client_reader(max_message_size=limit)) == (
        [TextMessage("Hello")], None)


# 2. A message that ends its DEFLATE stream (BFINAL): the next one keeps the window.

def test_back_reference_after_a_bfinal_message_for_every_split() -> None:
    # "Hello Hello Hello" in a BFINAL block, then "Hello" referring back to it.
    wire = bytes.fromhex("c10af348cdc9c957f0409000c10402130000")
    assert the_same(wire, client_reader) == (
        [TextMessage("Hello Hello Hello"), TextMessage("Hello")], None)


def deflate_messages(messages: list[tuple[bytes, bool]], wbits: int = 15) -> list[bytes]:
    """Payloads as a peer with context takeover sends them; ``True`` ends the
    DEFLATE stream (BFINAL) and the next message starts a new one, with the
    same window (zdict)."""
    history = b""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    payloads = []
    for data, final in messages:
        if final:
            body = compressor.compress(data) + compressor.flush(zlib.Z_FINISH)
            history += data
            compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits,
                                          zdict=history[-(1 << wbits):])
        else:
            body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            body = body[:-4]
            history += data
        payloads.append(body)
    return payloads


def test_back_reference_across_a_short_bfinal_message_to_an_earlier_one() -> None:
    """The window spans messages: a short BFINAL message does not shrink it."""
    first = b"The quick brown fox jumps over the lazy dog. " * 3
    payloads = deflate_messages([(first, False), (b"ok", True), (first, False)])
    assert len(payloads[2]) < 20            # it refers back to the first message
    wire = b"".join(build_frame(Opcode.BINARY, p, rsv1=True) for p in payloads)
    assert the_same(wire, client_reader) == (
        [BinaryMessage(first), BinaryMessage(b"ok"), BinaryMessage(first)], None)


@pytest.mark.parametrize("bfinal", [False, True])
def test_no_context_takeover_refuses_back_references_after_either_kind(bfinal: bool) -> None:
    """With server_no_context_takeover each message has a fresh window, whether the
    message before it ended with a sync flush or a BFINAL block."""
    first = b"The quick brown fox jumps over the lazy dog. " * 3
    payloads = deflate_messages([(first, bfinal), (first, False)])
    wire = b"".join(build_frame(Opcode.BINARY, p, rsv1=True) for p in payloads)
    params = DeflateParams(server_no_context_takeover=True)
    events, error = the_same(wire, lambda: client_reader(params=params))
    assert events == [BinaryMessage(first)]
    assert error == (1007, "INVALID_COMPRESSED_DATA", len(payloads[0]) + 2)


# 3. Data after the end of the DEFLATE stream: refused, never dropped.

@pytest.mark.parametrize("wire", [
    "c10ff348cdc9c907005208cf2fca490100",   # "Hello" (BFINAL), then deflated " World"
    "c109f348cdc9c90700fffe",               # "Hello" (BFINAL), then garbage
    "410af348cdc9c9070000ffff800100",       # the same split across two frames
])
def test_bytes_after_the_end_of_the_stream_are_1007(wire: str) -> None:
    events, error = the_same(bytes.fromhex(wire), client_reader)
    assert events == [] and error == (1007, "INVALID_COMPRESSED_DATA", 0)


@pytest.mark.parametrize("wire", ["c108f348cdc9c9070000",   # RFC 7692 7.2.3.4, padded
                                  "c107f348cdc9c90700"])    # without the padding octet
def test_a_bfinal_message_with_or_without_its_padding_octet(wire: str) -> None:
    assert the_same(bytes.fromhex(wire), client_reader) == ([TextMessage("Hello")], None)


def test_bytes_after_a_bfinal_block_give_the_same_chunks_and_error_in_stream_mode() -> None:
    # Found by a probe (issue 21): fed whole, the inflated 0x00 was lost and
    # the error counted 4 bytes; fed byte by byte it came out and counted 1.
    wire = bytes.fromhex("c20763000001020304")
    events, error = the_same(wire, lambda: client_reader(stream=True))
    assert events == [BinaryChunk(b"\x00", False)]
    assert error == (1007, "INVALID_COMPRESSED_DATA", 0)


@pytest.mark.parametrize("stream", [False, True])
def test_a_message_that_stops_inside_a_stored_block_is_1007_not_zlib_error(stream: bool) -> None:
    # Found by a probe (issue 21): message 1 declares a 13-byte stored block
    # and carries 8 bytes; the 00 00 ff ff put back fill it to 12, and message
    # 2 would start inside it. zlib.error escaped from the window read-back.
    wire = bytes.fromhex("c20d000d00f2ff7878787878787878c20879cb48cdc9c90700")
    for events, error in every_split(wire, lambda: client_reader(stream=stream)):
        assert error == (1007, "INVALID_COMPRESSED_DATA", 0)
        # Streamed, the block's bytes come out as they arrive (chunks follow
        # the reads); whole, the message is refused before it is delivered.
        assert b"".join(e.data for e in events if isinstance(e, BinaryChunk)) == (
            b"x" * 8 + b"\x00\x00\xff\xff" if stream else b"")
        assert all(isinstance(e, BinaryChunk) and not e.final for e in events)


@pytest.mark.parametrize("tail", ["", "0000ff"])
def test_a_message_cut_inside_a_huffman_block_is_1007(tail: str) -> None:
    # A partial flush leaves the inflater at a block boundary but off a byte
    # boundary: the 00 00 ff ff put back are read as a block header and then
    # a stored block cut short (or, with more bytes, wrong codes).
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = body.compress(b"Hello" * 20) + body.flush(zlib.Z_PARTIAL_FLUSH)
    payload += bytes.fromhex(tail)
    wire = build_frame(Opcode.BINARY, payload, rsv1=True)
    events, error = the_same(wire, client_reader)
    assert events == [] and error == (1007, "INVALID_COMPRESSED_DATA", 0)


def test_a_partial_flush_padded_into_an_empty_stored_block_is_valid() -> None:
    # One 0x00 more, and the 00 00 ff ff complete an empty stored block: the
    # message ends at a block boundary as RFC 7692 7.2.1 asks, and is read.
    body = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = body.compress(b"Hello" * 20) + body.flush(zlib.Z_PARTIAL_FLUSH) + b"\x00"
    wire = build_frame(Opcode.BINARY, payload, rsv1=True)
    assert the_same(wire, client_reader) == ([BinaryMessage(b"Hello" * 20)], None)


def test_every_valid_message_ends_at_a_block_boundary() -> None:
    # The check costs nothing on what senders produce: sync-flushed messages
    # at every level and size, with and without context takeover.
    rng = random.Random(7)
    for takeover in (True, False):
        params = DeflateParams(server_no_context_takeover=not takeover)
        writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER, params)])
        reader = MessageReader(Role.CLIENT, extensions=[PerMessageDeflate(Role.CLIENT, params)])
        for size in (0, 1, 5, 200, 5000, 70000):
            body = bytes(rng.choice(b"abc ") for _ in range(size))
            assert list(reader.feed(writer.binary(body))) == [BinaryMessage(body)]


# 4. An empty payload with RSV1 is not DEFLATE data (the smallest is 0x00).

def test_empty_compressed_payload_is_1007_not_a_desynchronised_inflater() -> None:
    wire = bytes.fromhex("c200c20100c207f248cdc9c90700")
    assert the_same(wire, client_reader) == ([], (1007, "INVALID_COMPRESSED_DATA", 0))
    # 0x00 is the empty message (an empty stored block, RFC 7692 7.2.3.6).
    assert the_same(wire[2:], client_reader) == (
        [BinaryMessage(b""), BinaryMessage(b"Hello")], None)


# 5. Streaming with compression: the same events for every split.

def text_of(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "κόσμε", "中文", "😀"]
    return " ".join(rng.choice(words) for _ in range(size)).encode()[:size].decode(
        "utf-8", "ignore").encode()


def test_streaming_over_the_limit_delivers_the_same_chunks_for_every_split() -> None:
    message = text_of(22_000, 1)
    compressed = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = (compressed.compress(message) + compressed.flush(zlib.Z_SYNC_FLUSH))[:-4]
    wire = build_frame(Opcode.TEXT, payload, rsv1=True)
    for mode in SPLIT_MODES:
        events, error = run(client_reader(stream=True, max_message_size=5000).feed,
                            chunks(wire, mode, seed=2))
        text = "".join(e.text for e in events if isinstance(e, TextChunk))
        # Every complete character of the first 5,000 bytes, then 1009.
        assert text == message[:5000].decode("utf-8", "ignore"), mode
        assert error is not None and error.violation is Violation.MESSAGE_TOO_BIG


def test_streaming_a_stream_that_breaks_delivers_the_same_chunks_for_every_split() -> None:
    message = text_of(12_000, 2)
    compressed = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = (compressed.compress(message) + compressed.flush(zlib.Z_SYNC_FLUSH))[:-4]
    wire = build_frame(Opcode.TEXT, payload + b"\xff\xff\xff\xff", rsv1=True)  # BTYPE=11
    texts = []
    for mode in SPLIT_MODES:
        events, error = run(client_reader(stream=True, max_message_size=None).feed,
                            chunks(wire, mode, seed=3))
        texts.append("".join(e.text for e in events if isinstance(e, TextChunk)))
        assert error is not None and error.violation is Violation.INVALID_COMPRESSED_DATA
    assert texts[0] == texts[1] == texts[2] == message.decode()


# 6. and 7. Which error comes first: the first invalid byte, whatever the split.

def test_invalid_utf8_before_the_limit_is_1007_at_every_cut() -> None:
    # Inflates to "\xff" + "a" * 200; the limit is 100: byte 0 is already wrong.
    wire = bytes.fromhex("c106fa9f384c0000")
    assert the_same(wire, lambda: client_reader(max_message_size=100)) == (
        [], (1007, "TEXT_NOT_UTF8", 0))


def test_output_before_corrupt_data_is_checked_first_at_every_cut() -> None:
    # A stored block with the byte ff, then a block of the reserved type 11.
    wire = bytes.fromhex("c18700000000000100feffff07")
    make = lambda: MessageReader(Role.SERVER, extensions=[  # noqa: E731
        PerMessageDeflate(Role.SERVER)])
    assert the_same(wire, make) == ([], (1007, "TEXT_NOT_UTF8", 0))


# 8. Window bits that int() cannot even read.

def test_a_window_bits_value_of_5000_digits_is_declined_not_a_crash() -> None:
    huge = "9" * 5000
    assert accept_offer(f"permessage-deflate; client_max_window_bits={huge}") is None
    with pytest.raises(HandshakeError, match="must be 8 to 15"):
        accept_response(f"permessage-deflate; server_max_window_bits={huge}")
    with pytest.raises(HandshakeError, match="malformed extension parameter"):
        accept_response("permessage-deflate; server_max_window_bits=١٢")   # not a token


@pytest.mark.parametrize("header", ["permessage-deflate;;", 'permessage-deflate; a="b',
                                    "permessage-deflate; x; ,;", "per message deflate"])
def test_an_offer_that_does_not_parse_is_declined(header: str) -> None:
    # RFC 7692 5: declined, and the connection goes on without the extension
    # (it was a HandshakeError: uvicorn leaked the connection, issue 21).
    assert accept_offer(header) is None


# Memory: nothing allocated before it is needed, nothing kept without context.

def test_zlib_state_is_allocated_lazily_and_freed_without_context_takeover() -> None:
    header, server = accept_offer(
        "permessage-deflate; client_max_window_bits; server_no_context_takeover; "
        "client_no_context_takeover") or ("", PerMessageDeflate(Role.SERVER))
    assert server._compressor is None and server._decompressor is None
    client = accept_response(header)
    wire = MessageWriter(Role.CLIENT, extensions=[client]).text("hello " * 100)
    reader = MessageReader(Role.SERVER, extensions=[server])
    assert list(reader.feed(wire)) == [TextMessage("hello " * 100)]
    assert server._decompressor is None                   # freed after the message
    MessageWriter(Role.SERVER, extensions=[server]).text("hi " * 50)
    assert server._compressor is None


def test_per_message_control_min_size_and_compress_false() -> None:
    deflate = PerMessageDeflate(Role.SERVER, min_size=64)
    writer = MessageWriter(Role.SERVER, extensions=[deflate])
    assert writer.text("short") == b"\x81\x05short"          # below min_size: RSV1 clear
    assert writer.text("x" * 100)[0] == 0xC1                   # compressed
    assert writer.text("x" * 100, compress=False)[0] == 0x81  # one message uncompressed
    assert writer.binary(b"y" * 100, compress=False) == b"\x82\x64" + b"y" * 100


# A property: random window bits and takeover settings, any split, round trip.

@given(server_bits=st.integers(9, 15), client_bits=st.integers(9, 15),
       server_takeover=st.booleans(), client_takeover=st.booleans(),
       messages=st.lists(st.one_of(st.text(max_size=300).map(str.encode),
                                   st.binary(max_size=300)), min_size=1, max_size=6),
       fragment=st.one_of(st.none(), st.integers(1, 50)), seed=st.integers(0, 10**6))
def test_round_trip_for_any_window_and_takeover(server_bits: int, client_bits: int,
                                                server_takeover: bool, client_takeover: bool,
                                                messages: list[bytes], fragment: int | None,
                                                seed: int) -> None:
    params = DeflateParams(server_no_context_takeover=not server_takeover,
                           client_no_context_takeover=not client_takeover,
                           server_max_window_bits=server_bits,
                           client_max_window_bits=client_bits)
    for sender_role in (Role.CLIENT, Role.SERVER):
        receiver_role = Role.SERVER if sender_role is Role.CLIENT else Role.CLIENT
        writer = MessageWriter(sender_role, extensions=[PerMessageDeflate(sender_role, params)])
        wire = b"".join(writer.binary(m, fragment_size=fragment) for m in messages)
        expected = [BinaryMessage(m) for m in messages]
        rng = random.Random(seed)
        cut = sorted(rng.sample(range(1, len(wire)), min(3, len(wire) - 1)))
        pieces = [wire[a:b] for a, b in zip([0, *cut], [*cut, None], strict=True)]
        reader = MessageReader(receiver_role,
                               extensions=[PerMessageDeflate(receiver_role, params)])
        events, error = run(reader.feed, pieces)
        assert error is None and events == expected


def test_empty_compressed_message_round_trip() -> None:
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER)])
    wire = writer.binary(b"") + writer.text("")
    assert wire == bytes.fromhex("c20100c10100")
    assert list(client_reader().feed(wire)) == [BinaryMessage(b""), TextMessage("")]


def test_the_error_is_a_protocol_error_with_the_frame_offset() -> None:
    reader = client_reader()
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(bytes.fromhex("c107f248cdc9c90700c109f348cdc9c90700fffe")))
    assert info.value.offset == 9
