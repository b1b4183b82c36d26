"""Live checks of the embedders on wsframe.compat.wsproto, beside the real wsproto
(make test-embedders runs them after the suites).

    python tests/compat/embedders/live_check.py

Servers, each started as its own command would be, once with ``python -m
wsframe.compat.wsproto`` in front and once without (the real wsproto), on
127.0.0.1 only:

* hypercorn serving an ASGI echo app (apps/echo_asgi.py), HTTP/1.1, with and
  without permessage-deflate;
* a trio-websocket echo server (apps/echo_trio.py);
* flask-sock, on simple-websocket, under ``flask run`` (apps/echo_flask.py);

each driven by the ``websockets`` client: text, binary, a fragmented
message, 16 MiB, a ping, the wsproto in use, and a close with code 4001 and
a reason. Then trio-websocket's and simple-websocket's clients
(apps/client_*.py) against a ``websockets`` echo server. Every loop is
bounded; every process started here is ended by its id.

The exit status counts the compat runs only. The runs on the real wsproto
are the reference, and are reported: simple-websocket shares one wsproto
connection between the application's thread and its reader thread without
a lock, and on the real wsproto its Close after ``ws.close()`` sometimes
never reaches the client (1 run in 12 here; none on the compat module).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

APPS = Path(__file__).resolve().parent / "apps"
BIN = Path(sys.executable).parent
COMPAT = "wsframe.compat.wsproto"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def command(compat: bool, *program: str) -> list[str]:
    """How a program runs: under the compat runner, or as itself."""
    return [sys.executable, "-m", COMPAT, *program] if compat else [sys.executable, *program] \
        if program[0].endswith(".py") else [str(BIN / program[0]), *program[1:]]


@contextlib.contextmanager
def server(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    """A server process, until it listens on ``port``; ended by its id."""
    process = subprocess.Popen(argv, cwd=APPS, env={**os.environ, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None:
                break
            time.sleep(0.1)
        else:
            raise TimeoutError(f"{argv} did not listen on {port}")
        if process.poll() is not None:
            raise RuntimeError(f"{argv} exited: {process.communicate()[0][-2000:]}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def drive(url: str, deflate: bool) -> str:
    """The websockets client's round of checks; returns the wsproto the server used."""
    step = ["connect"]
    try:
        return await asyncio.wait_for(_drive(url, deflate, step), 60)
    except (TimeoutError, asyncio.TimeoutError) as exc:
        raise TimeoutError(f"no progress at step {step[0]!r}") from exc


async def _drive(url: str, deflate: bool, step: list[str]) -> str:
    async with connect(url, compression="deflate" if deflate else None, max_size=None,
                       open_timeout=10) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None
        assert (agreed or "").startswith("permessage-deflate") is deflate, agreed
        for message in ("hello", b"\x00\x01\x02"):
            step[0] = f"echo {message!r}"
            await ws.send(message)
            assert await ws.recv() == message, message
        step[0] = "fragmented"
        await ws.send(["frag", "men", "ted"])
        assert await ws.recv() == "fragmented"
        step[0] = "16 MiB"
        big = bytes(range(256)) * (2**16)                # 16 MiB
        await ws.send(big)
        assert await ws.recv() == big
        step[0] = "ping"
        await asyncio.wait_for(await ws.ping(b"are you there"), 10)
        step[0] = "which"
        await ws.send("which")
        which = await ws.recv()
        step[0] = "close"
        await ws.send("close")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError("no Close after 'close'")
        except ConnectionClosed:
            pass
        assert (ws.close_code, ws.close_reason) == (4001, "asked"), \
            (ws.close_code, ws.close_reason)
        assert isinstance(which, str)
        return which


async def echo(ws: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            await ws.send(message)


async def clients(compat: bool) -> list[str]:
    """trio-websocket's and simple-websocket's clients against a websockets server."""
    port = free_port()
    lines = []
    async with serve(echo, "127.0.0.1", port, max_size=None):
        for client in ("client_trio.py", "client_simple.py"):
            done = await asyncio.create_subprocess_exec(
                *command(compat, client, f"ws://127.0.0.1:{port}/"), cwd=APPS,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            out, _ = await asyncio.wait_for(done.communicate(), 60)
            text = out.decode().strip()
            assert done.returncode == 0, text
            lines.append(text.splitlines()[-1])
    return lines


def main() -> int:
    """Every check on the compat module and on the real wsproto; 0 if all pass."""
    failures = 0
    for compat in (True, False):
        on = COMPAT if compat else "real wsproto"
        servers = [
            ("hypercorn, ASGI echo", lambda p, c=compat: command(
                c, "hypercorn", "--bind", f"127.0.0.1:{p}", "echo_asgi:app"), (False, True)),
            ("trio-websocket echo", lambda p, c=compat: command(c, "echo_trio.py", str(p)),
             (False,)),
            ("flask-sock echo (flask run)", lambda p, c=compat: command(
                c, "flask", "--app", "echo_flask", "run", "--port", str(p)), (False,)),
        ]
        for name, argv, deflates in servers:
            for deflate in deflates:
                port = free_port()
                label = f"{name}{', permessage-deflate' if deflate else ''} on {on}"
                try:
                    with server(argv(port), port):
                        which = asyncio.run(drive(f"ws://127.0.0.1:{port}/", deflate))
                    expected = COMPAT if compat else "wsproto"
                    assert which == expected, f"the server used {which}, not {expected}"
                    print(f"ok    {label}: text, binary, fragmented, 16 MiB, ping, close 4001")
                except Exception as exc:
                    failures += compat
                    print(f"FAIL  {label}: {type(exc).__name__}: {exc}"
                          + ("" if compat else " (the reference run: not counted)"))
        try:
            for line in asyncio.run(clients(compat)):
                assert line.endswith(COMPAT if compat else " wsproto"), line
                print(f"ok    {line} (against a websockets server)")
        except Exception as exc:
            failures += compat
            print(f"FAIL  clients on {on}: {type(exc).__name__}: {exc}"
                  + ("" if compat else " (the reference run: not counted)"))
    print(f"live checks: {'all passed' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
