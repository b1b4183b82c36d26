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


def test_fragmentation_dissects_the_frames_it_builds() -> None:
    """Section 4 takes apart exactly the bytes its build commands printed (it once
    dissected other, hard-coded bytes and taught "Helho")."""
    import re
    text = (DOCS / "framing.md").read_text(encoding="utf-8")
    section = text[text.index("## 4. Fragmentation"):text.index("## 5.")]
    built = [line.replace(" ", "") for line in
             re.findall(r"^\$ wsframe build [^\n]*\n([0-9a-f ]+)\n", section, re.M)]
    dissected = re.findall(r"^\$ wsframe dissect --hex ([0-9a-f]+)\n", section, re.M)
    assert len(built) == 4 and len(dissected) == 2
    assert dissected[0] == built[0] + built[1] + built[2]
    assert dissected[1] == built[0] + built[1] + built[3]
    assert "reassembled from 2 fragments: 'Hello'" in section
    assert "(as text: '?')" in section
