"""atheris entry point: permessage-deflate streams through
MessageReader (fuzz/harness_deflate.py).

    python fuzz/fuzz_deflate.py -dict=fuzz/websocket.dict fuzz/corpus/deflate

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
with atheris.instrument_imports(include=["wsframe", "contract", "harness_deflate"]):
    import harness_deflate


def test_one_input(data: bytes) -> None:
    """The libFuzzer entry point (LLVMFuzzerTestOneInput)."""
    harness_deflate.check(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
