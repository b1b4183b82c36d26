"""examples/echo_server.py facing hostile or careless clients, over real sockets.

Slowloris heads, oversized heads, control bytes in the target, idle clients,
clients holding memory with unfinished frames, and a client that keeps
sending after the server's Close: each gets the answer the docstring of the
example promises, and the server's memory stays bounded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

import pytest

from wsframe import FrameParser, Opcode, Role, build_frame, parse_close_payload
from wsframe.handshake import client_request

from .conftest import upgraded_socket

MiB = 2**20


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_until_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def close_frames(data: bytes) -> list[tuple[int | None, str]]:
    """The (code, reason) of every Close frame in what a server sent."""
    return [parse_close_payload(f.payload) for f in FrameParser(Role.CLIENT).feed(data)
            if f.opcode == Opcode.CLOSE]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


# -- the opening handshake -------------------------------------------------------------------

def test_slowloris_heads_get_408_when_the_handshake_timeout_ends(make_echo_server: Any
                                                                  ) -> None:
    """30 clients sending a byte of their head a second: all answered 408 and
    disconnected after the 1 s handshake timeout, not held open."""
    server = make_echo_server("--handshake-timeout", "1")
    request, _ = client_request(f"127.0.0.1:{server.port}")
    clients = [connect(server.port) for _ in range(30)]
    started = time.monotonic()
    for sent in range(3):                          # one byte a second, for 3 seconds
        for sock in clients:
            with contextlib.suppress(OSError):     # already closed by the server
                sock.sendall(request[sent:sent + 1])
        time.sleep(1)
    answers = []
    for sock in clients:
        try:
            answers.append(read_until_eof(sock))
        except ConnectionResetError:              # a byte arrived after the close
            answers.append(b"reset")
        sock.close()
    assert time.monotonic() - started < 8
    assert sum(a.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for a in answers) >= 25, \
        answers[:3]
    assert all(a.startswith(b"HTTP/1.1 408 ") or a == b"reset" for a in answers)


def test_oversized_head_gets_431(make_echo_server: Any) -> None:
    server = make_echo_server("--max-head-size", "1024")
    sock = connect(server.port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 2000)
    answer = read_until_eof(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


def test_control_bytes_in_the_target_get_400(echo_server: Any) -> None:
    request, _ = client_request(f"127.0.0.1:{echo_server.port}", "/chat")
    sock = connect(echo_server.port)
    sock.sendall(request.replace(b"GET /chat ", b"GET /ch\x01at "))
    answer = read_until_eof(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"malformed HTTP start line: 'GET /ch\\x01at HTTP/1.1'\n")


def test_old_version_without_a_key_gets_426_naming_version_13(echo_server: Any) -> None:
    sock = connect(echo_server.port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Version: 8\r\n\r\n")
    answer = read_until_eof(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in answer


# -- after the handshake ---------------------------------------------------------------------

def test_idle_client_gets_close_1001(make_echo_server: Any) -> None:
    server = make_echo_server("--idle-timeout", "1")
    sock = upgraded_socket(server.port)
    sock.settimeout(10)
    data = b""
    while not close_frames(data):
        data += sock.recv(4096)
    assert close_frames(data) == [(1001, "idle timeout")]
    sock.sendall(build_frame(Opcode.CLOSE, b"\x03\xe9", mask=os.urandom(4)))
    assert read_until_eof(sock) == b""             # then the server closes TCP
    sock.close()


def test_no_second_close_after_shedding_with_1013(make_echo_server: Any) -> None:
    """--max-connections 0: the 1013 Close comes right after the handshake; a
    reserved-opcode frame sent after it gets no second Close (RFC 6455 5.5.1)."""
    server = make_echo_server("--max-connections", "0")
    sock = upgraded_socket(server.port)
    sock.sendall(bytes((0x83, 0x80)) + b"abcd")     # opcode 3 is reserved (5.2)
    data = read_until_eof(sock)
    sock.close()
    assert close_frames(data) == [(1013, "server busy: 0 of 0 connections in use, "
                                          "retry with backoff")]


def test_shedding_a_client_that_is_already_sending_prints_no_traceback(
        make_echo_server: Any) -> None:
    """Issue 21: a client that sends messages before it reads the 1013 Close
    (examples/client.py does) made ConnectionClosed escape the echo loop.
    Messages that arrive after our Close are read and not echoed (5.5.1)."""
    server = make_echo_server("--max-connections", "0")
    for _ in range(3):
        sock = connect(server.port)
        request, _key = client_request(f"127.0.0.1:{server.port}")
        key = os.urandom(4)
        sock.sendall(request + build_frame(Opcode.TEXT, b"hello", mask=key)
                     + build_frame(Opcode.BINARY, b"\x00" * 100, mask=key))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        data = b""
        while not close_frames(data):
            data += sock.recv(4096)
        sock.sendall(build_frame(Opcode.CLOSE, b"\x03\xf5", mask=key))
        data += read_until_eof(sock)
        sock.close()
        frames = list(FrameParser(Role.CLIENT).feed(data))
        assert [f.opcode for f in frames] == [Opcode.CLOSE]
        assert close_frames(data)[0][0] == 1013
    upgraded_socket(server.port).close()        # still serving
    time.sleep(0.2)
    assert server.stderr() == ""


def test_memory_held_across_connections_is_capped_with_1013(make_echo_server: Any) -> None:
    """Six clients each send 24 MiB of an unfinished 30 MiB frame (the message
    limit is the default 64 MiB). Without a shared cap the server would hold
    144 MiB; with --max-buffered 64 MiB, every client that would take the total
    over gets Close 1013 and its bytes are dropped, so the server's RSS grows
    by little more than the cap."""
    server = make_echo_server("--max-buffered", str(64 * MiB))
    time.sleep(0.2)
    before = rss_mib(server.proc.pid)
    header = bytes((0x82, 0xFF)) + (30 * MiB).to_bytes(8, "big") + b"\x00\x00\x00\x00"
    chunk = bytes(MiB)                             # masked with a zero key: payload as is
    clients = []
    for _ in range(6):
        sock = upgraded_socket(server.port)
        try:
            sock.sendall(header)
            for _ in range(24):
                sock.sendall(chunk)
        except OSError:                           # shed part way: the server stopped
            pass
        clients.append(sock)
    time.sleep(0.5)
    peak = rss_mib(server.proc.pid)
    codes = []
    for sock in clients:
        sock.settimeout(1)
        data = b""
        try:
            while chunk_in := sock.recv(65536):
                data += chunk_in
        except (TimeoutError, ConnectionResetError):
            pass
        codes.append([code for code, _ in close_frames(data)])
        sock.close()
    assert codes.count([1013]) >= 4, codes            # at most two fit under 64 MiB
    assert codes.count([]) + codes.count([1013]) == 6, codes
    assert peak - before < 64 + 40, (before, peak)   # the cap, and a margin for reads
    # and the server still serves new clients
    sock = upgraded_socket(server.port)
    sock.sendall(build_frame(Opcode.TEXT, b"still here", mask=os.urandom(4)))
    frames = []
    parser = FrameParser(Role.CLIENT)
    while not frames:
        frames = list(parser.feed(sock.recv(4096)))
    assert frames[0].payload == b"still here"
    sock.close()


@pytest.mark.parametrize("sizes", [(1,), (3, 5), (100, 100, 100)])
def test_client_close_is_echoed_and_tcp_closed(echo_server: Any, sizes: tuple[int, ...]
                                               ) -> None:
    sock = upgraded_socket(echo_server.port)
    for size in sizes:
        sock.sendall(build_frame(Opcode.BINARY, b"x" * size, mask=os.urandom(4)))
    sock.sendall(build_frame(Opcode.CLOSE, b"\x0b\xb8custom", mask=os.urandom(4)))
    data = read_until_eof(sock)
    sock.close()
    frames = list(FrameParser(Role.CLIENT).feed(data))
    assert [len(f.payload) for f in frames[:-1]] == list(sizes)
    assert parse_close_payload(frames[-1].payload) == (3000, "custom")
