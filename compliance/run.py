"""Run Autobahn|Testsuite's fuzzingclient against WebSocket echo servers.

    python compliance/run.py --wstest .tools/autobahn/run-wstest --cases "1.*,2.*|12.*"

``--cases`` lists case patterns; ``|`` separates groups that run in parallel,
each group as its own wstest process against its own server instances (the
suite's client is single-threaded Python 2, so this is what uses a second
core). Results are merged; the HTML/JSON reports are written per group under
``reports/``. Exits 1 unless every case of every *checked* server is OK or
INFORMATIONAL. Servers: ``wsframe`` (examples/echo_server.py) and, with
``--with-websockets``, ``websockets`` (benchmarks/websockets_echo.py), which is
timed but not checked (it is the anchor of `make bench-wire`). With
``--uvicorn``, instead: uvicorn serving tests/integration/asgi_echo.py on
wsframe_uvicorn.WSFrameProtocol (checked) and, in the same run, on uvicorn's
own wsproto and websockets-sansio backends (reported side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from wsframe.tools.net import NotListening, free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent
PASSING = {"OK", "INFORMATIONAL"}


class Group:
    """One wstest run: its cases, its servers, its report folder."""

    def __init__(self, cases: list[str], report: Path, servers: dict[str, list[str]],
                 wstest: str, env: dict[str, str] | None = None) -> None:
        self.cases = cases
        self.report = report
        self.procs: list[subprocess.Popen[bytes]] = []
        spec_servers = []
        for agent, cmd in servers.items():
            port = free_port()
            proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL,
                                    env=env)
            self.procs.append(proc)
            try:      # (the server's stderr is this process's: a traceback shows above)
                wait_listening(port, proc, timeout=15.0, interval=0.1, name=agent)
            except NotListening as exc:
                raise SystemExit(str(exc)) from None
            spec_servers.append({"agent": agent, "url": f"ws://127.0.0.1:{port}"})
        report.mkdir(parents=True, exist_ok=True)
        spec = {"outdir": str(report), "servers": spec_servers, "cases": cases,
                "exclude-cases": [], "exclude-agent-cases": {}}
        spec_path = report / "fuzzingclient.json"
        spec_path.write_text(json.dumps(spec, indent=2))
        self.log = (report / "wstest.log").open("wb")
        self.wstest = subprocess.Popen(f"{wstest} -m fuzzingclient -s {spec_path}", shell=True,
                                       stdout=self.log, stderr=subprocess.STDOUT, cwd=report)

    def wait(self) -> int:
        try:
            return self.wstest.wait()
        finally:
            self.log.close()
            for proc in self.procs:
                proc.terminate()
            for proc in self.procs:
                proc.wait(timeout=10)

    def results(self) -> dict[str, dict[str, Any]]:
        index: dict[str, dict[str, Any]] = json.loads((self.report / "index.json").read_text())
        return index


def sections(merged: dict[str, dict[str, Any]]) -> None:
    """A table: per Autobahn section, each server's cases and how many passed."""
    agents = list(merged)
    numbers = sorted({int(case.split(".")[0]) for results in merged.values()
                      for case in results})
    print("| section | " + " | ".join(agents) + " |")
    print("|---|" + "---|" * len(agents))
    for number in numbers:
        cells = []
        for agent in agents:
            cases = [r for case, r in merged[agent].items()
                     if int(case.split(".")[0]) == number]
            behaviors = Counter(r["behavior"] for r in cases)
            passed = sum(n for b, n in behaviors.items() if b in PASSING)
            other = ", ".join(f"{n} {b}" for b, n in sorted(behaviors.items())
                              if b not in PASSING)
            cells.append(f"{passed}/{len(cases)} OK" + (f" ({other})" if other else ""))
        print(f"| {number} | " + " | ".join(cells) + " |")


