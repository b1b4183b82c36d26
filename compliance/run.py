"""Run Autobahn|Testsuite's fuzzingclient against WebSocket echo servers.

    python compliance/run.py --wstest .tools/autobahn/run-wstest --cases "1.*,2.*"

Starts each server on a free loopback port, runs the suite against all of
them in one wstest run, writes the HTML/JSON report under reports/, prints
a summary, and exits 1 unless every case of every *checked* server is OK or
INFORMATIONAL. Servers: ``wsframe`` (examples/echo_server.py) and, with
``--with-websockets``, ``websockets`` (benchmarks/websockets_echo.py), which is
timed but not checked (it is the anchor of `make bench-wire`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSING = {"OK", "INFORMATIONAL"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def main() -> int:
    """Run the suite; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wstest", required=True, help="command that runs wstest")
    parser.add_argument("--cases", default="1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*")
    parser.add_argument("--exclude", default="", help="comma-separated case patterns to skip")
    parser.add_argument("--report", default="reports/compliance")
    parser.add_argument("--with-websockets", action="store_true",
                        help="also run a websockets echo server (timed, not checked)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra argument for examples/echo_server.py")
    args = parser.parse_args()

    report = (ROOT / args.report).resolve()
    wstest = str(Path(args.wstest).resolve()) if Path(args.wstest).exists() else args.wstest
    report.mkdir(parents=True, exist_ok=True)
    servers = {"wsframe": [sys.executable, str(ROOT / "examples/echo_server.py"),
                           *args.server_arg]}
    if args.with_websockets:
        servers["websockets"] = [sys.executable, str(ROOT / "benchmarks/websockets_echo.py")]
    checked = {"wsframe"}

    procs = []
    spec_servers = []
    try:
        for agent, cmd in servers.items():
            port = free_port()
            proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL)
            procs.append(proc)
            wait_listening(port, proc)
            spec_servers.append({"agent": agent, "url": f"ws://127.0.0.1:{port}"})
        spec = {
            "outdir": str(report),
            "servers": spec_servers,
            "cases": [c.strip() for c in args.cases.split(",") if c.strip()],
            "exclude-cases": [c.strip() for c in args.exclude.split(",") if c.strip()],
            "exclude-agent-cases": {},
        }
        spec_path = report / "fuzzingclient.json"
        spec_path.write_text(json.dumps(spec, indent=2))
        log_path = report / "wstest.log"
        print(f"running Autobahn|Testsuite cases {args.cases} (log: {log_path})", flush=True)
        with log_path.open("wb") as log:
            status = subprocess.call(f"{wstest} -m fuzzingclient -s {spec_path}",
                                     shell=True, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=report)
        if status != 0:
            print(f"wstest failed with status {status}; see {log_path}")
            return 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)

    index = json.loads((report / "index.json").read_text())
    failed = False
    for agent in servers:
        results = index[agent]
        behaviors = Counter(r["behavior"] for r in results.values())
        duration = sum(r["duration"] for r in results.values()) / 1000
        summary = ", ".join(f"{n} {b}" for b, n in sorted(behaviors.items()))
        print(f"{agent:11s} {len(results)} cases: {summary}; total case time {duration:.1f} s")
        bad = sorted((k for k, r in results.items() if r["behavior"] not in PASSING),
                     key=lambda k: [int(p) for p in k.split(".")])
        if bad:
            print(f"{'':11s} not OK: " + ", ".join(
                f"{k} ({results[k]['behavior']})" for k in bad))
            if agent in checked:
                failed = True
    print(f"report: {report / 'index.html'}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
