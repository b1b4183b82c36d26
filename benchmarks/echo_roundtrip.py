"""End to end: echo round trips over loopback, one connection, every server alike.

    python benchmarks/echo_roundtrip.py            # pure Python (about a minute)
    python benchmarks/echo_roundtrip.py --builds "pure Python,C helper,compiled"
                                                   # `make bench-echo`: every build
    python benchmarks/echo_roundtrip.py --quick    # a smoke run

Each server runs in a child process on 127.0.0.1 and echoes every message:
examples/echo_server.py (wsframe's asyncio example), picows' server,
aiohttp's, websockets', and uvicorn serving one ASGI echo app on wsframe
(integrations/uvicorn), on websockets-sansio and on wsproto. Compression is
off everywhere (it would be most of the time). One client for all, in this
process: a blocking socket with TCP_NODELAY driving wsframe's `Connection`,
which sends a message and waits for its echo before the next one, so a round
trip is the whole path through the server: asyncio, the socket calls, its
WebSocket codec and, for uvicorn, ASGI. Reported: round trips per second for
64-byte text messages and MB/s for 1 MiB binary messages (payload both ways
counted once), the best round, and each server's ratio to the example
server (on the first build named); rounds interleave the servers, and a
ratio is the median of the rounds' ratios. wsframe's two servers run on each
build asked for (``--builds``); the client is pure Python in every case. The
figures are the server's and the client's together; compare servers within
one run only.

This report has no target: the codec is a small part of a server's busy
time (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wsframe import BinaryMessage, Connection, Role, TextMessage
from wsframe.handshake import HeadReader, check_response, client_request
from wsframe.tools.net import free_port, wait_listening

MAX = 4 * 2**20         # the largest message every server must accept

SERVERS = ["wsframe example", "picows", "aiohttp", "websockets",
           "uvicorn + wsframe", "uvicorn + websockets-sansio", "uvicorn + wsproto"]

# wsframe's builds, for its two servers: the checkout in pure Python, the C
# helper (`make speedups`) and the compiled build's venv (`make compiled`).
# Every child runs with PYTHONSAFEPATH=1, so that the working directory (the
# checkout, for `python -m uvicorn`) cannot shadow the build it is given.
SPEEDUPS = ROOT / ".build-speedups"
COMPILED_PYTHON = ROOT / ".venv-compiled" / "bin" / "python"
BUILDS = {"pure Python": (sys.executable, [str(ROOT)]),
          "C helper": (sys.executable, [str(SPEEDUPS), str(ROOT)]),
          "compiled": (str(COMPILED_PYTHON), [])}
WSFRAME_SERVERS = ("wsframe example", "uvicorn + wsframe")


def named(server: str, build: str) -> str:
    """One of wsframe's servers on a build: "uvicorn + wsframe (compiled)"."""
    return server if build == "pure Python" else f"{server} ({build})"


def server_names(builds: list[str]) -> list[str]:
    """Every server, wsframe's two once per build."""
    names = [name for name in SERVERS if name not in WSFRAME_SERVERS or "pure Python" in builds]
    for build in builds:
        if build != "pure Python":
            names += [named(server, build) for server in WSFRAME_SERVERS]
    return names


