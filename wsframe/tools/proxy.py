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
import os
import signal
import socket
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from ..dissect import CAPTURE_MAX_MESSAGE_SIZE
from .capture import CaptureReport, SummaryRecord
from .session import Record, Session, Where

__all__ = ["PROXY_MAX_CONNECTIONS", "ListenError", "ProxyOptions", "default_max_connections",
           "parse_address", "run_proxy"]


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
    """What ``wsframe proxy`` was asked to do.

    ``max_connections``: client connections served at once (None: see
    `default_max_connections`); past it a new client is refused (reset at
    once), the refusal printed and counted.
    """

    listen: tuple[str, int]
    upstream: tuple[str, int]
    verbose: bool = False
    json_output: bool = False
    max_message_size: int | None = CAPTURE_MAX_MESSAGE_SIZE
    max_connections: int | None = None


#: Bytes read from a side at a time, and the most a side's writer holds before
#: reading from the other side pauses (a peer that never reads stops its
#: sender, through TCP, instead of filling the proxy's memory).
READ_SIZE = 65536
WRITE_HIGH_WATER = 65536
#: Client connections served at once by default: each costs about 800 KiB at
#: most (measured with both of its peers stalled mid-message: docs/captures.md).
PROXY_MAX_CONNECTIONS = 256


