"""Hostile clients against uvicorn, on WSFrameProtocol and on uvicorn's own
WebSocket backends, side by side (``make probe-uvicorn``; docs/uvicorn-hardening.md).

    python integrations/uvicorn/tests/hostile_probe.py [--requests N] [--flood-seconds S]
        [--early-mb M] [--backends wsframe,websockets,...] [--json FILE] [--pythonpath DIR]

Each probe starts its own uvicorn (``python -m uvicorn``, this file's `app`,
127.0.0.1 only, a free port) in a child process with one backend, runs one
kind of hostile client against it, reads the server's resident memory from
/proc, then sends SIGTERM and times the exit (killed after 15 s):

* ``malformed``: N handshakes offering a malformed ``Sec-WebSocket-Extensions``
  (the three of issue 21, in turn), each client gone once answered; then a
  plain GET. ``limit``: the same, 7 times, with ``--limit-concurrency 4``: does
  the GET still get 200?
* ``flood``: a client that sends 125-byte Pings for S seconds and never reads;
  memory while it is still connected, and shutdown with it still connected;
* ``early``: M MiB of frames sent after the head, before the application
  accepts (it waits 6 s); how much the server took, and memory;
* ``accept``: the application accepts with an invalid subprotocol, with one the
  client did not offer, and with a header value carrying CR LF: what the
  client gets (the status line, ``EOF``, or what the 101 carried).

Every loop is bounded (by count, bytes or seconds) and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from wsframe import Opcode, build_frame
from wsframe.tools.net import free_port, wait_listening

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
BACKENDS = {
    "wsframe": "wsframe_uvicorn:WSFrameProtocol",
    "websockets": "websockets",
    "websockets-sansio": "websockets-sansio",
    "wsproto": "wsproto",
}
MALFORMED_OFFERS = ["permessage-deflate;;", 'permessage-deflate; a="b',
                    "permessage-deflate; x; ,;"]
LATE_SECONDS = 6.0          # how long /late waits before it accepts
MASK = b"\x01\x02\x03\x04"
Message = MutableMapping[str, Any]


# -- the application the servers run ------------------------------------------------------

async def app(scope: Message, receive: Callable[[], Awaitable[Message]],
              send: Callable[[Message], Awaitable[None]]) -> None:
    """``/echo`` echoes; ``/late`` accepts after LATE_SECONDS; ``/bad-subprotocol``,
    ``/unoffered`` and ``/bad-header`` accept with what their name says; plain
    HTTP gets 200 ``ok``."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    if scope["type"] != "websocket":
        return
    await receive()                                   # websocket.connect
    path = scope["path"]
    accept: Message = {"type": "websocket.accept"}
    if path == "/late":
        await asyncio.sleep(LATE_SECONDS)
    elif path == "/bad-subprotocol":
        accept["subprotocol"] = "bad value"
    elif path == "/unoffered":
        accept["subprotocol"] = "superchat"
    elif path == "/bad-header":
        accept["headers"] = [(b"x-a", b"1\r\nX-Injected: 1")]
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
        else:
            await send({"type": "websocket.send", "text": message.get("text") or ""})


# -- the server in a child process --------------------------------------------------------

class Server:
    """uvicorn serving `app` with one WebSocket backend, in a child process."""

    #: Directories put first on the child's PYTHONPATH (``--pythonpath``).
    pythonpath: list[str] = []

    def __init__(self, backend: str, *options: str) -> None:
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [*self.pythonpath, str(ROOT / "integrations" / "uvicorn"), str(ROOT)]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "hostile_probe:app", "--app-dir", str(HERE),
             "--ws", BACKENDS[backend], "--host", "127.0.0.1", "--port", str(self.port),
             "--lifespan", "off", "--log-level", "critical", *options],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # (A RuntimeError when it exits or is not listening after 20 s: then killed.)
        wait_listening(self.port, self.proc, timeout=20, name=f"uvicorn --ws {backend}")

    def rss(self) -> float:
        """Resident memory now, in MB (VmRSS)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self, cap: float = 15.0) -> str:
        """SIGTERM, then the seconds until the process exited ("> cap" if killed)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(cap)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return f"> {cap:.0f} (killed)"
        return f"{time.monotonic() - start:.2f}"


# -- clients --------------------------------------------------------------------------------

