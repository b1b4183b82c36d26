"""Coverage-guided fuzzing of FrameParser and MessageReader with atheris.

    make fuzz                       # a few minutes (FUZZ_SECONDS=180)
    make fuzz FUZZ_SECONDS=3600     # longer
    python fuzz/fuzz_wsframe.py fuzz/corpus -max_total_time=600 -jobs=2

Any input that breaks a property of fuzz/harness.py is a finding: libFuzzer
writes it to fuzz/crashes/; copy it to fuzz/regressions/ with a name that says
what it caught, and tests/test_fuzz_regressions.py replays it forever.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports():
    import harness


def test_one_input(data: bytes) -> None:
    """The libFuzzer entry point."""
    harness.check(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
