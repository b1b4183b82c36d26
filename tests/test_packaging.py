"""Packaging facts that `make test-dist` checks on the built wheel, checked cheaply here."""

from __future__ import annotations

import re
from pathlib import Path

import wsframe

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_version_is_written_once() -> None:
    assert not re.search(r"^version\s*=\s*\"", PYPROJECT, re.M)
    assert 'version = { attr = "wsframe.__version__" }' in PYPROJECT
    assert re.fullmatch(r"\d+\.\d+\.\d+", wsframe.__version__)


def test_every_subpackage_is_packaged() -> None:
    assert 'include = ["wsframe", "wsframe.*"]' in PYPROJECT
    assert "packages = [" not in PYPROJECT          # a fixed list left extensions/ out


def test_licence_is_an_spdx_expression_with_its_file() -> None:
    assert 'license = "MIT"' in PYPROJECT and 'license-files = ["LICENSE"]' in PYPROJECT
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the wsframe developers")


def test_classifiers_name_exactly_the_versions_the_matrix_tests() -> None:
    classified = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', PYPROJECT)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    matrix = re.search(r"^MATRIX \?= ([\d. ]+)\n", makefile, re.M)
    assert matrix is not None
    assert classified == matrix.group(1).split()
    for classifier in ("Development Status :: 3 - Alpha", "Intended Audience :: Developers",
                       "Typing :: Typed"):
        assert f'"{classifier}"' in PYPROJECT


def test_sdist_manifest_carries_what_the_tests_need() -> None:
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    for needed in ("graft tests", "graft samples", "graft docs", "graft examples",
                   "graft fuzz/regressions", "graft requirements", "include LICENSE"):
        assert needed in manifest