def handshake(path: str, *headers: str) -> bytes:
    """A client's opening handshake (RFC 6455 4.1) with extra header lines."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def answer_head(port: int, request: bytes, timeout: float = 3.0
                      ) -> tuple[str, list[str], asyncio.StreamWriter]:
    """Send ``request``; the answer's status line (or EOF / timeout) and header lines."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except asyncio.IncompleteReadError:
        return "EOF", [], writer
    except asyncio.TimeoutError:
        return "no answer", [], writer
    except OSError:
        return "reset", [], writer
    lines = head.decode("latin-1").split("\r\n")[:-2]
    return " ".join(lines[0].split()[1:2]) or lines[0], lines[1:], writer


async def gone(writer: asyncio.StreamWriter) -> None:
    """Close a client connection."""
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def plain_get(port: int) -> str:
    """The status of a plain ``GET /``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try:
        answer = await asyncio.wait_for(reader.read(), 5)
    except (asyncio.TimeoutError, OSError):
        answer = b""
    await gone(writer)
    return answer.split(b" ", 2)[1].decode() if answer.count(b" ") >= 2 else "no answer"


async def flood(writer: asyncio.StreamWriter, chunk: bytes, total: int, seconds: float,
                stall: float = 1.0) -> int:
    """Write ``chunk`` until ``total`` bytes, ``seconds`` elapsed, or the peer took
    nothing for ``stall`` seconds; the bytes written."""
    sent = 0
    deadline = time.monotonic() + seconds
    while sent < total and time.monotonic() < deadline:
        writer.write(chunk)
        sent += len(chunk)
        try:
            await asyncio.wait_for(writer.drain(), stall)
        except (asyncio.TimeoutError, OSError):
            break
    return sent


# -- probes ---------------------------------------------------------------------------------

async def probe_malformed(backend: str, requests: int) -> dict[str, Any]:
    server = Server(backend)
    try:
        before = server.rss()
        answers: Counter[str] = Counter()
        start = time.monotonic()
        for i in range(requests):
            offer = MALFORMED_OFFERS[i % len(MALFORMED_OFFERS)]
            status, _headers, writer = await answer_head(
                server.port, handshake("/echo", f"Sec-WebSocket-Extensions: {offer}"), 2)
            answers[status] += 1
            await gone(writer)
        elapsed = time.monotonic() - start
        await asyncio.sleep(0.5)
        after = server.rss()
        get = await plain_get(server.port)
    finally:
        shutdown = server.stop()
    return {"answers": ", ".join(f"{n}x {s}" for s, n in answers.most_common()),
            "rss_before": round(before, 1), "rss_after": round(after, 1),
            "rss_growth": round(after - before, 1), "seconds": round(elapsed, 1),
            "get_after": get, "shutdown": shutdown}


async def probe_limit(backend: str) -> dict[str, Any]:
    server = Server(backend, "--limit-concurrency", "4")
    try:
        for i in range(7):
            _status, _headers, writer = await answer_head(
                server.port, handshake("/echo", "Sec-WebSocket-Extensions: "
                                       + MALFORMED_OFFERS[i % 3]), 2)
            await gone(writer)
        await asyncio.sleep(0.5)
        get = await plain_get(server.port)
    finally:
        shutdown = server.stop()
    return {"get_after": get, "shutdown": shutdown}


async def probe_flood(backend: str, seconds: float) -> dict[str, Any]:
    server = Server(backend)
    try:
        status, _headers, writer = await answer_head(server.port, handshake("/echo"))
        await asyncio.sleep(0.2)
        before = server.rss()
        ping = build_frame(Opcode.PING, bytes(125), mask=MASK)
        sent = await flood(writer, ping * 512, 2**40, seconds, stall=seconds)
        await asyncio.sleep(0.5)
        after = server.rss()
        shutdown = server.stop()            # the client still connected, not reading
        writer.transport.abort()
    finally:
        if server.proc.poll() is None:
            server.stop()
    return {"answer": status, "sent_mb": round(sent / 2**20, 1),
            "rss_growth": round(after - before, 1), "shutdown": shutdown}


async def probe_early(backend: str, megabytes: int) -> dict[str, Any]:
    server = Server(backend)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        connected = time.monotonic()
        writer.write(handshake("/late"))
        # uvicorn's HTTP parsers drop bytes that share a read with the head.
        await asyncio.sleep(0.3)
        before = server.rss()
        frame = build_frame(Opcode.BINARY, bytes(65536), mask=MASK)
        start = time.monotonic()
        sent = await flood(writer, frame, megabytes * 2**20, LATE_SECONDS - 1.5)
        elapsed = time.monotonic() - start
        taken = sent - writer.transport.get_write_buffer_size()
        after = server.rss()
        writer.transport.abort()
        del reader
        # The application is still waiting to accept: let it finish first.
        await asyncio.sleep(max(0.0, connected + LATE_SECONDS + 0.5 - time.monotonic()))
    finally:
        shutdown = server.stop()
    return {"sent_mb": round(sent / 2**20, 1), "taken_mb": round(taken / 2**20, 1),
            "seconds": round(elapsed, 1), "rss_growth": round(after - before, 1),
            "shutdown": shutdown}


async def probe_accept(backend: str) -> dict[str, Any]:
    server = Server(backend)
    results: dict[str, Any] = {}
    try:
        for path in ["/bad-subprotocol", "/unoffered", "/bad-header"]:
            status, headers, writer = await answer_head(
                server.port, handshake(path, "Sec-WebSocket-Protocol: chat"))
            shown = status
            if status == "101":
                chosen = [h.split(":", 1)[1].strip() for h in headers
                          if h.lower().startswith("sec-websocket-protocol:")]
                injected = any(h.lower().startswith("x-injected") for h in headers)
                shown += f" (protocol {chosen[0]!r})" if chosen else ""
                shown += " (X-Injected header sent)" if injected else ""
            results[path.strip("/")] = shown
            await gone(writer)
        await asyncio.sleep(0.3)
    finally:
        results["shutdown"] = server.stop()
    return results


# -- the report -------------------------------------------------------------------------------

def table(results: dict[str, dict[str, dict[str, Any]]], options: argparse.Namespace) -> str:
    """The results as Markdown tables, one row per backend."""
    n = options.requests
    rows = [
        f"| backend | malformed offers x{n}: answers | RSS | plain GET after | "
        "shutdown (s) | limit-concurrency 4, 7 malformed: GET |",
        "|---|---|---|---|---|---|",
    ]
    for backend, r in results.items():
        m, lim = r["malformed"], r["limit"]
        rows.append(f"| {backend} | {m['answers']} ({m['seconds']} s) | {m['rss_before']} -> "
                    f"{m['rss_after']} MB ({m['rss_growth']:+}) | {m['get_after']} | "
                    f"{m['shutdown']} | {lim['get_after']} |")
    rows += ["", f"| backend | Ping flood, {options.flood_seconds:g} s, never read: sent | RSS "
             "growth | shutdown, flooder connected (s) | early data before accept: sent / "
             "taken | RSS growth | shutdown (s) |", "|---|---|---|---|---|---|---|"]
    for backend, r in results.items():
        f, e = r["flood"], r["early"]
        rows.append(f"| {backend} | {f['sent_mb']} MB | {f['rss_growth']:+} MB | "
                    f"{f['shutdown']} | {e['sent_mb']} / {e['taken_mb']} MB | "
                    f"{e['rss_growth']:+} MB | {e['shutdown']} |")
    rows += ["", "| backend | accept: subprotocol 'bad value' | accept: 'superchat' (client "
             "offered 'chat') | accept: header value with CR LF | shutdown (s) |",
             "|---|---|---|---|---|"]
    for backend, r in results.items():
        a = r["accept"]
        rows.append(f"| {backend} | {a['bad-subprotocol']} | {a['unoffered']} | "
                    f"{a['bad-header']} | {a['shutdown']} |")
    return "\n".join(rows)


async def main_async(options: argparse.Namespace) -> dict[str, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for backend in options.backends.split(","):
        print(f"-- {backend}", file=sys.stderr, flush=True)
        results[backend] = {
            "malformed": await probe_malformed(backend, options.requests),
            "limit": await probe_limit(backend),
            "flood": await probe_flood(backend, options.flood_seconds),
            "early": await probe_early(backend, options.early_mb),
            "accept": await probe_accept(backend),
        }
        print(json.dumps(results[backend]), file=sys.stderr, flush=True)
    return results


def main() -> int:
    """Run every probe on every backend; print the tables (and write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000,
                        help="malformed handshakes per backend (default 5000)")
    parser.add_argument("--flood-seconds", type=float, default=4.0,
                        help="how long the Ping flood lasts (default 4)")
    parser.add_argument("--early-mb", type=int, default=60,
                        help="MiB sent before the application accepts (default 60)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--pythonpath", action="append", default=[], metavar="DIR",
                        help="put DIR first on the servers' PYTHONPATH (to compare another "
                        "wsframe_uvicorn, e.g. an older one); repeatable")
    options = parser.parse_args()
    unknown = set(options.backends.split(",")) - set(BACKENDS)
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))}")
    if options.requests < 1 or options.flood_seconds <= 0 or options.early_mb < 1:
        parser.error("--requests, --flood-seconds and --early-mb must be positive")
    Server.pythonpath = [str(Path(d).resolve()) for d in options.pythonpath]
    results = asyncio.run(main_async(options))
    print(table(results, options))
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
