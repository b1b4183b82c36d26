"""Node's ws library (pinned in tests/integration/node/package-lock.json) as a
peer, in both roles.

* ws client -> examples/echo_server.py, and -> uvicorn running an ASGI echo app
  on wsframe_uvicorn.WSFrameProtocol: node/client.mjs runs every check
  (sizes 0 to 16 MiB, fragments, Pings between fragments, close codes with
  reasons, raw invalid frames and the exact close code each must get) and
  prints one JSON line per check.
* wsframe's client (examples/client.py) -> ws server (node/server.mjs): the
  exchange of test_interop, close codes with reasons, a server-initiated
  1013, and a broken ws server whose frames the client must refuse with the
  exact code, sending a Close frame the ws server receives.

Each runs with permessage-deflate off, at ws's defaults, and with 9-bit
windows and no context takeover both ways. `make node-deps` installs ws
(`npm ci`); `make test` does it first.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import client as wsclient  # examples/client.py
import pytest

from wsframe import CloseReceived, Opcode, ProtocolError, TextMessage, build_frame
from wsframe.extensions.permessage_deflate import DeflateParams

from .conftest import ROOT, EchoServer, free_port, wait_listening
from .test_interop import wsframe_client_exchange

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

NODE_DIR = Path(__file__).parent / "node"
MODES = ["off", "default", "small"]
CLOSE_CODES = [1000, 1013, 3000, 4999]
# node/client.mjs: the handshake, 8 sizes x 2 types, 5 fragment/ping checks, a
# close, 4 close codes, 19 raw frames (20 with deflate: its two rules replace
# "RSV1 without an extension").
CLIENT_CHECKS = {"off": 47, "default": 48, "small": 48}
SMALL = DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True,
                      server_max_window_bits=9, client_max_window_bits=9)


def node() -> str:
    path = shutil.which("node")
    if path is None or not (NODE_DIR / "node_modules" / "ws" / "package.json").exists():
        pytest.fail("Node.js and ws are needed: run `make node-deps` (make test does)")
    return path


def run_client(url: str, mode: str) -> list[dict[str, Any]]:
    """node/client.mjs against ``url``; its checks, one dict each."""
    done = subprocess.run([node(), str(NODE_DIR / "client.mjs"), url, mode],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def assert_all_passed(results: list[dict[str, Any]], mode: str) -> None:
    failed = [f"{r['name']}: {r['detail']}" for r in results if not r["ok"]]
    assert failed == []
    assert len(results) == CLIENT_CHECKS[mode], [r["name"] for r in results]


# -- ws client -> wsframe servers ------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_ws_client_against_the_example_server(echo_server: EchoServer, mode: str) -> None:
    results = run_client(echo_server.url, mode)
    assert_all_passed(results, mode)
    names = {r["name"]: r["detail"] for r in results}
    # The reason the server gives names the rule (an example among the raw frames).
    assert names["invalid: reserved opcode 0x3 (5.2) -> Close 1002"] == "reserved opcode 0x3"


@pytest.fixture(scope="module")
def uvicorn_on_wsframe() -> Iterator[str]:
    """uvicorn serving tests/integration/asgi_echo.py on WSFrameProtocol."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "integrations" / "uvicorn"), str(ROOT)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "asgi_echo:app", "--app-dir", str(Path(__file__).parent),
         "--ws", "wsframe_uvicorn:WSFrameProtocol", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--log-level", "warning", "--ws-max-size", str(64 * 2**20)],
        env=env, stdout=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield f"ws://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("mode", MODES)
def test_ws_client_against_uvicorn_on_wsframe(uvicorn_on_wsframe: str, mode: str) -> None:
    assert_all_passed(run_client(uvicorn_on_wsframe, mode), mode)


# -- wsframe client -> ws server -------------------------------------------------------------

