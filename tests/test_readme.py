"""The README's Python examples run, and its shell examples print what it says."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from wsframe import CloseReceived, MessageReader, MessageWriter, Pong, Role, TextMessage

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def run_against(function: Any, client_bytes: bytes) -> bytes:
    """Run a README server function on one end of a socket pair."""
    server, client = socket.socketpair()
    client.settimeout(10)

    def serve() -> None:
        try:
            function(server)
        finally:
            server.close()      # the README's functions leave closing to the caller

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


def test_readme_frame_example_answers_a_violation_with_1002(capsys: Any) -> None:
    namespace: dict[str, Any] = {}
    exec(BLOCKS[0], namespace)
    writer = MessageWriter(Role.CLIENT)
    reply = run_against(namespace["serve"], writer.text("hi") + b"\x83\x80abcd")
    assert reply == b"\x88\x15\x03\xea" + b"reserved opcode 0x3"
    assert "TEXT True b'hi'" in capsys.readouterr().out


def test_readme_message_example_echoes_and_closes() -> None:
    namespace: dict[str, Any] = {}
    exec(BLOCKS[1], namespace)
    writer = MessageWriter(Role.CLIENT)
    wire = writer.text("héllo", fragment_size=2) + writer.ping(b"p") + writer.close(1001)
    reply = run_against(namespace["echo"], wire)
    events = list(MessageReader(Role.CLIENT).feed(reply))
    assert events[0] == TextMessage("héllo")
    assert events[-1] == CloseReceived(1001, "")


def test_readme_build_close_output_is_true() -> None:
    shown = re.search(r"\$ wsframe build close --code 1013 --reason busy\n(.*)\n", README)
    assert shown is not None
    run = subprocess.run([sys.executable, "-m", "wsframe", "build", "close", "--code", "1013",
                          "--reason", "busy"], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == shown.group(1)


def test_readme_connection_example_handshakes_echoes_and_closes() -> None:
    from wsframe import Opcode, build_frame
    from wsframe.handshake import check_response, client_request, parse_head
    namespace: dict[str, Any] = {}
    exec(BLOCKS[2], namespace)
    request, key = client_request("example.test", "/chat")
    writer = MessageWriter(Role.CLIENT)
    wire = request + writer.text("héllo", fragment_size=3) + writer.ping(b"p") + \
        writer.close(3000, "bye") + build_frame(Opcode.TEXT, b"ignored", mask=b"abcd")
    reply = run_against(namespace["serve"], wire)
    head, _, frames = reply.partition(b"\r\n\r\n")
    check_response(parse_head(head), key)
    events = list(MessageReader(Role.CLIENT).feed(frames))
    assert events == [TextMessage("héllo"), Pong(b"p"), CloseReceived(3000, "bye")]
    refused = run_against(namespace["serve"], request.replace(b"Version: 13", b"Version: 8"))
    assert refused.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in refused


def test_readme_compression_example_runs() -> None:
    namespace: dict[str, Any] = {}
    exec(BLOCKS[3], namespace)            # its asserts check the RFC 7692 bytes
    assert namespace["client_deflate"].params == namespace["deflate"].params


def test_every_python_block_is_tested() -> None:
    assert len(BLOCKS) == 4
