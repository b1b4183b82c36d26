"""`wsframe proxy` between real clients and the example server, over 127.0.0.1,
and live captures of real sessions checked against Wireshark's dissector.

* a websockets client through the proxy: every byte forwarded (the session
  works), every frame shown, and the frames are those a capture of the same
  session shows on the client's side of the proxy;
* a broken client: the violation is flagged with its side, and forwarding goes
  on (the server's own 1002 Close reaches the client through the proxy);
* SIGINT with a connection open: a clean stop, the connection summarised;
* captures of websockets and Node ws sessions with the example server, read
  by wsframe and by tshark: the same frames.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from capture_tools import TSHARK, compared_with_tshark, run

from wsframe import FrameParser, Opcode, Role, build_frame, parse_close_payload

from .conftest import EchoServer, free_port, upgraded_socket
from .live import Proxy, capture_frames, loopback_capture, proxy_frames, retried_on_capture_loss

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

NODE_DIR = Path(__file__).parent / "node"


async def websockets_session(url: str) -> None:
    """Text, a fragmented message, binary over several TCP segments, a ping, close."""
    from websockets.asyncio.client import connect
    async with connect(url, max_size=None) as ws:
        await ws.send("through the tap, κόσμε")
        assert await ws.recv() == "through the tap, κόσμε"
        await ws.send(["frag", "mented"])
        assert await ws.recv() == "fragmented"
        data = os.urandom(200_000)
        await ws.send(data)
        assert await ws.recv() == data
        await (await ws.ping(b"tap?"))
        await ws.close(1000, "done")


@retried_on_capture_loss
def test_a_websockets_session_through_the_proxy(echo_server: EchoServer, tmp_path: Path
                                                ) -> None:
    proxy = Proxy(echo_server.port)
    capture = tmp_path / "session.pcap"
    try:
        with loopback_capture(capture, [proxy.port]):
            asyncio.run(asyncio.wait_for(websockets_session(proxy.url), 30))
    finally:
        output = proxy.stop()
    assert proxy.returncode == 0
    (summary,) = output["connections"]
    assert summary["closing_handshake"] == (
        "the client closed first: Close 1000 (Normal Closure), reason 'done'; the server "
        "answered with the same code and reason")
    assert summary["extensions"].startswith("permessage-deflate")
    texts = [f["message"]["text"] for f in output["frames"]
             if f.get("message", {}).get("type") == "text" and f["sender"] == "server"]
    assert texts == ["through the tap, κόσμε", "fragmented"]
    # The same frames, byte for byte, as tcpdump saw between the client and the tap.
    data = capture.read_bytes()
    for sender in ("client", "server"):
        shown = proxy_frames(output, sender)
        assert len(shown) >= 5
        assert shown == capture_frames(data, proxy.port, sender)


def test_the_proxy_flags_a_violation_and_keeps_forwarding(echo_server: EchoServer) -> None:
    proxy = Proxy(echo_server.port)
    try:
        sock = upgraded_socket(proxy.port)
        sock.sendall(build_frame(Opcode.TEXT, b"fine", mask=b"abcd") + b"\x83\x80abcd")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        sock.close()
    finally:
        output = proxy.stop()
    assert proxy.returncode == 1                     # a violation was seen
    frames = list(FrameParser(Role.CLIENT).feed(data))
    # Forwarded both ways: the echo, then the server's own 1002 Close.
    assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.CLOSE]
    assert parse_close_payload(frames[1].payload) == (1002, "reserved opcode 0x3")
    (summary,) = output["connections"]
    violation = summary["directions"]["client_to_server"]["violation"]
    assert violation["sender"] == "client" and violation["code"] == 1002
    assert violation["section"] == "5.2" and violation["reason"] == "reserved opcode 0x3"


def test_text_output_and_a_clean_stop_on_sigint(echo_server: EchoServer) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "wsframe", "proxy", "--listen",
                             f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{echo_server.port}"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("wsframe proxy: listening on 127.0.0.1:")
    sock = upgraded_socket(port)
    sock.sendall(build_frame(Opcode.TEXT, b"still open", mask=b"abcd"))
    assert sock.recv(100) == build_frame(Opcode.TEXT, b"still open")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    sock.close()
    assert proc.returncode == 0
    assert "client -> server TEXT         FIN rsv=000 mask=61626364 len=10     'still open'" in out
    assert "TCP: cut when the proxy stopped" in out
    assert out.rstrip().endswith("1 connection; no violation.")


@pytest.mark.parametrize("args", [["--listen", "nowhere", "--upstream", "127.0.0.1:1"],
                                  ["--listen", "127.0.0.1:1", "--upstream", "host:99999"]])
def test_bad_addresses_get_a_one_line_error(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "wsframe", "proxy", *args],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("wsframe: error: --") and done.stderr.count("\n") == 1
    assert "expected HOST:PORT" in done.stderr


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (apt-get install tshark)")
@retried_on_capture_loss
def test_live_captures_read_alike_by_wsframe_and_tshark(echo_server: EchoServer,
                                                        tmp_path: Path) -> None:
    """A websockets session and a Node ws session (sizes to 64 KiB, fragments,
    pings between fragments, raw invalid frames) with the example server,
    captured with tcpdump, then dissected by both."""
    node = shutil.which("node")
    capture = tmp_path / "live.pcap"
    with loopback_capture(capture, [echo_server.port]):
        asyncio.run(asyncio.wait_for(websockets_session(echo_server.url), 30))
        if node is not None:
            done = subprocess.run([node, str(NODE_DIR / "client.mjs"), echo_server.url,
                                   "default", "65536"], capture_output=True, text=True,
                                  timeout=120, check=False)
            results: list[dict[str, Any]] = [json.loads(line)
                                             for line in done.stdout.splitlines()]
            assert results and all(r["ok"] for r in results), done.stdout
    data = capture.read_bytes()
    assert len(run(data)["summaries"]) > (20 if node else 0)
    ours, theirs = compared_with_tshark(data, capture)
    assert ours == theirs
