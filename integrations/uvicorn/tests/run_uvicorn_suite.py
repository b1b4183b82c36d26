"""Run uvicorn's own WebSocket tests on WSFrameProtocol (``make test-uvicorn``).

    python integrations/uvicorn/tests/run_uvicorn_suite.py SDIST_DIR

SDIST_DIR is uvicorn's unpacked sdist (its tests are in it); the current
Python must have uvicorn, its test dependencies, wsframe and uvicorn-wsframe
installed (the Makefile sets that up). uvicorn's files are not changed:

1. tests/protocols/test_websocket.py runs with the plugin that gives every
   test taking ``ws_protocol_cls`` our class (wsframe_uvicorn_plugin.py),
   minus the tests listed in EXCEPTIONS, which hard-code uvicorn's classes;
2. those tests then run again from a copy, made here in a temporary folder
   inside the sdist, in which only the hard-coded ``isinstance`` line is
   removed: what they check about the protocol's behaviour must pass too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Test functions that cannot pass unchanged for any class but uvicorn's own two,
# and why. Each runs for the 3 HTTP parsers.
EXCEPTIONS = {
    "test_server_keepalive_ping_pong":
        "asserts isinstance(protocol, (WSProtocol, WebSocketsSansIOProtocol))",
    "test_server_keepalive_disabled":
        "asserts isinstance(protocol, (WSProtocol, WebSocketsSansIOProtocol))",
}
HARD_CODED = re.compile(r"^(\s*)assert isinstance\(protocol, \(_WSProtocol, "
                        r"WebSocketsSansIOProtocol\)\)$", re.M)


def pytest(sdist: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-p", "wsframe_uvicorn_plugin", "-n", "2", *args], cwd=sdist,
                         env=env, capture_output=True, text=True, timeout=1800, check=False)
    print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
    return run.returncode, run.stdout


def counts(output: str) -> str:
    found = re.findall(r"(\d+) (passed|failed|skipped|deselected|errors?)", output)
    return ", ".join(f"{n} {what}" for n, what in found)


def main() -> int:
    """Both runs; exit status 0 only if both pass."""
    sdist = Path(sys.argv[1]).resolve()
    suite = "tests/protocols/test_websocket.py"
    deselect = [f"-k not ({' or '.join(EXCEPTIONS)})"]
    status, output = pytest(sdist, suite, *deselect)
    print(f"uvicorn's WebSocket tests on WSFrameProtocol: {counts(output)}")
    source = (sdist / suite).read_text()
    assert len(HARD_CODED.findall(source)) == len(EXCEPTIONS), "the exceptions changed"
    copy = sdist / "tests" / "protocols" / "test_websocket_without_isinstance.py"
    copy.write_text(HARD_CODED.sub(r"\1pass  # isinstance against uvicorn's classes removed",
                                   source))
    try:
        again, output = pytest(sdist, str(copy.relative_to(sdist)),
                               f"-k {' or '.join(EXCEPTIONS)}")
    finally:
        copy.unlink()
    print(f"the {len(EXCEPTIONS)} exceptions, without their isinstance line: {counts(output)}")
    for name, why in EXCEPTIONS.items():
        print(f"  excepted: {name}: {why}")
    return status or again


if __name__ == "__main__":
    sys.exit(main())