def main() -> int:
    """Run the suite; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wstest", required=True, help="command that runs wstest")
    parser.add_argument("--cases", default="1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*")
    parser.add_argument("--report", default="reports/compliance")
    parser.add_argument("--with-websockets", action="store_true",
                        help="also run a websockets echo server (timed, not checked)")
    parser.add_argument("--uvicorn", action="store_true",
                        help="uvicorn on WSFrameProtocol (checked), wsproto and "
                        "websockets-sansio (reported) instead of the example server")
    parser.add_argument("--no-peers", action="store_true",
                        help="with --uvicorn: only WSFrameProtocol (what CI checks)")
    args = parser.parse_args()

    wstest = str(Path(args.wstest).resolve()) if Path(args.wstest).exists() else args.wstest
    report = (ROOT / args.report).resolve()
    servers = {"wsframe": [sys.executable, str(ROOT / "examples/echo_server.py")]}
    if args.with_websockets:
        servers["websockets"] = [sys.executable, str(ROOT / "benchmarks/websockets_echo.py")]
    checked = {"wsframe"}
    env = None
    if args.uvicorn:
        uvicorn = [sys.executable, "-m", "uvicorn", "asgi_echo:app",
                   "--app-dir", str(ROOT / "tests" / "integration"), "--host", "127.0.0.1",
                   "--lifespan", "off", "--log-level", "critical",
                   "--ws-max-size", str(64 * 2**20), "--ws"]
        servers = {"uvicorn+wsframe": [*uvicorn, "wsframe_uvicorn:WSFrameProtocol"],
                   "uvicorn+wsproto": [*uvicorn, "wsproto"],
                   "uvicorn+websockets-sansio": [*uvicorn, "websockets-sansio"]}
        checked = {"uvicorn+wsframe"}
        if args.no_peers:
            servers = {"uvicorn+wsframe": servers["uvicorn+wsframe"]}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT / "integrations" / "uvicorn"), str(ROOT)]))
    groups_cases = [[c.strip() for c in group.split(",") if c.strip()]
                    for group in args.cases.split("|")]

    started = time.monotonic()
    print(f"running Autobahn|Testsuite cases {args.cases} "
          f"({len(groups_cases)} parallel group(s), reports under {report})", flush=True)
    groups = [Group(cases, report / f"group{i + 1}" if len(groups_cases) > 1 else report,
                    servers, wstest, env) for i, cases in enumerate(groups_cases)]
    statuses = [group.wait() for group in groups]
    if any(statuses):
        print(f"wstest failed with status {statuses}; see the wstest.log files under {report}")
        return 1

    merged: dict[str, dict[str, Any]] = {agent: {} for agent in servers}
    for group in groups:
        for agent, cases in group.results().items():
            merged[agent].update(cases)
    failed = False
    for agent, results in merged.items():
        behaviors = Counter(r["behavior"] for r in results.values())
        duration = sum(r["duration"] for r in results.values()) / 1000
        summary = ", ".join(f"{n} {b}" for b, n in sorted(behaviors.items()))
        print(f"{agent:11s} {len(results)} cases: {summary}; total case time {duration:.1f} s")
        bad = sorted((k for k, r in results.items() if r["behavior"] not in PASSING),
                     key=lambda k: [int(p) for p in k.split(".")])
        if bad:
            print(f"{'':11s} not OK ({len(bad)}): " + ", ".join(
                f"{k} ({results[k]['behavior']})" for k in bad))
            if agent in checked:
                failed = True
    if len(merged) > 1:
        # Totals flatter a server that gives up on heavy cases early: also
        # compare the cases every server passed.
        sections(merged)
        first = min(checked)
        common = [case for case in merged[first]
                  if all(results.get(case, {}).get("behavior") in PASSING
                         for results in merged.values())]
        times = ", ".join(
            f"{agent} {sum(results[c]['duration'] for c in common) / 1000:.1f} s"
            for agent, results in merged.items())
        print(f"on the {len(common)} cases every server passed: {times}")
    print(f"wall time {time.monotonic() - started:.0f} s; reports: "
          + ", ".join(str(g.report / "index.html") for g in groups))
    return 1 if failed else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
