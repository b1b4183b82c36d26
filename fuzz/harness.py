"""The frame and message layers: the fuzzing oracle of fuzz/fuzz_frames.py,
also replayed by tests/test_fuzz_regressions.py (fuzz/regressions/frames/).

The first byte of an input chooses how to read the rest:

    bit 0      role: 1 = SERVER (masked frames expected), 0 = CLIENT
    bits 1-2   limits: None, 0, 64 or 4096 bytes (max_frame_size / max_message_size)
    bit 3      MessageReader in streaming mode
    bits 4-6   a chunk size of 1-8 bytes for the split run
    bit 7      FrameParser strict=False

Checks: FrameParser and MessageReader raise nothing but ProtocolError, with a
close code of 1002, 1007 or 1009, a reason that fits a Close frame, and an
offset inside the stream; the stream fed whole and fed in chunks gives the same
events and the same error; after an error the reader stays terminal; with a
limit, a run's peak memory stays within a budget proportional to the limit and
the input (a declared 2**63-byte frame allocates nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contract import check_memory, merge_chunks, only, peak_memory

from wsframe import Frame, FrameParser, MessageReader, ProtocolError, Role

LIMITS = (None, 0, 64, 4096)


def _run(reader: Any, pieces: list[bytes]) -> tuple[list[Any], tuple[int, int] | None]:
    events: list[Any] = []
    for piece in pieces:
        try:
            with only((ProtocolError,), f"{type(reader).__name__}.feed"):
                for event in reader.feed(piece):
                    events.append((event, event.offset) if isinstance(event, Frame) else event)
        except ProtocolError as exc:
            assert exc.code in (1002, 1007, 1009), exc
            assert len(exc.reason.encode()) <= 123, exc
            try:
                reader.feed(b"\x00")
            except ProtocolError as again:
                assert again is exc, "terminal state keeps the same error"
            else:
                raise AssertionError("no error after a violation") from None
            return merge_chunks(events), (exc.code, exc.offset)
    return merge_chunks(events), None


def check(data: bytes, wrap: Callable[[MessageReader], Any] | None = None) -> None:
    """Raise AssertionError (or any other exception) if ``data`` breaks a property.

    ``wrap`` (for testing the oracle itself) wraps each MessageReader.
    """
    if not data:
        return
    control, stream = data[0], data[1:]
    role = Role.SERVER if control & 1 else Role.CLIENT
    limit = LIMITS[(control >> 1) & 3]
    streaming = bool(control & 8)
    step = ((control >> 4) & 7) + 1
    strict = not control & 0x80
    pieces = [stream[i:i + step] for i in range(0, len(stream), step)]

    def parser() -> FrameParser:
        return FrameParser(role, max_frame_size=limit, strict=strict)

    def reader() -> Any:
        made = MessageReader(role, max_message_size=limit, max_frame_size=limit,
                             stream=streaming)
        return made if wrap is None else wrap(made)

    for make in (parser, reader):
        whole, peak = peak_memory(lambda: _run(make(), [stream]))  # noqa: B023
        if limit is not None:
            # Declared lengths are checked before anything is kept (and the
            # events hold at most the input): a few copies of it, plus a constant.
            check_memory(peak, 4 * limit + 16 * len(stream) + 256 * 1024,
                         type(make()).__name__)
        split = _run(make(), pieces)
        assert whole == split, f"split invariance: {whole!r} != {split!r}"
        error = whole[1]
        if error is not None:
            assert 0 <= error[1] < len(stream), f"offset {error[1]} outside the stream"