def default_max_connections() -> int:
    """Client connections served at once by default: `PROXY_MAX_CONNECTIONS`,
    or fewer if the process's file descriptors do not allow it (each
    connection takes two, and a few are kept for the process itself)."""
    try:
        import resource  # noqa: PLC0415 (POSIX only)
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return PROXY_MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return PROXY_MAX_CONNECTIONS
    return max(1, min(PROXY_MAX_CONNECTIONS, (soft - 16) // 2))


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a RST (SO_LINGER 0): what a reset from the other side becomes."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ListenError(OSError):
    """The proxy cannot listen where it was asked to (the message names --listen)."""


class _Tap:
    """The listening side: one `Session` per client connection."""

    def __init__(self, options: ProxyOptions, out: IO[str]) -> None:
        self.options = options
        self.max_connections = (options.max_connections if options.max_connections
                                is not None else default_max_connections())
        self.report = CaptureReport(out, json_output=options.json_output,
                                    verbose=options.verbose, unit="read")
        self.count = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.get_running_loop()
        self.stopping = False
        self.stop_requested = asyncio.Event()     # SIGINT, SIGTERM, or no output
        self.output_gone = False

    def show(self, record: Record | SummaryRecord) -> None:
        """Print a record; if nobody reads the output any more (a closed pipe),
        stop the proxy (as a command whose output is cut does)."""
        if self.output_gone:
            return
        try:
            self.report.record(record)
        except BrokenPipeError:
            self.output_gone = True
            self.stop_requested.set()

    def _line(self, text: str) -> None:
        if self.options.json_output or self.output_gone:
            return
        try:
            self.report.out.write(text + "\n")
            self.report.out.flush()
        except BrokenPipeError:
            self.output_gone = True
            self.stop_requested.set()

    async def handle(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        """Serve one client: connect it to the upstream, forward both ways, watch."""
        task = asyncio.current_task()
        assert task is not None
        if len(self.tasks) >= self.max_connections or self.stopping:
            self.report.refused += 1
            peer = client_writer.get_extra_info("peername")
            self._line(f"[-] refused {_endpoint(peer[0], peer[1]) if peer else 'a client'}: "
                       f"{self.max_connections:,} connections are open (--max-connections)")
            _reset(client_writer)
            return
        self.tasks.add(task)
        self.count += 1
        number = self.count
        peer = client_writer.get_extra_info("peername")
        client = _endpoint(peer[0], peer[1]) if peer else "?"
        host, port = self.options.upstream
        session = Session(number, client, _endpoint(host, port), opened=True,
                          max_message_size=self.options.max_message_size)
        watch = _Watch(self, session)
        started = self.loop.time()
        self.writers.add(client_writer)
        server_writer: asyncio.StreamWriter | None = None
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(
                    host, port, limit=READ_SIZE)
            except OSError as exc:
                why = exc.strerror or str(exc)
                self._line(f"[{number}] cannot reach the upstream {_endpoint(host, port)}: "
                           f"{why}")
                session.ended = f"not connected: the upstream could not be reached ({why})"
                return
            self.writers.add(server_writer)
            client_writer.transport.set_write_buffer_limits(WRITE_HIGH_WATER)
            server_writer.transport.set_write_buffer_limits(WRITE_HIGH_WATER)
            ends: list[str] = []
            await asyncio.gather(
                self._pipe(watch, "a", client_reader, client_writer, server_writer, started,
                           ends, "client"),
                self._pipe(watch, "b", server_reader, server_writer, client_writer, started,
                           ends, "server"))
            session.ended = "cut when the proxy stopped" if self.stopping else (
                ends[0] if ends else "closed")
        finally:
            # Both sockets are closed whatever happened (a socket left open per
            # connection runs the process out of file descriptors).
            for writer in (server_writer, client_writer):
                if writer is not None:
                    self.writers.discard(writer)
                    writer.close()
            self.tasks.discard(task)
            watch.summary()

    async def _pipe(self, watch: _Watch, side: str, reader: asyncio.StreamReader,
                    own: asyncio.StreamWriter, writer: asyncio.StreamWriter, started: float,
                    ends: list[str], name: str) -> None:
        """Forward one direction until EOF, showing a copy of it. ``own``: the
        writer of the side read from (reset if the other side resets)."""
        offset = 0
        reads = 0
        try:
            while data := await reader.read(READ_SIZE):
                writer.write(data)              # forward first, then look
                reads += 1
                watch.feed(side, offset, data, Where(reads, 0, self.loop.time() - started))
                offset += len(data)
                await writer.drain()            # the receiver's pace, not faster
        except ConnectionResetError:
            ends.append(f"reset by the {session_role(watch.session, side, name)} (RST)")
            _reset(writer)                      # RFC 9293 3.5.2: pass the reset on
            return
        except (ConnectionError, OSError) as exc:
            # Writing to the other side failed: it went away (its own pipe
            # sees the reset too); the side read from learns it by a reset.
            other = "b" if side == "a" else "a"
            other_name = "server" if name == "client" else "client"
            ends.append(f"reset by the {session_role(watch.session, other, other_name)} "
                        f"(seen writing to it: {type(exc).__name__})")
            _reset(own)
            return
        ends.append(f"closed by the {session_role(watch.session, side, name)} (FIN)")
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()              # half-close: the other way goes on

    async def stop(self) -> None:
        """Cut every open connection (each prints its summary as its pipes end)."""
        self.stopping = True
        for writer in list(self.writers):
            writer.transport.abort()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)


class _Watch:
    """The copy of a connection's bytes that the tap reads. Forwarding never
    depends on it: if reading the copy fails in a way nobody foresaw, the
    failure is printed in one line and this connection is no longer shown."""

    def __init__(self, tap: _Tap, session: Session) -> None:
        self.tap = tap
        self.session = session
        self.broken = False

    def feed(self, side: str, offset: int, data: bytes, where: Where) -> None:
        if self.broken:
            return
        try:
            records = self.session.feed(side, offset, data, where)
        except Exception as exc:    # (the tap observes: forwarding goes on)
            self.broken = True
            records = [self.session.abandon(
                f"reading it failed ({type(exc).__name__}: {exc}); forwarding goes on")]
        for record in records:
            self.tap.show(record)

    def summary(self) -> None:
        summary = self.session.finish()
        summary["notes"] = list(self.session.notes)
        self.tap.show(SummaryRecord(self.session.number, summary))


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
    try:
        server = await asyncio.start_server(tap.handle, host, port, limit=READ_SIZE)
    except OSError as exc:
        # (asyncio rewords the system's message: the errno's own is plainer)
        why = (os.strerror(exc.errno) if exc.errno and not isinstance(exc, socket.gaierror)
               else exc.strerror or str(exc))
        raise ListenError(f"--listen {_endpoint(host, port)}: {why}") from None
    stop = tap.stop_requested
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
    if tap.output_gone:
        raise BrokenPipeError("the output was closed")
    tap.report.end()
    return 1 if tap.report.violations else 0
