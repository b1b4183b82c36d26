"""atheris entry point: the opening handshake: HeadReader,
check_request, check_response, permessage-deflate offers (fuzz/harness_handshake.py).

    python fuzz/fuzz_handshake.py -dict=fuzz/websocket.dict fuzz/corpus/handshake

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
with atheris.instrument_imports(include=["wsframe", "contract", "harness_handshake"]):
    import harness_handshake


def test_one_input(data: bytes) -> None:
    """The libFuzzer entry point (LLVMFuzzerTestOneInput)."""
    harness_handshake.check(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
