"""Which build is loaded, and that the suite runs against the one it should."""

from __future__ import annotations

import os
import subprocess
import sys

import wsframe
from wsframe import decoder, masking, messages, parser, utf8


def test_the_expected_build_is_loaded() -> None:
    # `make test-compiled` sets WSFRAME_EXPECT_COMPILED=1: there, every hot
    # module must be the compiled one, not the checkout's source.
    compiled = os.environ.get("WSFRAME_EXPECT_COMPILED") == "1"
    assert wsframe.COMPILED is compiled
    for module in (decoder, parser, messages, masking, utf8):
        assert module.__file__ is not None
        assert module.__file__.endswith(".py") is not compiled, module.__file__


def test_version_says_which_build() -> None:
    run = subprocess.run([sys.executable, "-m", "wsframe", "--version"], capture_output=True,
                         text=True, check=True)
    build = "compiled with mypyc" if wsframe.COMPILED else "pure Python"
    assert run.stdout.strip() == f"wsframe {wsframe.__version__} ({build})"
