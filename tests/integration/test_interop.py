"""wsframe against real peers nobody here wrote (websockets, aiohttp), over
loopback sockets, including 1002 and 1013 end to end."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import client as wsclient  # examples/client.py
import pytest

from wsframe import (
    BinaryMessage,
    CloseReceived,
    FrameParser,
    Opcode,
    Pong,
    Role,
    TextMessage,
    build_frame,
    parse_close_payload,
)
from wsframe.extensions.permessage_deflate import DeflateParams
from wsframe.handshake import parse_head

from .conftest import EchoServer, upgraded_socket

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SIZES = [0, 1, 125, 126, 65535, 65536, 2**20, 16 * 2**20]
VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
               3000, 3999, 4000, 4999]


def payloads(size: int) -> tuple[str, bytes]:
    text = ("wsframe κόσμε " * (size // 16 + 1)).encode()[:size].decode("utf-8", "ignore")
    return text, os.urandom(size)


# -- websockets client -> wsframe server -------------------------------------------

@pytest.mark.parametrize("compression", [None, "deflate"])
def test_websockets_client_to_wsframe_server(echo_server: EchoServer,
                                             compression: str | None) -> None:
    from websockets.asyncio.client import connect

    async def scenario() -> None:
        async with connect(echo_server.url, max_size=None, compression=compression) as ws:
            for size in SIZES:
                text, data = payloads(size)
                await ws.send(text)
                assert await ws.recv() == text
                await ws.send(data)
                assert await ws.recv() == data
            await ws.send(["frag", "mented ", "κόσμε"])          # fragmented messages
            assert await ws.recv() == "fragmented κόσμε"
            await ws.send([b"\x00\x01", b"", b"\x02"])
            assert await ws.recv() == b"\x00\x01\x02"
            pong = await ws.ping(b"are you there?")
            await asyncio.wait_for(pong, 5)
        assert ws.close_code == 1000 and ws.protocol.close_rcvd is not None

    asyncio.run(asyncio.wait_for(scenario(), 150))


def test_websockets_client_every_valid_close_code(echo_server: EchoServer) -> None:
    from websockets.asyncio.client import connect

    async def scenario() -> None:
        for code in VALID_CODES:
            async with connect(echo_server.url) as ws:
                await ws.send("before closing")
                assert await ws.recv() == "before closing"
                await ws.close(code, f"closing with {code}")
            # The server echoed the code and the closing handshake completed
            # on both sides (websockets saw our Close, then EOF).
            assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == code
            assert ws.protocol.close_sent is not None and ws.protocol.close_sent.code == code
            assert ws.protocol.close_rcvd_then_sent is False

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_wsframe_server_sheds_load_with_1013(make_echo_server: Any) -> None:
    from websockets.asyncio.client import connect

    server = make_echo_server("--max-connections", "1")

    async def scenario() -> None:
        async with connect(server.url) as first:
            await first.send("I got in")
            assert await first.recv() == "I got in"
            async with connect(server.url) as second:
                await asyncio.wait_for(second.wait_closed(), 10)
            assert second.close_code == 1013
            assert second.close_reason.startswith("server busy")
        # Once the first leaves, a new client is served again.
        async with connect(server.url) as third:
            await third.send("now")
            assert await third.recv() == "now"

    asyncio.run(asyncio.wait_for(scenario(), 30))


# Window sizes and context takeover: (server bits, client bits, server no context
# takeover, client no context takeover), each direction exercised with several
# messages so that a wrong window or a wrong reset would show.
WINDOWS = [(9, 9, False, False), (10, 15, True, False), (15, 12, False, True),
           (12, 12, True, True), (13, 11, False, False)]
DEFLATE_MESSAGES = [("κόσμε " * 2000)[: n] for n in (0, 1, 100, 5000, 12000)] + \
    ["repeat " * 3000, "repeat " * 3000]


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(map(str, w)))
def test_websockets_client_every_window_setting(echo_server: EchoServer,
                                                window: tuple[int, int, bool, bool]) -> None:
    from websockets.asyncio.client import connect
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    server_bits, client_bits, server_nct, client_nct = window
    factory = ClientPerMessageDeflateFactory(
        server_no_context_takeover=server_nct, client_no_context_takeover=client_nct,
        server_max_window_bits=server_bits, client_max_window_bits=client_bits)

    async def scenario() -> None:
        async with connect(echo_server.url, max_size=None, compression=None,
                           extensions=[factory]) as ws:
            answered = ws.response.headers["Sec-WebSocket-Extensions"]
            assert f"server_max_window_bits={min(server_bits, 12)}" in answered
            for text in DEFLATE_MESSAGES:
                await ws.send(text)
                assert await ws.recv() == text
                await ws.send(text.encode())
                assert await ws.recv() == text.encode()

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: "-".join(map(str, w)))
def test_wsframe_client_every_window_setting(window: tuple[int, int, bool, bool]) -> None:
    from websockets.asyncio.server import serve
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

    from wsframe.extensions.permessage_deflate import DeflateParams

    server_bits, client_bits, server_nct, client_nct = window
    params = DeflateParams(server_no_context_takeover=server_nct,
                           client_no_context_takeover=client_nct,
                           server_max_window_bits=server_bits,
                           client_max_window_bits=client_bits)

    async def handler(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def scenario() -> None:
        factory = ServerPerMessageDeflateFactory(compress_settings={"memLevel": 5})
        async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None,
                         extensions=[factory]) as server:
            port = server.sockets[0].getsockname()[1]
            connection = await wsclient.connect(f"ws://127.0.0.1:{port}/",
                                                deflate_params=params)
            probe = connection.outgoing.text("x" * 100)
            assert probe[0] == 0xC1                     # RSV1: compression negotiated
            await connection.send(probe)
            assert await asyncio.wait_for(connection.receive(), 10) == TextMessage("x" * 100)
            for text in DEFLATE_MESSAGES:
                await connection.send(connection.outgoing.text(text))
                assert await asyncio.wait_for(connection.receive(), 10) == TextMessage(text)
            assert await connection.close(1000, "done") == CloseReceived(1000, "done")

    asyncio.run(asyncio.wait_for(scenario(), 60))


# -- wsframe client -> websockets and aiohttp servers -----------------------------------

async def wsframe_client_exchange(url: str, *, deflate: bool, close_code: int = 1000,
                                  echoed: set[int] | None = None,
                                  deflate_params: DeflateParams | None = None) -> None:
    """Sizes, fragmentation, ping/pong and the close handshake with our client."""
    connection = await wsclient.connect(url, deflate=deflate, deflate_params=deflate_params)
    for size in SIZES:
        text, data = payloads(size)
        await connection.send(connection.outgoing.text(text))
        assert await asyncio.wait_for(connection.receive(), 60) == TextMessage(text)
        await connection.send(connection.outgoing.binary(data, fragment_size=100_000))
        assert await asyncio.wait_for(connection.receive(), 60) == BinaryMessage(data)
    await connection.send(connection.outgoing.text("fragmented κόσμε", fragment_size=3))
    assert await connection.receive() == TextMessage("fragmented κόσμε")
    await connection.send(connection.outgoing.ping(b"ping?"))
    assert await wait_for_pong(connection) == Pong(b"ping?")
    reply = await connection.close(close_code, "done")
    assert reply is not None
    assert reply.code in (echoed or {close_code})


async def wait_for_pong(connection: wsclient.ClientConnection) -> Pong:
    while True:
        for index, event in enumerate(connection.pending):
            if isinstance(event, Pong):
                connection.pending.pop(index)
                return event
        data = await asyncio.wait_for(connection.reader.read(65536), 5)
        assert data, "connection closed before the pong"
        connection.pending.extend(connection.incoming.feed(data))


async def websockets_echo(compression: str | None, reject: int = 0) -> tuple[Any, int, list[int]]:
    """A websockets echo server; the first ``reject`` clients get 1013."""
    from websockets.asyncio.server import serve

    seen: list[int] = []

    async def handler(ws: Any) -> None:
        seen.append(len(seen))
        if len(seen) <= reject:
            await ws.close(1013, "overloaded, try again later")
            return
        async for message in ws:
            await ws.send(message)

    server = await serve(handler, "127.0.0.1", 0, max_size=None, compression=compression)
    port = server.sockets[0].getsockname()[1]
    return server, port, seen


@pytest.mark.parametrize("deflate", [False, True])
def test_wsframe_client_to_websockets_server(deflate: bool) -> None:
    async def scenario() -> None:
        server, port, _ = await websockets_echo("deflate" if deflate else None)
        async with server:
            url = f"ws://127.0.0.1:{port}/"
            await wsframe_client_exchange(url, deflate=deflate)
            for code in VALID_CODES:
                connection = await wsclient.connect(url, deflate=deflate)
                reply = await connection.close(code, "bye")
                assert reply == CloseReceived(code, "bye")   # websockets echoes code+reason

    asyncio.run(asyncio.wait_for(scenario(), 150))


@pytest.mark.parametrize("deflate", [False, True])
def test_wsframe_client_to_aiohttp_server(deflate: bool) -> None:
    from aiohttp import WSMsgType, web

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=deflate)
        await ws.prepare(request)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        return ws

    async def scenario() -> None:
        app = web.Application()
        app.router.add_get("/", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            url = f"ws://127.0.0.1:{port}/"
            # aiohttp answers a Close with its own 1000 rather than echoing.
            await wsframe_client_exchange(url, deflate=deflate, echoed={1000})
            for code in VALID_CODES:
                connection = await wsclient.connect(url, deflate=deflate)
                reply = await connection.close(code, "bye")
                assert reply is not None and reply.code in (1000, code)
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(scenario(), 150))


def test_wsframe_client_backs_off_after_1013_from_websockets() -> None:
    """An overloaded websockets server closes the first 3 connections with
    1013; the client waits as Backoff says, then gets through."""
    async def scenario() -> list[wsclient.Attempt]:
        server, port, seen = await websockets_echo(None, reject=3)
        async with server:
            attempts = await wsclient.run(f"ws://127.0.0.1:{port}/", 2, initial_delay=0.05,
                                          max_attempts=6, log=False)
        assert len(seen) == 4
        return attempts

    attempts = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert [(a.outcome, a.code) for a in attempts] == [("closed", 1013)] * 3 + [("ok", None)]
    # Full jitter: attempt n waits a random time in [0, 0.05 * 2**(n-1)].
    for attempt in attempts[:3]:
        assert 0 <= attempt.waited <= 0.05 * 2 ** (attempt.number - 1)


def test_wsframe_client_stops_after_1002_from_a_broken_server() -> None:
    """A server that sends a masked frame breaks RFC 6455 5.1: the client fails
    the connection with 1002 and does not retry."""
    connections = 0
    received = bytearray()

    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = parse_head(await reader.readuntil(b"\r\n\r\n"))
        from wsframe.handshake import check_request, server_response
        writer.write(server_response(check_request(head)))
        writer.write(build_frame(Opcode.TEXT, b"hi", mask=b"abcd"))   # masked: wrong
        await writer.drain()
        while data := await reader.read(4096):      # everything until the client closes
            received.extend(data)
        writer.close()

    async def scenario() -> list[wsclient.Attempt]:
        server = await asyncio.start_server(broken, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await wsclient.run(f"ws://127.0.0.1:{port}/", 1, initial_delay=0.01,
                                      log=False, deflate=False)

    attempts = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert [(a.outcome, a.code) for a in attempts] == [("protocol-error", 1002)]
    assert connections == 1
    frames = list(FrameParser(Role.SERVER).feed(bytes(received)))
    # The client had sent its first message; then it failed the connection.
    assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.CLOSE]
    assert parse_close_payload(frames[-1].payload) == (1002, "masked frame from the server")


# -- a raw, broken peer -> wsframe server ------------------------------------------------

@pytest.mark.parametrize(("name", "frame"), [
    ("reserved opcode", bytes((0x83, 0x80)) + b"abcd"),
    ("unmasked client frame", bytes((0x81, 0x02)) + b"hi"),
    ("RSV1 without an extension", build_frame(Opcode.TEXT, b"hi", rsv1=True, mask=b"abcd")),
])
def test_broken_peer_gets_1002_then_eof(echo_server: EchoServer, name: str, frame: bytes
                                        ) -> None:
    sock = upgraded_socket(echo_server.port)
    sock.sendall(frame)
    data = b""
    while chunk := sock.recv(4096):       # until the server closes TCP (EOF)
        data += chunk
    sock.close()
    frames = list(FrameParser(Role.CLIENT).feed(data))
    assert [f.opcode for f in frames] == [Opcode.CLOSE]
    code, reason = parse_close_payload(frames[0].payload)
    assert code == 1002, (name, reason)