class NodeServer:
    """node/server.mjs; `closes` holds one dict per connection it saw closed."""

    def __init__(self, mode: str) -> None:
        self.proc = subprocess.Popen([node(), str(NODE_DIR / "server.mjs"), mode],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.url = f"ws://127.0.0.1:{self.port}"
        self.closes: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.closes.put(json.loads(line))

    def closed(self, path: str) -> dict[str, Any]:
        """What the ws server saw when the connection on ``path`` closed."""
        while True:
            seen = self.closes.get(timeout=10)
            if seen["path"] == path:
                return seen

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module", params=MODES)
def ws_server(request: pytest.FixtureRequest) -> Iterator[tuple[NodeServer, str]]:
    server = NodeServer(request.param)
    yield server, request.param
    server.stop()


def client_options(mode: str) -> dict[str, Any]:
    return {"deflate": mode != "off", "deflate_params": SMALL if mode == "small" else None}


def test_wsframe_client_against_ws_server(ws_server: tuple[NodeServer, str]) -> None:
    server, mode = ws_server
    options = client_options(mode)

    async def scenario() -> None:
        await wsframe_client_exchange(server.url + "/", **options)
        for code in CLOSE_CODES:
            reason = f"bye {code}: κόσμε"
            connection = await wsclient.connect(server.url + f"/codes/{code}", **options)
            await connection.send(connection.outgoing.text("first"))
            assert await connection.receive() == TextMessage("first")
            assert await connection.close(code, reason) == CloseReceived(code, reason)

    asyncio.run(asyncio.wait_for(scenario(), 200))
    seen = server.closed("/")
    assert seen["code"] == 1000
    assert ("permessage-deflate" in seen["extensions"]) is (mode != "off")
    if mode == "small":
        assert seen["extensions"] == ("permessage-deflate; server_no_context_takeover; "
                                      "client_no_context_takeover; server_max_window_bits=9; "
                                      "client_max_window_bits=9")
    for code in CLOSE_CODES:
        seen = server.closed(f"/codes/{code}")
        assert (seen["code"], seen["reason"]) == (code, f"bye {code}: κόσμε")


def test_ws_server_closing_with_1013_reaches_the_wsframe_client(
        ws_server: tuple[NodeServer, str]) -> None:
    server, mode = ws_server
    path = "/close/1013/overloaded%2C%20try%20again%20later"

    async def scenario() -> None:
        connection = await wsclient.connect(server.url + path, **client_options(mode))
        with pytest.raises(wsclient.Closed) as closed:
            await asyncio.wait_for(connection.receive(), 10)
        assert (closed.value.code, closed.value.reason) == (1013, "overloaded, try again later")

    asyncio.run(asyncio.wait_for(scenario(), 30))
    seen = server.closed(path)
    assert (seen["code"], seen["reason"]) == (1013, "overloaded, try again later")  # echoed


# Server frames that break a rule, the code wsframe's client must answer with.
BROKEN = [
    ("masked server frame (5.1)", build_frame(Opcode.TEXT, b"hi", mask=b"abcd"), 1002),
    ("reserved opcode 0x3 (5.2)", b"\x83\x00", 1002),
    ("fragmented Ping (5.5)", b"\x09\x00", 1002),
    ("Close code 1005 on the wire (7.4.1)", b"\x88\x02\x03\xed", 1002),
    ("continuation with nothing to continue (5.4)", b"\x80\x01x", 1002),
    ("invalid UTF-8 text (8.1)", b"\x81\x02H\xff", 1007),
    ("invalid UTF-8 in a Close reason (5.5.1)", b"\x88\x03\x03\xe8\xff", 1007),
]


@pytest.mark.parametrize(("name", "frame", "code"), BROKEN, ids=[b[0] for b in BROKEN])
def test_wsframe_client_answers_a_broken_ws_server(ws_server: tuple[NodeServer, str], name: str,
                                                   frame: bytes, code: int) -> None:
    server, mode = ws_server
    path = f"/raw/{frame.hex()}"

    async def scenario() -> None:
        connection = await wsclient.connect(server.url + path, **client_options(mode))
        with pytest.raises(ProtocolError) as error:
            await asyncio.wait_for(connection.receive(), 10)
        assert error.value.code == code

    asyncio.run(asyncio.wait_for(scenario(), 30))
    seen = server.closed(path)      # the ws server received our Close frame
    assert seen["code"] == code, (name, seen)
    assert seen["reason"]
