"""Record a real `wsframe proxy` session into docs/proxy-session.txt.

    python docs/record_proxy_session.py

Starts examples/echo_server.py and `wsframe proxy` in front of it, runs a
websockets client through the proxy (a text message, a fragmented one, a
ping, a close), stops the proxy with SIGINT, and writes the command and its
whole output. docs/make_framing.py and the README quote the file; ports and
timings are those of the recorded run.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

from wsframe.tools.net import NotListening, wait_listening

ROOT = Path(__file__).resolve().parent.parent
SERVER_PORT, PROXY_PORT = 9001, 9002


async def session() -> None:
    """What the client does through the proxy."""
    async with connect(f"ws://127.0.0.1:{PROXY_PORT}/chat") as ws:
        await ws.send("Hello through the tap")
        await ws.recv()
        await ws.send(["fragmented ", "in two"])
        await ws.recv()
        await (await ws.ping(b"still there?"))
        await ws.close(1000, "bye")


def main() -> None:
    """Record the session."""
    server = subprocess.Popen([sys.executable, str(ROOT / "examples" / "echo_server.py"),
                               "--port", str(SERVER_PORT)], stdout=subprocess.DEVNULL)
    try:
        try:
            wait_listening(SERVER_PORT, server, name="examples/echo_server.py")
        except NotListening as exc:
            raise SystemExit(str(exc)) from None
        command = (f"wsframe proxy --listen 127.0.0.1:{PROXY_PORT} "
                   f"--upstream 127.0.0.1:{SERVER_PORT}")
        proxy = subprocess.Popen([sys.executable, "-m", "wsframe", *command.split()[1:]],
                                 stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert proxy.stdout is not None
        first = proxy.stdout.readline()
        asyncio.run(session())
        time.sleep(0.3)
        proxy.send_signal(signal.SIGINT)
        rest, _ = proxy.communicate(timeout=20)
    finally:
        server.terminate()
        server.wait(10)
    path = ROOT / "docs" / "proxy-session.txt"
    cut = rest.rstrip("\n").rfind("\n\n") + 1         # Ctrl-C, then the totals
    path.write_text(f"$ {command}\n{first}{rest[:cut]}^C\n{rest[cut:].lstrip()}",
                    encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
