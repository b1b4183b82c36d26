"""Which build is loaded, and that the suite runs against the one it should."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_c_masking_helper_comes_with_the_native_builds_only() -> None:
    # Built by WSFRAME_MYPYC=1 (test-compiled) and WSFRAME_SPEEDUPS=1 (test-speedups).
    native = "1" in (os.environ.get("WSFRAME_EXPECT_COMPILED"),
                     os.environ.get("WSFRAME_EXPECT_SPEEDUPS"))
    assert (importlib.util.find_spec("wsframe._speedups") is not None) is native
    if not native:
        return
    if not os.environ.get("WSFRAME_NO_ACCEL"):
        assert masking.ACCELERATOR == "wsframe._speedups (C)"
    _speedups = importlib.import_module("wsframe._speedups")    # C: the compiled build only
    # Bad arguments are reported, not crashed on.
    with pytest.raises(ValueError, match="key must be 4 bytes, got 5"):
        _speedups.apply_mask(b"abc", b"12345")
    with pytest.raises(ValueError, match="must lie within the 3 bytes"):
        _speedups.apply_mask(b"abc", b"1234", 2, 5)
    with pytest.raises(TypeError, match="buffer must be a bytearray, not bytes"):
        _speedups.unmask_append(b"", b"abc", b"1234", 3)
    exported = bytearray(b"x")
    with memoryview(exported), pytest.raises(BufferError):
        _speedups.unmask_append(exported, b"abc", b"1234", 3)
    assert exported == b"x"
    with pytest.raises(TypeError, match=r"apply_mask\(\) takes 2 to 4 arguments \(1 given\)"):
        _speedups.apply_mask(b"abc")
    with pytest.raises(TypeError, match=r"unmask_append\(\) takes 4 arguments \(3 given\)"):
        _speedups.unmask_append(bytearray(), b"abc", b"1234")


def test_every_slow_test_named_in_conftest_exists() -> None:
    """The slow marker is given by name (tests/conftest.py): a renamed test
    would silently lose it."""
    import conftest
    names = set()
    for path in (Path(__file__).parent).rglob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    assert names >= conftest.SLOW, conftest.SLOW - names