def _child(name: str) -> tuple[str, str, dict[str, str]]:
    """(the server's own name, the interpreter, the environment) for ``name``."""
    build = "pure Python"
    for candidate in BUILDS:
        if name.endswith(f" ({candidate})"):
            name, build = name[:-len(candidate) - 3], candidate
    python, first = BUILDS[build]
    paths = [*first, str(ROOT / "tests" / "integration"), str(ROOT / "integrations" / "uvicorn")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONSAFEPATH": "1"}
    return name, python, env


def build_of(name: str) -> str:
    """How the wsframe a server child imports is built, asked of that child's
    interpreter with its environment (so that a stale or missing build shows)."""
    _, python, env = _child(name)
    done = subprocess.run([python, "-c", "import wsframe; from wsframe import masking; "
                           "print(wsframe.COMPILED, masking.ACCELERATOR)"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    compiled, accelerator = done.stdout.split(maxsplit=1)
    accelerator = accelerator.strip()
    return ("compiled with mypyc, " if compiled == "True" else "") + (
        "no accelerator" if accelerator == "None" else accelerator)


# -- the servers, each run as `echo_roundtrip.py --serve NAME PORT` -------------------

async def _serve_picows(port: int) -> None:
    from picows import WSListener, WSMsgType, WSTransport, ws_create_server

    class Echo(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
            if frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION):
                transport.send(frame.msg_type, frame.get_payload_as_bytes(), frame.fin)
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    server = await ws_create_server(lambda request: Echo(), "127.0.0.1", port,
                                    max_frame_size=MAX)
    await server.serve_forever()


async def _serve_aiohttp(port: int) -> None:
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX, compress=False)
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def _serve_websockets(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async with serve(echo, "127.0.0.1", port, max_size=MAX, compression=None) as server:
        await server.serve_forever()


def serve(name: str, port: int) -> None:
    """Run one server until killed (in a child process)."""
    runners = {"picows": _serve_picows, "aiohttp": _serve_aiohttp,
               "websockets": _serve_websockets}
    asyncio.run(runners[name](port))


def start(name: str, port: int) -> subprocess.Popen[bytes]:
    """The server ``name`` listening on ``port``, in a child process."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    name, python, env = _child(name)
    if name == "wsframe example":
        command = [python, str(ROOT / "examples" / "echo_server.py"), "--port",
                   str(port), "--no-deflate", "--max-message-size", str(MAX)]
    elif name.startswith("uvicorn"):
        backend = {"uvicorn + wsframe": "wsframe_uvicorn:WSFrameProtocol",
                   "uvicorn + websockets-sansio": "websockets-sansio",
                   "uvicorn + wsproto": "wsproto"}[name]
        command = [python, "-m", "uvicorn", "asgi_echo:app", "--port", str(port),
                   "--ws", backend, "--ws-max-size", str(MAX), "--ws-per-message-deflate",
                   "False", "--log-level", "warning", "--no-access-log"]
    else:
        command = [python, __file__, "--serve", name, str(port)]
    proc = subprocess.Popen(command, env=env, **quiet)   # type: ignore[call-overload]
    # A RuntimeError if it exits, or is not listening after 20 s (then killed).
    wait_listening(port, proc, timeout=20, name=name)
    return proc  # type: ignore[no-any-return]


# -- the client: one for every server -----------------------------------------------------

class Client:
    """A blocking WebSocket client on wsframe: send a message, wait for its echo."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request, key = client_request(f"127.0.0.1:{port}", "/")
        self.sock.sendall(request)
        reader = HeadReader()
        head = None
        while head is None:
            head = reader.feed(self.sock.recv(65536))
        check_response(head, key)
        self.connection = Connection(Role.CLIENT, max_message_size=MAX)
        self.pending = reader.remainder

    def echo(self, message: str | bytes) -> None:
        """Send ``message``; return when its echo has arrived whole."""
        if isinstance(message, str):
            self.connection.send_text(message)
        else:
            self.connection.send_binary(message)
        self.sock.sendall(self.connection.data_to_send())
        data, self.pending = self.pending, b""
        while True:
            for event in self.connection.feed(data):
                if isinstance(event, (TextMessage, BinaryMessage)):
                    return
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("the server closed the connection")

    def close(self) -> None:
        self.connection.close()
        try:
            self.sock.sendall(self.connection.data_to_send())
        finally:
            self.sock.close()


def measure(port: int, message: str | bytes, count: int) -> float:
    """Seconds for ``count`` round trips of ``message`` on a new connection
    (after a short warm-up); `main` interleaves the calls into rounds."""
    client = Client(port)
    try:
        for _ in range(min(count, 20)):       # warm up
            client.echo(message)
        started = time.perf_counter()
        for _ in range(count):
            client.echo(message)
        return time.perf_counter() - started
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--builds", default="pure Python",
                        help="wsframe's builds to serve with, comma-separated, from: "
                        f"{', '.join(BUILDS)} (default: pure Python)")
    parser.add_argument("--serve", nargs=2, metavar=("NAME", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    builds = [build.strip() for build in args.builds.split(",")]
    unknown = [build for build in builds if build not in BUILDS]
    if unknown:
        parser.error(f"--builds: unknown build {unknown[0]!r} (choose from {', '.join(BUILDS)})")
    for build in builds:
        try:
            print(f"wsframe's servers, {build}: {build_of(named('wsframe example', build))}")
        except (RuntimeError, OSError) as exc:
            parser.error(f"--builds: {build} cannot be imported ({exc}); "
                         "`make speedups` / `make compiled` build it")
    small, large = ("x" * 64, os.urandom(2**20))
    counts = (200, 4) if args.quick else (2000, 25)
    rounds = 1 if args.quick else 7
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in server_names(builds):
            port = free_port()
            try:
                servers[name] = (start(name, port), port)
            except (RuntimeError, OSError) as exc:
                print(f"  {name}: not measured ({exc})")
        # Rounds interleave the servers (all listening, one measured at a
        # time), as make bench does: a change of this shared machine's speed
        # then moves every server of a round alike.
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, (_proc, port) in servers.items():
                times[name].append((measure(port, small, counts[0]),
                                    measure(port, large, counts[1])))
    finally:
        for proc, _port in servers.values():
            proc.terminate()
            proc.wait(10)
    base = times.get(named("wsframe example", builds[0]))
    print("Echo round trips over loopback, one connection, compression off "
          f"({rounds} interleaved rounds; each round {counts[0]:,} x 64 B text and "
          f"{counts[1]} x 1 MiB binary per server; rates: the best round; ratios: the "
          "median of the rounds' ratios)")
    print(f"  {'server':42s}{'64 B round trips/s':>20s}{'1 MiB MB/s':>14s}"
          f"{'vs the example server':>26s}")
    for name, rows in times.items():
        rate = counts[0] / min(small_time for small_time, _ in rows)
        throughput = counts[1] * len(large) / min(large_time for _, large_time in rows) / 1e6
        ratio = ""
        if base is not None:
            small_ratio = statistics.median(b[0] / r[0] for b, r in zip(base, rows, strict=True))
            large_ratio = statistics.median(b[1] / r[1] for b, r in zip(base, rows, strict=True))
            ratio = f"{small_ratio:.2f}x / {large_ratio:.2f}x"
        print(f"  {name:42s}{rate:>20,.0f}{throughput:>14,.1f}{ratio:>26s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
