"""Run the test suites of the stacks that embed wsproto, on the real wsproto and
on wsframe.compat.wsproto, and print the counts side by side (make test-embedders).

    python tests/compat/embedders/run_embedders.py [--only NAME ...]

Run with the Python of .venv-embedders (the Makefile sets it up: the pinned
sdists unpacked under .tools/, requirements/embedders.txt, wsframe). Each
suite runs from its own unpacked sdist, files untouched, twice: once as it
is (the real wsproto 1.3.2) and once with WSFRAME_COMPAT=1, which makes
wsframe_compat_plugin.py (loaded with ``-p`` before any conftest) call
``wsframe.compat.wsproto.install()``. Command-line options only stand in
for configuration an sdist leaves out (trio-websocket's ``trio_mode``) and
keep the other suites' async plugins out of the way.

Exit status 0 when every suite passes on the compat module with as many
tests as on the real wsproto; the table is printed either way.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TOOLS = ROOT / ".tools"


@dataclass(frozen=True)
class Suite:
    """One embedder's suite: where its sdist is unpacked and how pytest runs it."""

    name: str
    folder: Path
    args: tuple[str, ...]


SUITES = (
    Suite("trio-websocket 0.12.2", TOOLS / "embedders" / "trio_websocket-0.12.2",
          ("-p", "no:asyncio", "-o", "trio_mode=true", "tests")),
    Suite("hypercorn 0.18.0 (h2 4.3.0)", TOOLS / "embedders" / "hypercorn-0.18.0",
          ("tests",)),
    Suite("simple-websocket 1.1.0", TOOLS / "embedders" / "simple_websocket-1.1.0",
          ("-p", "no:asyncio", "-p", "no:trio", "tests")),
    Suite("uvicorn 0.54.0 (-k wsproto-)", TOOLS / "uvicorn" / "uvicorn-0.54.0",
          ("-p", "no:asyncio", "-p", "no:trio", "-n", "2",
           "tests/protocols/test_websocket.py", "-k", "wsproto-")),
    Suite("httpx-ws 0.9.0", TOOLS / "embedders" / "httpx_ws-0.9.0",
          ("-p", "no:asyncio", "-p", "no:trio", "tests")),
)

KINDS = ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")


def counts(output: str) -> dict[str, int]:
    """pytest's closing line as numbers ("1 error" counted as errors)."""
    lines = [line for line in output.splitlines() if re.search(r" in [\d.]+s", line)]
    found: dict[str, int] = dict.fromkeys(KINDS, 0)
    for number, kind in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)",
                                   lines[-1] if lines else ""):
        found["errors" if kind.startswith("error") else kind] += int(number)
    return found


def run(suite: Suite, compat: bool) -> tuple[dict[str, int], float, str, bool]:
    """One run: the counts, the time, pytest's output, whether every process
    that ran tests was on the wsproto asked for."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "which"
        env = {**os.environ, "PYTHONPATH": str(HERE), "WSFRAME_COMPAT": "1" if compat else "0",
               "WSFRAME_COMPAT_LOG": str(log)}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-p", "wsframe_compat_plugin", "-o", "timeout=120", *suite.args],
            cwd=suite.folder, env=env, capture_output=True, text=True, timeout=900,
            check=False)
        elapsed = time.monotonic() - started
        which = log.read_text().split() if log.exists() else []
    wanted = "compat" if compat else "real"
    on_it = bool(which) and all(word == wanted for word in which[1::2])
    return counts(done.stdout), elapsed, done.stdout + done.stderr, on_it


def cell(found: dict[str, int]) -> str:
    return ", ".join(f"{found[kind]} {kind}" for kind in KINDS if found[kind]) or "nothing ran"


def main() -> int:
    """Run the suites (all, or those named with --only) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help="run the suites whose name starts with this (repeatable)")
    parser.add_argument("--show", action="store_true", help="print each run's pytest output")
    options = parser.parse_args()
    suites = [s for s in SUITES if not options.only
              or any(s.name.startswith(prefix) for prefix in options.only)]
    rows = []
    ok = True
    for suite in suites:
        real, real_time, real_out, real_on = run(suite, compat=False)
        compat, compat_time, compat_out, compat_on = run(suite, compat=True)
        good = (compat["failed"] == compat["errors"] == 0 and compat["passed"] > 0
                and compat["passed"] >= real["passed"] and compat_on)
        ok &= good
        if options.show or not good:
            print(f"--- {suite.name}, real wsproto:\n{real_out[-3000:]}")
            print(f"--- {suite.name}, wsframe.compat.wsproto:\n{compat_out[-6000:]}")
        if not (real_on and compat_on):
            print(f"{suite.name}: a run imported the other wsproto (see the plugin)")
        rows.append((suite.name, f"{cell(real)} ({real_time:.0f} s)",
                     f"{cell(compat)} ({compat_time:.0f} s)", "yes" if good else "NO"))
    header = ("suite", "real wsproto 1.3.2", "wsframe.compat.wsproto", "ok")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = (text.ljust(width) for text, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    print("\nembedders: every suite passes on wsframe.compat.wsproto" if ok
          else "\nembedders: FAILED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
