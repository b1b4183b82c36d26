"""The bundled sample streams are what samples/make_samples.py writes."""

from __future__ import annotations

import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_samples_are_up_to_date() -> None:
    sys.path.insert(0, str(SAMPLES))
    try:
        import make_samples
    finally:
        sys.path.remove(str(SAMPLES))
    for name, data in make_samples.samples().items():
        assert (SAMPLES / name).read_bytes() == data, "run: python samples/make_samples.py"
