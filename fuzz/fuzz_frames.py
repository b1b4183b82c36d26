"""atheris entry point: FrameParser and MessageReader
(fuzz/harness.py).

    python fuzz/fuzz_frames.py -dict=fuzz/websocket.dict fuzz/corpus/frames

`make fuzz` runs every target; docs/fuzzing.md says what each one checks and
how to run them on ClusterFuzzLite or OSS-Fuzz (`.clusterfuzzlite/build.sh`
builds this file with `compile_python_fuzzer`). The harness is imported by
name, not through importlib, so that PyInstaller bundles it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))         # the harnesses
sys.path.append(str(Path(__file__).resolve().parent.parent))     # the checkout, if not installed

# Only what is under test: instrumenting every module imported (the standard
# library's too) would cost seconds at every start.
with atheris.instrument_imports(include=["wsframe", "contract", "harness"]):
    import harness


def test_one_input(data: bytes) -> None:
    """The libFuzzer entry point (LLVMFuzzerTestOneInput)."""
    harness.check(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
