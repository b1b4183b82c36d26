"""What tests/test_readme.py and tests/test_docs.py share: the Python blocks and
shown commands of a Markdown file, and servers to run the examples against."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown file, in order."""
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def markdown_files() -> list[Path]:
    """The README and every page of the documentation."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def run_block(code: str, name: str) -> dict[str, Any]:
    """Run one block in a namespace of its own; return the namespace."""
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(code, name, "exec"), namespace)
    return namespace


def shown_commands(path: Path) -> list[tuple[str, list[str]]]:
    """Every ``$ wsframe ...`` block with the output lines shown under it."""
    text = path.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"^```\n(\$ wsframe .*?)^```", text, re.S | re.M):
        command, *output = block.rstrip("\n").split("\n")
        found.append((command[2:], output))
    return found


def run_command(command: str) -> str:
    """What ``wsframe ...`` prints, run from the checkout's root."""
    args = command.split()[1:]
    result = subprocess.run([sys.executable, "-m", "wsframe", *args], capture_output=True,
                            text=True, cwd=ROOT, timeout=60, check=False)
    return result.stdout


def run_against(function: Callable[[socket.socket], None], client_bytes: bytes) -> bytes:
    """Run a server function of the docs on one end of a socket pair, send it
    ``client_bytes`` (then EOF) and return everything it sent back."""
    server, client = socket.socketpair()
    client.settimeout(10)

    def serve() -> None:
        try:
            function(server)
        finally:
            server.close()      # the examples leave closing to the caller

    thread = threading.Thread(target=serve)
    thread.start()
    client.sendall(client_bytes)
    client.shutdown(socket.SHUT_WR)
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    thread.join(10)
    client.close()
    return received


@contextlib.contextmanager
def tcp_server(function: Callable[[socket.socket], None]) -> Iterator[int]:
    """Serve connections on 127.0.0.1 with a server function of the docs, one
    thread per connection; yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            function(conn)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=handle, args=(conn,))
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(5)
        for thread in threads:
            thread.join(10)
        listener.close()


@contextlib.contextmanager
def websockets_echo_server() -> Iterator[tuple[int, list[list[str]]]]:
    """A websockets echo server (permessage-deflate on, its default); yields its
    port and, per connection, the names of the extensions it negotiated."""
    from websockets.sync.server import ServerConnection, serve

    negotiated: list[list[str]] = []

    def echo(websocket: ServerConnection) -> None:
        negotiated.append([str(ext.name) for ext in websocket.protocol.extensions])
        for message in websocket:
            websocket.send(message)

    with serve(echo, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield server.socket.getsockname()[1], negotiated
        finally:
            server.shutdown()
            thread.join(10)


@contextlib.contextmanager
def websockets_client(port: int) -> Iterator[Any]:
    """A websockets client (it offers permessage-deflate) connected to ``port``."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/", open_timeout=10, close_timeout=10) as websocket:
        yield websocket
