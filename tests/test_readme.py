"""The README's Python examples run, its server and client talk to real peers,
its shell examples print what it says, and its links work on a package index."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from doc_blocks import (
    python_blocks,
    run_against,
    run_block,
    tcp_server,
    websockets_client,
    websockets_echo_server,
)

from wsframe import CloseReceived, MessageReader, MessageWriter, Opcode, Pong, Role, TextMessage
from wsframe.handshake import check_response, client_request, parse_head

PATH = Path(__file__).resolve().parent.parent / "README.md"
README = PATH.read_text(encoding="utf-8")
BLOCKS = python_blocks(PATH)


def server() -> Any:
    return run_block(BLOCKS[0], "README server")["serve"]


def client() -> Any:
    return run_block(BLOCKS[1], "README client")["ask"]


def test_every_python_block_is_tested() -> None:
    assert len(BLOCKS) == 2


def test_readme_server_handshakes_echoes_and_closes() -> None:
    from wsframe import build_frame
    request, key = client_request("example.test", "/chat")
    writer = MessageWriter(Role.CLIENT)
    wire = request + writer.text("héllo", fragment_size=3) + writer.ping(b"p") + \
        writer.close(3000, "bye") + build_frame(Opcode.TEXT, b"ignored", mask=b"abcd")
    reply = run_against(server(), wire)
    head, _, frames = reply.partition(b"\r\n\r\n")
    check_response(parse_head(head), key)
    events = list(MessageReader(Role.CLIENT).feed(frames))
    assert events == [TextMessage("héllo"), Pong(b"p"), CloseReceived(3000, "bye")]


def test_readme_server_refuses_a_bad_handshake() -> None:
    request, _ = client_request("example.test", "/chat")
    refused = run_against(server(), request.replace(b"Version: 13", b"Version: 8"))
    assert refused.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nSec-WebSocket-Version: 13\r\n" in refused


def test_readme_server_answers_a_violation_with_1002() -> None:
    request, _ = client_request("example.test", "/")
    reply = run_against(server(), request + b"\x83\x80abcd")    # reserved opcode 0x3
    _, _, frames = reply.partition(b"\r\n\r\n")
    assert frames == b"\x88\x15\x03\xea" + b"reserved opcode 0x3"


def test_readme_server_with_a_websockets_client() -> None:
    with tcp_server(server()) as port, websockets_client(port) as websocket:
        assert websocket.protocol.extensions == []       # the README's server offers none
        websocket.send("héllo")
        assert websocket.recv(timeout=10) == "héllo"


def test_readme_client_against_a_websockets_server_with_compression() -> None:
    ask = client()
    with websockets_echo_server() as (port, negotiated):
        assert ask("127.0.0.1", port, "héllo " * 1000) == "héllo " * 1000
        assert ask("127.0.0.1", port, "") == ""
    assert negotiated == [["permessage-deflate"], ["permessage-deflate"]]


def test_readme_client_against_the_readme_server() -> None:
    with tcp_server(server()) as port:
        assert client()("127.0.0.1", port, "hi") == "hi"


def test_readme_says_sending_after_a_close_raises_connection_closed() -> None:
    from wsframe import Connection, ConnectionClosed
    assert "`ConnectionClosed`" in README
    connection = Connection(Role.CLIENT)
    connection.close()
    try:
        connection.send_text("too late")
    except ConnectionClosed:
        pass
    else:
        raise AssertionError("sent after close()")


def test_readme_build_close_output_is_true() -> None:
    shown = re.search(r"\$ wsframe build close --code 1013 --reason busy\n(.*)\n", README)
    assert shown is not None
    run = subprocess.run([sys.executable, "-m", "wsframe", "build", "close", "--code", "1013",
                          "--reason", "busy"], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == shown.group(1)


def test_readme_is_a_front_page() -> None:
    """Short, with the two quick-start commands, and links that work on a
    package index's page: absolute only (relative ones resolve nowhere there)."""
    assert len(README.splitlines()) <= 200
    assert "make demo" in README and "make test" in README
    assert "pip install build" in README
    links = re.findall(r"\]\(([^)]*)\)", README)
    assert links and all(link.startswith("https://") for link in links), links
    assert not re.search(r"^\[[^\]]+\]:\s*(?!https://)", README, re.M)   # reference links
