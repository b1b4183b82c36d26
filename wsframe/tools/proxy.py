"""``wsframe proxy``: a transparent TCP tap between WebSocket clients and a server.

    wsframe proxy --listen 127.0.0.1:9102 --upstream 127.0.0.1:9101

Each client that connects to ``--listen`` gets its own connection to
``--upstream``; every byte is forwarded unchanged, in both directions, as it
arrives (forwarding comes first: the tap never holds bytes back to read them).
A copy of each direction goes to a `Session`, which follows the HTTP Upgrade
and dissects the frames as each receiver reads them; one line per frame is
printed as it completes (``-v``: the full header diagram), a violation is
flagged with the side that broke the rule, and forwarding goes on: the tap
observes, it does not enforce. When a connection ends, its summary is
printed. Ctrl-C or SIGTERM stops it cleanly: open connections are closed and
summarised, then the totals are printed, and it exits with status 0 (1 if
a violation was seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from ..dissect import CAPTURE_MAX_MESSAGE_SIZE
from .capture import CaptureReport, SummaryRecord
from .session import Session, Where

__all__ = ["ProxyOptions", "parse_address", "run_proxy"]


def parse_address(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a pair; ValueError naming ``what``."""
    host, colon, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what}: expected HOST:PORT (e.g. 127.0.0.1:9001), not {text!r}")
    return host, int(port)


def _endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class ProxyOptions:
    """What ``wsframe proxy`` was asked to do."""

    listen: tuple[str, int]
    upstream: tuple[str, int]
    verbose: bool = False
    json_output: bool = False
    max_message_size: int | None = CAPTURE_MAX_MESSAGE_SIZE


class _Tap:
    """The listening side: one `Session` per client connection."""

    def __init__(self, options: ProxyOptions, out: IO[str]) -> None:
        self.options = options
        self.report = CaptureReport(out, json_output=options.json_output,
                                    verbose=options.verbose, unit="read")
        self.count = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.get_running_loop()
        self.stopping = False

    async def handle(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.count += 1
        number = self.count
        peer = client_writer.get_extra_info("peername")
        client = _endpoint(peer[0], peer[1]) if peer else "?"
        host, port = self.options.upstream
        session = Session(number, client, _endpoint(host, port), opened=True,
                          max_message_size=self.options.max_message_size)
        started = self.loop.time()
        self.writers.add(client_writer)
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(host, port)
            except OSError as exc:
                self.report.out.write(f"[{number}] cannot reach the upstream "
                                      f"{_endpoint(host, port)}: {exc.strerror or exc}\n")
                self.report.out.flush()
                return
            self.writers.add(server_writer)
            ends: list[str] = []
            await asyncio.gather(
                self._pipe(session, "a", client_reader, server_writer, started, ends, "client"),
                self._pipe(session, "b", server_reader, client_writer, started, ends, "server"))
            session.ended = "cut when the proxy stopped" if self.stopping else (
                ends[0] if ends else "closed")
            self.writers.discard(server_writer)
            server_writer.close()
        finally:
            self.writers.discard(client_writer)
            client_writer.close()
            self.tasks.discard(task)
            self._summary(session)

    async def _pipe(self, session: Session, side: str, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, started: float, ends: list[str],
                    name: str) -> None:
        """Forward one direction until EOF, showing a copy of it."""
        offset = 0
        reads = 0
        try:
            while data := await reader.read(65536):
                writer.write(data)              # forward first, then look
                reads += 1
                where = Where(reads, 0, self.loop.time() - started)
                for record in session.feed(side, offset, data, where):
                    self.report.record(record)
                offset += len(data)
                await writer.drain()
            ends.append(f"closed by the {session_role(session, side, name)} (FIN)")
        except (ConnectionError, OSError) as exc:
            ends.append(f"reset on the {session_role(session, side, name)}'s side "
                        f"({type(exc).__name__})")
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()

    def _summary(self, session: Session) -> None:
        summary = session.finish()
        summary["notes"] = list(session.notes)
        self.report.record(SummaryRecord(session.number, summary))

    async def stop(self) -> None:
        """Cut every open connection (each prints its summary as its pipes end)."""
        self.stopping = True
        for writer in list(self.writers):
            writer.transport.abort()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)


def session_role(session: Session, side: str, fallback: str) -> str:
    """"client" or "server" for a side once the handshake said, else ``fallback``."""
    sender = session.directions[side].sender
    return sender if sender != "?" else fallback


async def run_proxy(options: ProxyOptions, out: IO[str] | None = None,
                    ready: Callable[[str], None] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; the exit status (1 if a violation was seen).
    ``out``: where frames and summaries go (standard output by default)."""
    tap = _Tap(options, out if out is not None else sys.stdout)
    host, port = options.listen
    server = await asyncio.start_server(tap.handle, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    line = (f"wsframe proxy: listening on {_endpoint(host, port)}, forwarding to "
            f"{_endpoint(*options.upstream)} (Ctrl-C to stop)")
    if ready is not None:
        ready(line)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        server.close()
        await tap.stop()
        await server.wait_closed()
    tap.report.end()
    return 1 if tap.report.violations else 0
