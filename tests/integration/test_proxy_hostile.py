"""`wsframe proxy` against hostile and broken peers, over real loopback sockets
(issue 21): a non-ASCII Sec-WebSocket-Key, resets passed on as resets, a cap
on connections, a peer that never reads. No traceback, no socket left open."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from wsframe import Opcode, build_frame

from .conftest import free_port
from .live import Proxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

UPGRADE = ("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
ACCEPTED = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


class RawServer:
    """A TCP server on 127.0.0.1 that runs ``serve(socket)`` for each client in
    a thread; it records what became of each connection."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.serve = serve
        self.accepted = 0
        self.events: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(20)
        with conn:
            try:
                self.serve(conn)
            except OSError as exc:
                self.events.append(type(exc).__name__)

    def close(self) -> None:
        self.listener.close()


@contextlib.contextmanager
def serving(serve: Callable[[socket.socket], None]) -> Iterator[RawServer]:
    server = RawServer(serve)
    try:
        yield server
    finally:
        server.close()


def read_until_eof(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def reset(sock: socket.socket) -> None:
    """Close with a RST."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_non_ascii_key_is_an_invalid_handshake_and_both_sockets_close() -> None:
    """Was: the 101 reached the client, then a traceback per connection, the
    client cut, and the upstream socket left open (70 such connections locked
    clients out at a 64-file limit)."""
    def answer(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1)
        conn.sendall(ACCEPTED)
        conn.recv(100)                          # one frame, answered
        conn.sendall(build_frame(Opcode.TEXT, b"ok"))
        read_until_eof(conn)

    with serving(answer) as upstream:
        proxy = Proxy(upstream.port)
        try:
            before = open_fds(proxy.proc.pid)
            frame = build_frame(Opcode.TEXT, b"hi", mask=b"abcd")
            for _ in range(20):
                with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
                    sock.sendall(UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQé=")
                                 .encode("latin-1"))
                    got = b""
                    while not got.endswith(b"\r\n\r\n"):
                        got += sock.recv(1)
                    assert got == ACCEPTED
                    sock.sendall(frame)
                    assert sock.recv(100) == build_frame(Opcode.TEXT, b"ok")  # forwarded
                    sock.shutdown(socket.SHUT_WR)
                    assert read_until_eof(sock) == b""        # closed in turn
            deadline = time.monotonic() + 10
            while open_fds(proxy.proc.pid) > before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert open_fds(proxy.proc.pid) == before         # nothing left open
        finally:
            output = proxy.stop()                             # (stderr is empty)
    assert proxy.returncode == 0
    assert len(output["connections"]) == 20
    for summary in output["connections"]:
        assert summary["handshake_error"]
        assert summary["directions"]["client_to_server"]["messages"] == 1
        assert summary["directions"]["server_to_client"]["messages"] == 1
        assert summary["tcp_end"] == "closed by the client (FIN)"


@pytest.mark.parametrize("who", ["server", "client"])
def test_a_reset_is_passed_on_as_a_reset(who: str) -> None:
    """Was: a RST from one side became a FIN to the other (RFC 9293 3.5.2: the
    other side must learn the connection was aborted, not closed)."""
    upstream_saw: list[str] = []
    ready = threading.Event()

    def serve(conn: socket.socket) -> None:
        conn.recv(100)
        if who == "server":
            reset(conn)
            return
        ready.set()
        try:
            data = conn.recv(100)
            upstream_saw.append(f"eof {data!r}")
        except ConnectionResetError:
            upstream_saw.append("reset")

    with serving(serve) as upstream:
        proxy = Proxy(upstream.port)
        try:
            sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            sock.sendall(b"hello")
            if who == "server":
                with pytest.raises(ConnectionResetError):
                    sock.recv(100)
                sock.close()
            else:
                assert ready.wait(10)
                reset(sock)
                deadline = time.monotonic() + 10
                while not upstream_saw and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert upstream_saw == ["reset"]
        finally:
            output = proxy.stop()
    (summary,) = output["connections"]
    assert summary["tcp_end"] == f"reset by the {who} (RST)"


def test_clients_over_the_cap_are_refused() -> None:
    def echo(conn: socket.socket) -> None:
        while data := conn.recv(65536):
            conn.sendall(data)

    with serving(echo) as upstream:
        proxy = Proxy(upstream.port, "--max-connections", "2")
        try:
            first, second = (socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
                             for _ in range(2))
            for sock in (first, second):
                sock.sendall(b"x")
                assert sock.recv(10) == b"x"
            third = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            with pytest.raises(ConnectionResetError):
                third.sendall(b"y")
                third.recv(10)
            third.close()
            serving_two = open_fds(proxy.proc.pid)
            first.close()
            deadline = time.monotonic() + 10       # until the proxy closed both its sockets
            while open_fds(proxy.proc.pid) > serving_two - 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            fourth = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            fourth.sendall(b"z")
            assert fourth.recv(10) == b"z"                   # room again
            for sock in (second, fourth):
                sock.close()
        finally:
            output = proxy.stop()
    assert upstream.accepted == 3
    assert output["totals"] == {"connections": 3, "refused_connections": 1, "violations": 0}


def test_a_peer_that_never_reads_stops_its_sender_not_the_proxy_memory() -> None:
    """The upstream never reads: the client can push only what the kernel's
    buffers and the proxy's bounded ones hold, and the proxy's memory stays flat."""
    stop = threading.Event()

    def never_read(conn: socket.socket) -> None:
        stop.wait(30)

    with serving(never_read) as upstream:
        proxy = Proxy(upstream.port)
        try:
            def rss() -> int:
                with open(f"/proc/{proxy.proc.pid}/status") as status:
                    line = next(x for x in status if x.startswith("VmRSS:"))
                return int(line.split()[1]) * 1024
            before = rss()
            sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            sock.setblocking(False)
            sent = 0
            chunk = bytes(65536)
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < 1.0 and sent < 512 * 2**20:
                try:
                    sent += sock.send(chunk)
                    idle_since = time.monotonic()
                except BlockingIOError:
                    time.sleep(0.01)
            grown = rss() - before
            sock.close()
            stop.set()
        finally:
            proxy.stop()
    assert sent < 64 * 2**20, sent                  # the sender was stopped
    assert grown < 16 * 2**20, grown


def vm_peak(pid: int) -> int:
    """The process's peak RSS (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def test_a_deflate_bomb_through_the_proxy_keeps_its_memory_flat() -> None:
    """8 compressed messages of 60 MiB (zeros, ~60 KB each on the wire): the
    proxy's peak RSS grows by less than 32 MiB (before: +266 MB for 245 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(bytes(60 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    message = build_frame(Opcode.BINARY, body[:-4], rsv1=True, mask=b"abcd", validate=False)
    done = threading.Event()

    def accept_deflate(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1)
        conn.sendall(ACCEPTED[:-2] + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
        received = 0
        while received < 8 * len(message) and (data := conn.recv(65536)):
            received += len(data)
        done.set()
        read_until_eof(conn)

    with serving(accept_deflate) as upstream:
        proxy = Proxy(upstream.port)
        try:
            before = vm_peak(proxy.proc.pid)
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as sock:
                sock.sendall(UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQ==").encode()[:-2]
                             + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
                got = b""
                while not got.endswith(b"\r\n\r\n"):
                    got += sock.recv(1)
                for _ in range(8):
                    sock.sendall(message)
                assert done.wait(60)
                grown = vm_peak(proxy.proc.pid) - before
        finally:
            output = proxy.stop()
    (summary,) = output["connections"]
    assert summary["directions"]["client_to_server"]["messages"] == 8
    sizes = [f["message"]["size"] for f in output["frames"] if "message" in f]
    assert sizes == [60 * 2**20] * 8
    assert grown < 32 * 2**20, grown


def test_a_closed_output_stops_the_proxy_without_a_traceback() -> None:
    """``wsframe proxy ... | head -1``: was a traceback per connection, then
    "--listen ...: Broken pipe" and exit 2; now it stops as a command whose
    output is cut does: exit 0, nothing on stderr."""
    def echo(conn: socket.socket) -> None:
        while data := conn.recv(65536):
            conn.sendall(data)

    with serving(echo) as upstream:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "wsframe", "proxy", "--listen",
                                 f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream.port}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith("wsframe proxy: listening on")
        proc.stdout.close()                             # nobody reads any more
        for _ in range(3):
            with contextlib.suppress(OSError), \
                    socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"x")
                sock.recv(10)
        assert proc.wait(20) == 0
        assert proc.stderr.read() == ""


def test_a_port_in_use_is_one_line_naming_listen() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "wsframe", "proxy", "--listen",
                               f"127.0.0.1:{port}", "--upstream", "127.0.0.1:1"],
                              capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr == f"wsframe: error: --listen 127.0.0.1:{port}: Address already in use\n"


def test_a_half_closed_connection_keeps_its_other_direction() -> None:
    """The client sends its FIN first; the server still answers, then closes:
    the FIN reaches the server as a FIN, the answer reaches the client."""
    def answer_after_eof(conn: socket.socket) -> None:
        request = read_until_eof(conn)              # the client's FIN came through
        conn.sendall(b"got " + request)

    with serving(answer_after_eof) as upstream:
        proxy = Proxy(upstream.port)
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
                sock.sendall(b"question")
                sock.shutdown(socket.SHUT_WR)
                assert read_until_eof(sock) == b"got question"
        finally:
            output = proxy.stop()
    (summary,) = output["connections"]
    assert summary["tcp_end"] == "closed by the client (FIN)"


def test_an_unreachable_upstream_is_said_in_the_summary() -> None:
    """Issue 24: the summary ended in an empty 'TCP ' state; it says why now."""
    proxy = Proxy(free_port())                 # nothing listens there
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_until_eof(client) == b""
    finally:
        output = proxy.stop()
    (connection,) = output["connections"]
    assert connection["tcp_end"].startswith(
        "not connected: the upstream could not be reached (")
