"""Memory under attack, measured with tracemalloc: a peer cannot make wsframe
allocate much more than its limits, however it shapes the bytes."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wsframe import (
    BinaryChunk,
    FrameParser,
    MessageReader,
    Opcode,
    ProtocolError,
    Role,
    build_frame,
)
from wsframe.masking import apply_mask_python

KEY = b"\x5a\xa5\x0f\xf0"
KiB, MiB = 1024, 1024 * 1024


def peak_during(run: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``run`` and return (its result, the peak traced memory in bytes)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = run()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_header_declaring_2_to_the_40_is_rejected_after_10_bytes() -> None:
    header = b"\x82\xff" + (2**40).to_bytes(8, "big")        # 10 bytes, then a key
    parser = FrameParser(Role.SERVER)

    def feed() -> ProtocolError:
        list(parser.feed(header[:9]))
        with pytest.raises(ProtocolError) as info:
            list(parser.feed(header[9:10]))
        return info.value

    error, peak = peak_during(feed)
    assert error.code == 1009 and error.offset == 0
    assert peak < 16 * KiB, "nothing of the declared terabyte is allocated"


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_100000_one_byte_fragments_over_the_limit(text: bool) -> None:
    """100,000 one-byte fragments, limit 50,000 bytes: fails with 1009 at the
    fragment that crosses the limit; memory stays near the limit, not near
    100,000 small objects (~40 bytes each)."""
    limit = 50_000
    first = Opcode.TEXT if text else Opcode.BINARY
    frames = [build_frame(first, b"a", fin=False, mask=KEY)]
    middle = build_frame(Opcode.CONTINUATION, b"a", fin=False, mask=KEY)
    frames += [middle] * 99_999
    reader = MessageReader(Role.SERVER, max_message_size=limit)

    def feed() -> ProtocolError:
        try:
            for frame in frames:                    # one frame per read
                for _event in reader.feed(frame):
                    raise AssertionError("no message can complete")
        except ProtocolError as exc:
            return exc
        raise AssertionError("the message must be rejected")

    error, peak = peak_during(feed)
    assert error.code == 1009
    assert error.offset == limit * len(middle)       # the 50,001st fragment
    assert peak < limit + 64 * KiB, f"peak {peak} bytes"


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_non_ascii_fragments_of_one_character_cost_about_their_text(char: str) -> None:
    """Text that is not ASCII is kept as the UTF-8 check decodes it (one
    decoding per byte, issue 23); 20,000 fragments of one character each
    must not cost an object per fragment (~50 bytes): short pieces are joined
    256 at a time. Memory stays within 3x of the bytes received."""
    encoded = char.encode()
    count = 20_000
    first = build_frame(Opcode.TEXT, encoded, fin=False, mask=KEY)
    middle = build_frame(Opcode.CONTINUATION, encoded, fin=False, mask=KEY)
    reader = MessageReader(Role.SERVER, max_message_size=None)

    def feed() -> int:
        assert list(reader.feed(first)) == []
        for _ in range(count - 2):
            for _event in reader.feed(middle):
                raise AssertionError("the message is not over")
        return reader.buffered

    held, peak = peak_during(feed)
    assert held == (count - 1) * len(encoded)
    assert peak < 3 * held + 64 * KiB, f"peak {peak} bytes for {held} received"
    last = build_frame(Opcode.CONTINUATION, b"!", mask=KEY)
    assert [e.text for e in reader.feed(last)] == [char * (count - 1) + "!"]  # type: ignore[union-attr]


def test_64_mib_frame_in_1_kib_chunks_streaming_stays_small() -> None:
    """A 64 MiB masked frame fed in 1 KiB reads, streaming mode: every piece
    is handed out as it arrives; peak memory is a few KiB, not 64 MiB."""
    size = 64 * MiB
    header = b"\x82\xff" + size.to_bytes(8, "big") + KEY
    # The payload is zeros, so each masked 1 KiB chunk is the key repeated:
    # one bytes object fed 65,536 times (the test allocates nothing per read).
    chunk = KEY * (KiB // 4)
    reader = MessageReader(Role.SERVER, stream=True, max_message_size=None,
                           max_frame_size=None)

    def feed() -> tuple[int, int]:
        received = chunks = 0
        for data in _reads(header, chunk, size // KiB):
            for event in reader.feed(data):
                assert isinstance(event, BinaryChunk)
                assert event.data == bytes(len(event.data))
                received += len(event.data)
                chunks += 1
        return received, chunks

    (received, chunks), peak = peak_during(feed)
    assert received == size and chunks == size // KiB
    assert peak < 256 * KiB, f"peak {peak} bytes"


def _reads(header: bytes, chunk: bytes, count: int) -> Iterator[bytes]:
    yield header
    for _ in range(count):
        yield chunk


def test_frame_parser_buffers_a_trickled_frame_at_about_one_byte_per_byte() -> None:
    """A 1 MiB frame arriving one byte per read: the parser keeps ~1 MiB, not
    a million small objects."""
    payload = bytes(MiB)
    wire = build_frame(Opcode.BINARY, payload, mask=KEY)
    pieces = [wire[i:i + 1] for i in range(len(wire))]   # made before tracing starts
    parser = FrameParser(Role.SERVER)

    def feed() -> int:
        count = 0
        for piece in pieces:
            for _frame in parser.feed(piece):
                count += 1
        return count

    count, peak = peak_during(feed)
    assert count == 1
    assert peak < 4 * MiB, f"peak {peak} bytes"


@pytest.mark.parametrize("limit", [None, 2**31], ids=["no limit", "2 GiB limit"])
def test_a_declared_text_frame_gets_memory_as_its_bytes_arrive(limit: int | None) -> None:
    """A text frame declaring 1 GiB (within the limits), of which 64 KiB arrive
    in 1,460-byte reads: the message buffer follows the bytes received (the C
    helper of the compiled build grows it ahead by half its content at most),
    never the length the peer declared."""
    declared = 2**30
    header = bytes((0x81, 0xFF)) + declared.to_bytes(8, "big") + KEY
    sent = apply_mask_python(b"a" * (45 * 1460), KEY)      # ~64 KiB, made before tracing
    reads = [header] + [sent[i:i + 1460] for i in range(0, len(sent), 1460)]
    reader = MessageReader(Role.SERVER, max_message_size=limit, max_frame_size=limit)

    def feed() -> int:
        return sum(1 for read in reads for _event in reader.feed(read))

    count, peak = peak_during(feed)
    assert count == 0                                       # the frame is not complete
    assert peak < 512 * KiB, f"peak {peak} bytes for {45 * 1460} bytes received"


@pytest.mark.parametrize("limit", [None, 2**31], ids=["no limit", "2 GiB limit"])
def test_a_declared_binary_frame_gets_memory_as_its_bytes_arrive(limit: int | None) -> None:
    """A binary frame declaring 1 GiB, of which 64 KiB arrive in 1,460-byte
    reads: kept whole, its payload buffer follows the bytes received (the C
    helper unmasks each read into the bytes it will hand up, grown to four
    times what arrived at most), never the length the peer declared."""
    declared = 2**30
    header = bytes((0x82, 0xFF)) + declared.to_bytes(8, "big") + KEY
    sent = apply_mask_python(b"\x00" * (45 * 1460), KEY)
    reads = [header] + [sent[i:i + 1460] for i in range(0, len(sent), 1460)]
    reader = MessageReader(Role.SERVER, max_message_size=limit, max_frame_size=limit)

    def feed() -> int:
        return sum(1 for read in reads for _event in reader.feed(read))

    count, peak = peak_during(feed)
    assert count == 0
    assert reader.buffered == 45 * 1460
    assert peak < 512 * KiB, f"peak {peak} bytes for {45 * 1460} bytes received"
