"""Replay every input in fuzz/regressions/ through the fuzzing oracle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import harness  # noqa: E402

CASES = sorted((FUZZ / "regressions").glob("*.bin"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_regression(path: Path) -> None:
    harness.check(path.read_bytes())


def test_there_are_regressions_to_replay() -> None:
    assert CASES


def test_oracle_catches_a_broken_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is not vacuous: with the fix for the first regression undone
    (a streaming reader that drops the valid text before a bad byte), the
    recorded input fails the check."""
    from wsframe import messages
    from wsframe.utf8 import Utf8Decoder, Utf8Error

    original = Utf8Decoder.decode

    def forgetful(self: Utf8Decoder, data: bytes, final: bool = False) -> str:
        try:
            return original(self, data, final)
        except Utf8Error as exc:
            raise Utf8Error(exc.position) from None       # valid text lost

    monkeypatch.setattr(messages.Utf8Decoder, "decode", forgetful)
    with pytest.raises(AssertionError, match="split invariance"):
        harness.check((FUZZ / "regressions/streaming-utf8-error-after-valid-prefix.bin")
                      .read_bytes())
