"""The documentation shows real output: docs/framing.md is what its generator
writes today (every command in it re-run through the CLI)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_framing_walkthrough_is_current() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import make_framing
    finally:
        sys.path.remove(str(DOCS))
    assert (DOCS / "framing.md").read_text(encoding="utf-8") == make_framing.render(), \
        "run: python docs/make_framing.py"
