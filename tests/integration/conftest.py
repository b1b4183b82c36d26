"""Fixtures for the integration tests: real peers over loopback sockets."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from wsframe.handshake import check_response, client_request, parse_head
from wsframe.tools.net import free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "examples"))

__all__ = ["ROOT", "EchoServer", "free_port", "upgraded_socket", "wait_listening"]


class EchoServer:
    """examples/echo_server.py running as a subprocess."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/"
        # What the server prints on stderr (a traceback, if anything): kept
        # in a file that `stderr` reads, never a pipe that could fill up.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples/echo_server.py"), "--port", str(self.port),
             *args], stdout=subprocess.DEVNULL, stderr=self._stderr)
        try:
            # A server that dies on start fails the test with its traceback.
            wait_listening(self.port, self.proc, name="examples/echo_server.py",
                           output=self.stderr)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self._stderr.close()
            raise

    def stderr(self) -> str:
        """Everything the server wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        sys.stderr.write(self.stderr())     # shown by pytest when a test fails
        self._stderr.close()


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def make_echo_server() -> Iterator[type[EchoServer]]:
    started: list[EchoServer] = []

    def make(*args: str) -> EchoServer:
        server = EchoServer(*args)
        started.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in started:
        server.stop()


def upgraded_socket(port: int) -> socket.socket:
    """A raw socket to 127.0.0.1:``port`` past a successful opening handshake:
    what the tests use to send bytes no library would."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request, key = client_request(f"127.0.0.1:{port}")
    sock.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    check_response(parse_head(head), key)
    return sock
