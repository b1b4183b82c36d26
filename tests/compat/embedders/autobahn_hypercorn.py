"""Autobahn|Testsuite against hypercorn on wsframe.compat.wsproto, beside hypercorn
on the real wsproto (make compliance-hypercorn).

    python tests/compat/embedders/autobahn_hypercorn.py --wstest .tools/autobahn/run-wstest

Both serve tests/integration/asgi_echo.py (one hypercorn process each, no
workers, a 64 MiB message limit so that section 9's 16 MiB messages fit) on
127.0.0.1; compliance/run.py's `Group` runs wstest's fuzzingclient on both in
the same run, its case groups in parallel. Exits 1 if a case of hypercorn
on the compat module is anything but OK, INFORMATIONAL or NON-STRICT; the
real wsproto's results are reported beside them.

Why NON-STRICT passes here: in cases such as 3.2 (a message, then a frame
with a reserved bit) hypercorn hands the message to the application and
answers the violation in the same loop, before the application's echo is
written, so the echo never goes out. It does so on the real wsproto too
(3.2, 3.3, 4.1.3, 4.1.4, 4.2.3, 4.2.4, 5.15 on both, every run here; on a
loaded machine a case or two more on either).

    python autobahn_hypercorn.py --serve PORT [--compat]

is one server (what the groups start).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CASES = "12.*|9.*|1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,13.*"


def serve(port: int, compat: bool) -> None:
    """One hypercorn server of the echo app, in this process."""
    if compat:
        from wsframe.compat.wsproto import install
        install()
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from asgi_echo import app
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.websocket_max_message_size = 64 * 2**20
    config.loglevel = "ERROR"
    asyncio.run(hypercorn_serve(app, config))  # type: ignore[arg-type]


def main() -> int:
    """Run the suite on both servers; the exit status is the compat server's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wstest", help="command that runs wstest")
    parser.add_argument("--cases", default=CASES, help="case groups, as for compliance/run.py")
    parser.add_argument("--report", default="reports/compliance-hypercorn")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--compat", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve or args.port:
        serve(args.serve or args.port, args.compat)
        return 0
    if not args.wstest:
        parser.error("--wstest is required")

    sys.path.insert(0, str(ROOT / "compliance"))
    from run import PASSING, Group, sections  # compliance/run.py

    me = [sys.executable, str(Path(__file__).resolve())]
    servers = {"hypercorn+wsframe.compat": [*me, "--compat"], "hypercorn+wsproto": me}
    groups_cases = [[c.strip() for c in group.split(",") if c.strip()]
                    for group in args.cases.split("|")]
    report = (ROOT / args.report).resolve()
    groups = [Group(cases, report / f"group{i + 1}", servers,
                    str(Path(args.wstest).resolve())) for i, cases in enumerate(groups_cases)]
    if any(group.wait() for group in groups):
        print(f"wstest failed; see the wstest.log files under {report}")
        return 1
    merged: dict[str, dict[str, Any]] = {agent: {} for agent in servers}
    for group in groups:
        for agent, cases in group.results().items():
            merged[agent].update(cases)
    failed = False
    for agent, results in merged.items():
        behaviors = Counter(r["behavior"] for r in results.values())
        print(f"{agent}: {len(results)} cases: "
              + ", ".join(f"{n} {b}" for b, n in sorted(behaviors.items())))
        bad = sorted(k for k, r in results.items() if r["behavior"] not in PASSING)
        if bad:
            print("  not OK: " + ", ".join(f"{k} ({results[k]['behavior']})" for k in bad))
            failed |= agent == "hypercorn+wsframe.compat" and any(
                results[k]["behavior"] != "NON-STRICT" for k in bad)
    sections(merged)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
