"""Replay every input in fuzz/regressions/<target>/ through that target's oracle."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import harness  # noqa: E402
import harness_capture  # noqa: E402
import harness_compat  # noqa: E402
import harness_connection  # noqa: E402
import harness_deflate  # noqa: E402
import harness_handshake  # noqa: E402

from wsframe import Event, MessageReader, ProtocolError, TextChunk  # noqa: E402

#: Each fuzz target's oracle, by the name of its directory in fuzz/regressions/
#: (and of its entry point, fuzz/fuzz_<name>.py).
TARGETS = {"frames": harness.check, "handshake": harness_handshake.check,
           "connection": harness_connection.check, "deflate": harness_deflate.check,
           "capture": harness_capture.check, "compat": harness_compat.check}
CASES = sorted((FUZZ / "regressions").glob("*/*.bin"))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_regression(path: Path) -> None:
    TARGETS[path.parent.name](path.read_bytes())


def test_every_regression_names_a_target() -> None:
    assert CASES
    assert not list((FUZZ / "regressions").glob("*.bin")), "put it in regressions/<target>/"
    assert {path.parent.name for path in CASES} <= set(TARGETS)


def test_every_target_has_an_entry_point() -> None:
    assert {path.stem.removeprefix("fuzz_") for path in FUZZ.glob("fuzz_*.py")} == set(TARGETS)


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
    data = (FUZZ / "regressions/frames/streaming-utf8-error-after-valid-prefix.bin").read_bytes()
    harness.check(data)                         # the real reader passes
    with pytest.raises(AssertionError, match="split invariance"):
        harness.check(data, wrap=Forgetful)
