"""A short guided tour of wsframe (``make demo``).

Runs the ``wsframe`` command line on the bundled sample streams and the
packet capture in samples/, the way you would type it, and checks that each
step ends as it should.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEPS = [
    ("1. A valid exchange, as a server reads it: the client masks every frame, and a\n"
     "   fragmented message has a ping between its fragments.",
     "wsframe dissect samples/valid-exchange.bin", 0),
    ("2. A broken client sends a frame with the reserved opcode 0x3. The message before\n"
     "   it is delivered; then the connection fails with 1002 and the exact Close frame\n"
     "   to send back.",
     "wsframe dissect samples/reserved-opcode.bin", 1),
    ("3. A loaded server sheds a client with 1013 Try Again Later; this is the frame it\n"
     "   sends, as the client reads it.",
     "wsframe dissect --role client samples/try-again-later.bin", 0),
    ("4. 1002 versus 1013: fix the peer, or come back later.",
     "wsframe compare 1002 1013", 0),
    ("5. The client's reconnect schedule after 1013: exponential backoff from 1 s,\n"
     "   doubling, with full jitter (seeded here so the tour prints the same numbers).",
     "wsframe backoff --code 1013 --attempts 6 --seed 2026", 0),
    ("6. A packet capture (tcpdump on loopback): clients talking to the echo server\n"
     "   through a deliberately broken middlebox. Both directions of every connection\n"
     "   are dissected; the box's damage is found, with the side that sent the bad\n"
     "   frame, its packet and byte, and what the receiver must answer.",
     "wsframe dissect samples/capture-middlebox.pcap", 1),
]


def main() -> int:
    """Run the tour; return 1 if a step ends with an unexpected status."""
    failures = 0
    for title, command, expected in STEPS:
        print("=" * 78)
        print(title)
        print(f"\n$ {command}")
        sys.stdout.flush()
        argv = [sys.executable, "-m", "wsframe", *shlex.split(command)[1:]]
        status = subprocess.call(argv, cwd=ROOT)
        print(f"[exit status {status}]")
        if status != expected:
            print(f"!! expected exit status {expected}")
            failures += 1
        print()
    print("=" * 78)
    print("Next: the README shows the library API; `wsframe --help` lists every command.")
    print("The `wsframe` command is installed in .venv/bin: run `. .venv/bin/activate` to put")
    print("it on your PATH (or call .venv/bin/wsframe).")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
