"""Replay every input in fuzz/regressions/ through the fuzzing oracle."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import harness  # noqa: E402

from wsframe import Event, MessageReader, ProtocolError, TextChunk  # noqa: E402

CASES = sorted((FUZZ / "regressions").glob("*.bin"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_regression(path: Path) -> None:
    harness.check(path.read_bytes())


def test_there_are_regressions_to_replay() -> None:
    assert CASES


class Forgetful:
    """A reader with the first regression's bug put back: when a feed ends in a
    UTF-8 error, the valid text just before the bad byte is lost."""

    def __init__(self, reader: MessageReader) -> None:
        self.reader = reader

    def feed(self, data: bytes) -> Iterator[Event]:
        events: list[Event] = []
        try:
            events.extend(self.reader.feed(data))
        except ProtocolError as exc:
            if exc.code == 1007 and events and isinstance(events[-1], TextChunk):
                events.pop()                     # the valid text before the bad byte
            if not events:
                raise
            return self._then_raise(events, exc)
        return iter(events)

    @staticmethod
    def _then_raise(events: list[Event], error: ProtocolError) -> Iterator[Event]:
        yield from events
        raise error


def test_oracle_catches_a_broken_reader() -> None:
    """The oracle is not vacuous: with the fix for the first regression undone,
    the recorded input fails the check."""
    data = (FUZZ / "regressions/streaming-utf8-error-after-valid-prefix.bin").read_bytes()
    harness.check(data)                         # the real reader passes
    with pytest.raises(AssertionError, match="split invariance"):
        harness.check(data, wrap=Forgetful)
