"""A real browser (headless Chromium) talks to the wsframe echo server with its
native WebSocket API: text and binary echoes, then 1013 when over capacity.

Chromium is driven through the Chrome DevTools Protocol, whose endpoint is
itself a WebSocket: the test talks to it with wsframe's example client.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import client as wsclient  # examples/client.py
import pytest
from capture_tools import TSHARK, compared_with_tshark

from wsframe import TextMessage

from .live import Proxy, capture_frames, loopback_capture, proxy_frames, retried_on_capture_loss

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGE_DIR = Path(__file__).resolve().parent / "browser"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_page() -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(QuietHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def devtools_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    """Chromium writes its DevTools port to DevToolsActivePort in the profile."""
    deadline = time.monotonic() + 30
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port")


async def page_result(port: int, deadline: float) -> dict[str, Any]:
    """Poll ``window.wsframeResult`` in the page over the DevTools WebSocket."""
    targets = json.loads(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5).read())
    page = next(t for t in targets if t.get("type") == "page")
    connection = await wsclient.connect(page["webSocketDebuggerUrl"], deflate=False)
    try:
        for request_id in range(1, 10_000):
            await connection.send(connection.outgoing.text(json.dumps({
                "id": request_id, "method": "Runtime.evaluate",
                "params": {"expression": "JSON.stringify(window.wsframeResult || null)",
                           "returnByValue": True}})))
            while True:
                reply = await asyncio.wait_for(connection.receive(), 10)
                assert isinstance(reply, TextMessage)
                message = json.loads(reply.text)
                if message.get("id") == request_id:
                    break
            value = message["result"]["result"].get("value")
            if value and value != "null":
                result: dict[str, Any] = json.loads(value)
                return result
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not finish")
            await asyncio.sleep(0.2)
    finally:
        await connection.close(1000)
    raise AssertionError("unreachable")


def run_page(ws_port: int) -> dict[str, Any]:
    """Open the test page in headless Chromium against ``ws_port``; its result."""
    http_server, http_port = serve_page()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--remote-debugging-port=0",
             f"http://127.0.0.1:{http_port}/index.html?port={ws_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = devtools_port(Path(profile), proc)
            return asyncio.run(page_result(port, time.monotonic() + 60))
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            http_server.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed here; "
                    ".ci/run installs Debian's chromium before running the tests")
def test_chromium_native_websocket(make_echo_server: Any) -> None:
    echo = make_echo_server("--max-connections", "1")
    result = run_page(echo.port)
    check_page(result)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed here; "
                    ".ci/run installs Debian's chromium before running the tests")
@retried_on_capture_loss
def test_chromium_through_wsframe_proxy_matches_a_capture(make_echo_server: Any,
                                                          tmp_path: Path) -> None:
    """The same page through `wsframe proxy`, with tcpdump recording: the page
    works unchanged, the proxy shows both connections (the clean one and the
    one shed with 1013), its frames are those the capture holds between
    Chromium and the proxy, and tshark reads that capture as wsframe does."""
    echo = make_echo_server("--max-connections", "1")
    proxy = Proxy(echo.port)
    capture = tmp_path / "chromium.pcap"
    try:
        with loopback_capture(capture, [proxy.port, echo.port]):
            result = run_page(proxy.port)
    finally:
        output = proxy.stop()
    check_page(result)
    assert proxy.returncode == 0
    closings = sorted(c["closing_handshake"].split(":")[1].split(",")[0].strip()
                      for c in output["connections"])
    assert closings == ["Close 1000 (Normal Closure)", "Close 1013 (Try Again Later)"]
    data = capture.read_bytes()
    for sender in ("client", "server"):
        assert proxy_frames(output, sender) == capture_frames(data, proxy.port, sender)
    if TSHARK is not None:
        ours, theirs = compared_with_tshark(data, capture)
        assert ours and ours == theirs


def check_page(result: dict[str, Any]) -> None:
    """What the page reports after its exchanges with the echo server."""
    assert "error" not in result, result
    assert "text" in result, result
    assert result["text"] == "hello from the browser, κόσμε"
    assert result["binary"] == list(range(256))
    assert result["big"] == 200000
    # Chromium offers it; we accept with 4 KiB windows both ways (the defaults).
    assert result["extensions"] == ("permessage-deflate; server_max_window_bits=12; "
                                    "client_max_window_bits=12")
    assert result["shed"]["code"] == 1013
    assert result["shed"]["reason"].startswith("server busy")
    assert result["shed"]["wasClean"] is True
    assert result["close"] == {"code": 1000, "wasClean": True}
