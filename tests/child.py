"""Run a script in a child Python process and read the JSON it prints.

For tests of the C helper with hostile arguments: a crash in C (a segfault,
an abort) then fails the test that caused it instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_json(script: str, *args: str, timeout: float = 60) -> Any:
    """Run ``script`` (``python -c``) with ``args``; its stdout as JSON.

    Fails the calling test, with the child's stderr, unless the child exits 0.
    """
    child = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                           text=True, timeout=timeout, check=False)
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout)
