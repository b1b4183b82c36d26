"""uvicorn on wsframe_uvicorn.WSFrameProtocol against hostile and careless peers
(issue 21), in process over 127.0.0.1, so that the server's own state can be
checked: its set of connections, whether it still reads, what it buffers.

* a malformed ``Sec-WebSocket-Extensions`` offer is declined (RFC 7692 5),
  nothing is retained, ``--limit-concurrency`` is not used up, shutdown is quick;
* any unexpected error before the handshake is answered (500) and forgotten;
* a client that sends Pings and never reads: reading stops while the write
  buffer is over its high-water mark, and shutdown does not wait for it;
* bytes sent before the application accepts: a bounded buffer, reading paused;
* an invalid subprotocol or header given to ``websocket.accept``, or a
  subprotocol the client never offered: 500, never a 101 or a silent EOF;
* an unexpected exception from the codec: Close 1011, logged once;
* an application that sends faster than the client reads: bounded buffer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import sys
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from wsframe import CloseReceived, Connection, Opcode, Role, TextMessage, build_close, build_frame

from .conftest import ROOT, free_port

sys.path.insert(0, str(ROOT / "integrations" / "uvicorn"))
import wsframe_uvicorn.protocol as ws_protocol
from wsframe_uvicorn import WSFrameProtocol

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
MASK = b"\x01\x02\x03\x04"
MALFORMED_OFFERS = ["permessage-deflate;;", 'permessage-deflate; a="b',
                    "permessage-deflate; x; ,;"]


class App:
    """The ASGI application of these tests; the path picks the behaviour.

    ``/echo`` accepts and echoes; ``/late`` accepts once `release` is set, then
    reports how many messages and bytes it received; ``/slow`` takes one
    message, then waits for `release` before it takes the others; ``/accept`` accepts with
    the subprotocol or header in `accept_with`; ``/close`` accepts, then closes
    with `close_with`; ``/flood`` sends 64 KiB
    messages until the client goes. Plain HTTP gets 200 ``ok``.
    """

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.accept_with: Message = {}
        self.close_with: Message = {}
        self.disconnects: list[Message] = []
        self.sent = 0
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        assert (await receive())["type"] == "websocket.connect"
        path = scope["path"]
        if path == "/late":
            await self.release.wait()
        if path == "/accept":
            try:
                await send({"type": "websocket.accept", **self.accept_with})
            except Exception as error:          # what the application is told
                self.errors.append(error)
                raise
        else:
            await send({"type": "websocket.accept"})
        if path == "/close":
            try:
                await send({"type": "websocket.close", **self.close_with})
            except Exception as error:
                self.errors.append(error)
                raise
        if path == "/flood":
            try:
                while True:
                    await send({"type": "websocket.send", "bytes": bytes(65536)})
                    self.sent += 1
            except Exception as error:          # how the application learns it ended
                self.errors.append(error)
                return
        messages = size = 0
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                return
            data = message.get("bytes") or message.get("text", "").encode()
            messages, size = messages + 1, size + len(data)
            if path == "/slow":
                if messages == 1:
                    await self.release.wait()
                continue
            if path == "/late":
                await send({"type": "websocket.send", "text": f"{messages} {size}"})
            else:
                await send({"type": "websocket.send", "text": message.get("text") or ""})


@dataclass
class Served:
    """A running uvicorn server and what the tests look at."""

    server: uvicorn.Server
    port: int
    app: App

    def protocols(self) -> list[WSFrameProtocol]:
        """The WebSocket connections the server holds."""
        return [c for c in self.server.server_state.connections
                if isinstance(c, WSFrameProtocol)]

    async def settled(self) -> set[Any]:
        """The server's connections, once the ones being closed are gone (2 s at most)."""
        for _ in range(200):
            if not self.server.server_state.connections:
                break
            await asyncio.sleep(0.01)
        return set(self.server.server_state.connections)


@contextlib.asynccontextmanager
async def serving(**options: Any) -> AsyncIterator[Served]:
    """uvicorn on WSFrameProtocol at a free port; at the end, a shutdown that
    must finish within 5 s (a hang check: it takes well under a second)."""
    app = App()
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=WSFrameProtocol,
                            lifespan="off", log_config=None, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield Served(server, port, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)


def request(path: str = "/echo", *headers: str) -> bytes:
    """A client's opening handshake (RFC 6455 4.1) with extra header lines."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def open_client(port: int, head: bytes
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, list[str]]:
    """Connect, send ``head``, read the answer's head: its lines."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer, answer.decode("latin-1").split("\r\n")[:-2]


async def server_events(reader: asyncio.StreamReader) -> list[Any]:
    """Every event the server sends until it closes TCP (5 s at most)."""
    connection = Connection(Role.CLIENT)
    data = await asyncio.wait_for(reader.read(), 5)
    return list(connection.feed(data))


async def close_client(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


# -- 1. malformed Sec-WebSocket-Extensions ------------------------------------------------------

@pytest.mark.parametrize("offer", MALFORMED_OFFERS)
def test_a_malformed_extension_offer_is_declined(offer: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(
                served.port, request("/echo", f"Sec-WebSocket-Extensions: {offer}"))
            # RFC 7692 5: the offer is declined, the connection goes on without it.
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            assert not [h for h in head if h.lower().startswith("sec-websocket-extensions")]
            writer.write(build_frame(Opcode.TEXT, b"still here", mask=MASK))
            writer.write(build_close(1000, mask=MASK))
            events = await server_events(reader)
            assert events == [TextMessage("still here"), CloseReceived(1000, "")]
            await close_client(writer)
            assert await served.settled() == set()
            assert served.app.disconnects == [{"type": "websocket.disconnect", "code": 1000,
                                               "reason": ""}]
    asyncio.run(main())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_malformed_offers_leave_nothing_behind(caplog: pytest.LogCaptureFixture) -> None:
    """With --limit-concurrency 4, 21 malformed offers (each client gone at once)
    leave the server answering plain HTTP with 200, not 503, and none is held."""
    async def main() -> None:
        async with serving(limit_concurrency=4) as served:
            for i in range(21):
                _reader, writer, head = await open_client(
                    served.port, request("/echo", "Sec-WebSocket-Extensions: "
                                         + MALFORMED_OFFERS[i % 3]))
                assert head[0] == "HTTP/1.1 101 Switching Protocols"
                await close_client(writer)
            assert await served.settled() == set()
            reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nok")
            await close_client(writer)
    asyncio.run(main())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_shutdown_with_handshakes_in_progress_is_quick() -> None:
    """Clients whose handshake the application has not answered yet (and one with
    a malformed offer) get a 500 at shutdown; `serving` checks it takes < 5 s."""
    async def main() -> None:
        clients = []
        async with serving() as served:
            for offer in ["permessage-deflate", *MALFORMED_OFFERS]:
                reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
                writer.write(request("/late", f"Sec-WebSocket-Extensions: {offer}"))
                clients.append((reader, writer))
            for _ in range(200):
                if len(served.protocols()) == 4:
                    break
                await asyncio.sleep(0.01)
            assert len(served.protocols()) == 4
            # The application decides once shutdown began: it learns the client is gone.
            asyncio.get_running_loop().call_later(0.5, served.app.release.set)
        for reader, writer in clients:
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
            await close_client(writer)
    asyncio.run(main())


# -- no exception escapes the handshake path -------------------------------------------------

@pytest.mark.parametrize("where", ["check_request", "offered_subprotocols", "accept_offer"])
def test_an_unexpected_error_before_the_handshake_answers_500(
        where: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("unexpected")
    monkeypatch.setattr(ws_protocol, where, broken)

    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(
                served.port, request("/echo", "Sec-WebSocket-Extensions: permessage-deflate"))
            assert head[0] == "HTTP/1.1 500 Internal Server Error"
            assert await asyncio.wait_for(reader.read(), 5) == b"Internal Server Error"
            await close_client(writer)
            assert await served.settled() == set()
    asyncio.run(main())
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in logged] == ["uvicorn.error"]       # once, not asyncio's
    assert "unexpected" in str(logged[0].exc_info[1] if logged[0].exc_info else "")


# -- 3. Ping flood from a client that never reads ----------------------------------------------

async def flood(writer: asyncio.StreamWriter, frame: bytes, total: int,
                server: asyncio.Transport | None = None) -> int:
    """Send ``frame`` until ``total`` bytes went or the server stops taking them
    for a second: return the bytes written. With the ``server``'s transport,
    a stall counts only once it stopped reading (it may just be slow)."""
    chunk = frame * max(1, 65536 // len(frame))
    sent = 0
    while sent < total:
        writer.write(chunk)
        sent += len(chunk)
        while True:
            try:
                await asyncio.wait_for(writer.drain(), 1)
                break
            except (asyncio.TimeoutError, OSError):
                if server is None or not server.is_reading():
                    return sent
    return sent


def test_a_ping_flood_from_a_non_reader_pauses_reading() -> None:
    """RFC 6455 5.5.2 has every Ping answered; a peer that never reads the Pongs
    must not make the server buffer them without end: reading pauses while the
    write buffer is over its high-water mark, and shutdown does not wait for it."""
    async def main() -> None:
        async with serving() as served:
            _reader, writer, head = await open_client(served.port, request("/echo"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            [protocol] = served.protocols()
            transport = protocol.transport
            # 40 MiB of 125-byte Pings would queue 39 MiB of Pongs.
            sent = await flood(writer, build_frame(Opcode.PING, bytes(125), mask=MASK),
                               40 * 2**20, transport)
            assert sent < 40 * 2**20
            assert not transport.is_reading()
            high = transport.get_write_buffer_limits()[1]
            # Over the mark by at most the Pongs of one read (256 KiB of Pings).
            assert high < transport.get_write_buffer_size() < high + 300 * 1024
            await asyncio.sleep(0.5)
            assert transport.get_write_buffer_size() < high + 300 * 1024
        writer.transport.abort()
    asyncio.run(main())


# -- 4. bytes sent before the application accepts ------------------------------------------------

def test_early_data_is_bounded_then_delivered() -> None:
    """A client that sends 16 MiB of messages before the application accepts: the
    server holds at most its limit (reading paused), and every message arrives
    once the application accepts."""
    async def main() -> None:
        async with serving(ws_max_size=2**20) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
            writer.write(request("/late"))
            # uvicorn's HTTP parsers drop what comes in the read of the request head
            # (for every WebSocket backend): the frames follow once it was upgraded.
            for _ in range(200):
                if served.protocols():
                    break
                await asyncio.sleep(0.01)
            frame = build_frame(Opcode.BINARY, bytes(65536), mask=MASK)
            [protocol] = served.protocols()
            sent = await flood(writer, frame, 256 * len(frame), protocol.transport)
            assert sent < 256 * len(frame)          # the server stopped reading
            assert not protocol.transport.is_reading()
            assert len(protocol.early) < 2**20      # (it holds 64 KiB + one read)
            served.app.release.set()
            writer.write(frame * (256 - sent // len(frame)))
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
            connection = Connection(Role.CLIENT)
            events: list[Any] = []
            while data := await asyncio.wait_for(reader.read(65536), 10):
                for event in connection.feed(data):
                    events.append(event)
                    if event == TextMessage(f"256 {256 * 65536}"):
                        writer.write(build_close(1000, mask=MASK))
            assert len(events) == 257
            assert events[-2:] == [TextMessage(f"256 {256 * 65536}"), CloseReceived(1000, "")]
            await close_client(writer)
    asyncio.run(main())


def test_a_burst_of_tiny_messages_is_not_held_as_events() -> None:
    """256 KiB of empty messages in one read, for an application busy with the
    first: the server holds them as bytes and parses them a piece at a time
    (FEED_SIZE), not as 43,000 message events at once (2 MB)."""
    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(served.port, request("/slow"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            [protocol] = served.protocols()
            frames = build_frame(Opcode.TEXT, b"", mask=MASK) * (2**18 // 6)
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                writer.write(frames)
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    if served.app.release.is_set() or not protocol.transport.is_reading():
                        break
                await asyncio.sleep(0.2)
                held = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            assert not protocol.transport.is_reading()      # the application is busy
            # Beyond the bytes not parsed yet: the events of one piece (~130 KB),
            # not of a whole read (a 64 KiB read: 11,000 events, 530 KB).
            unparsed = sum(len(piece) for piece in protocol.backlog)
            assert held - unparsed < 256 * 1024, (held, unparsed)
            served.app.release.set()
            writer.write(build_close(1000, mask=MASK))
            events = await server_events(reader)
            assert events == [CloseReceived(1000, "")]
            await close_client(writer)
    asyncio.run(main())


def test_bytes_after_an_http_rejection_are_not_kept() -> None:
    """Bytes after the head are held (bounded) while the application decides;
    once it refused the handshake (403), none is kept."""
    async def main() -> None:
        decided = asyncio.Event()

        async def refuse(scope: Message, receive: Receive, send: Send) -> None:
            await receive()
            await decided.wait()
            await send({"type": "websocket.close"})
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(refuse, host="127.0.0.1", port=port,
                                               ws=WSFrameProtocol, lifespan="off",
                                               log_config=None))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/"))
        # The early data goes after uvicorn handed the head over (its HTTP
        # parsers drop bytes that come in the same read as the head).
        protocols: list[WSFrameProtocol] = []
        for _ in range(500):
            protocols = [c for c in server.server_state.connections
                         if isinstance(c, WSFrameProtocol)]
            if protocols:
                break
            await asyncio.sleep(0.01)
        await flood(writer, bytes(65536), 2**20)
        [protocol] = protocols
        assert len(protocol.early) < 2**20      # (it holds 64 KiB + one read)
        decided.set()
        for _ in range(200):
            if not server.server_state.connections:
                break
            await asyncio.sleep(0.01)
        assert len(protocol.early) == 0
        assert not server.server_state.connections
        writer.transport.abort()
        server.should_exit = True
        await asyncio.wait_for(task, 5)
    asyncio.run(main())


# -- 13. what the application passes to websocket.accept ---------------------------------------

@pytest.mark.parametrize("accept_with, error", [
    ({"subprotocol": "bad value"}, "subprotocol"),
    ({"subprotocol": "chat\r\nX-Injected: 1"}, "subprotocol"),
    ({"subprotocol": "superchat"}, "subprotocol"),           # offered: chat, json
    ({"headers": [(b"x-a", b"1\r\nX-Injected: 2")]}, "headers"),
    ({"headers": [(b"bad name", b"1")]}, "headers"),
    ({"headers": [("x-a", 1)]}, "headers"),
])
def test_an_invalid_accept_answers_500(accept_with: Message, error: str) -> None:
    """RFC 6455 4.2.2: the server's subprotocol is one the client offered; a value
    the application got wrong is its error: answer 500 (as uvicorn's backends
    do for an application error) and tell the application, naming the argument."""
    async def main() -> None:
        async with serving() as served:
            served.app.accept_with = accept_with
            reader, writer, head = await open_client(
                served.port, request("/accept", "Sec-WebSocket-Protocol: chat, json"))
            assert head[0] == "HTTP/1.1 500 Internal Server Error"
            assert not [h for h in head if "injected" in h.lower()]
            assert await asyncio.wait_for(reader.read(), 5) == b"Internal Server Error"
            await close_client(writer)
            assert await served.settled() == set()
            [raised] = served.app.errors
            assert isinstance(raised, (ValueError, TypeError))
            assert error in str(raised)
    asyncio.run(main())


def test_an_offered_subprotocol_is_accepted() -> None:
    async def main() -> None:
        async with serving() as served:
            served.app.accept_with = {"subprotocol": "json", "headers": [(b"x-a", b"1")]}
            _reader, writer, head = await open_client(
                served.port, request("/accept", "Sec-WebSocket-Protocol: chat, json"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            assert "Sec-WebSocket-Protocol: json" in head and "x-a: 1" in head
            await close_client(writer)
    asyncio.run(main())


# -- an unexpected exception from the codec ------------------------------------------------------

class BrokenConnection(Connection):
    """A Connection that fails the way a codec bug would (a zlib.error) on a frame
    carrying "boom" (masked with the all-zero key, so it shows on the wire)."""

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[Any]:
        if b"boom" in bytes(data):
            raise zlib.error("Error -3 while decompressing data: invalid block type")
        return super().feed(data)


def test_an_unexpected_codec_error_closes_with_1011(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(ws_protocol, "Connection", BrokenConnection)

    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(served.port, request("/echo"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            writer.write(build_frame(Opcode.TEXT, b"fine", mask=MASK))
            assert await asyncio.wait_for(reader.readexactly(6), 5) == b"\x81\x04fine"
            writer.write(build_frame(Opcode.TEXT, b"boom", mask=bytes(4)))
            events = await server_events(reader)
            assert events == [CloseReceived(1011, "internal error")]
            await close_client(writer)
            assert await served.settled() == set()
            assert served.app.disconnects == [{"type": "websocket.disconnect", "code": 1011,
                                               "reason": "internal error"}]
    asyncio.run(main())
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1 and logged[0].name == "uvicorn.error"


def test_after_an_unexpected_codec_error_the_application_is_told_disconnected(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Its next send raises ClientDisconnected (an OSError), as when the client
    goes: not a RuntimeError that blames the application."""
    monkeypatch.setattr(ws_protocol, "Connection", BrokenConnection)

    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(served.port, request("/flood"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            writer.write(build_frame(Opcode.TEXT, b"boom", mask=bytes(4)))
            events = [e for e in await server_events(reader) if isinstance(e, CloseReceived)]
            assert events == [CloseReceived(1011, "internal error")]
            await close_client(writer)
            assert await served.settled() == set()
            for _ in range(100):
                if served.app.errors:
                    break
                await asyncio.sleep(0.01)
            [raised] = served.app.errors
            assert isinstance(raised, OSError)
    asyncio.run(main())
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1 and logged[0].name == "uvicorn.error"


# -- the application sends faster than the client reads ---------------------------------------

def test_an_application_sending_to_a_non_reader_waits() -> None:
    async def main() -> None:
        async with serving() as served:
            _reader, writer, head = await open_client(served.port, request("/flood"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            await asyncio.sleep(1)
            sent = served.app.sent
            [protocol] = served.protocols()
            transport = protocol.transport
            high = transport.get_write_buffer_limits()[1]
            assert transport.get_write_buffer_size() <= high + 65536 + 14
            await asyncio.sleep(0.5)
            assert served.app.sent == sent          # blocked in send
        writer.transport.abort()
    asyncio.run(main())


def test_an_application_streaming_still_reads_the_clients_close() -> None:
    """Write backpressure from the application's own sends does not stop reading:
    the client's Close is read and answered (RFC 6455 5.5.1) while it streams."""
    async def main() -> None:
        async with serving() as served:
            reader, writer, head = await open_client(served.port, request("/flood"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            writer.write(build_close(1000, mask=MASK))
            events = await server_events(reader)
            assert [e for e in events if isinstance(e, CloseReceived)] == [
                CloseReceived(1000, "")]
            await close_client(writer)
            assert await served.settled() == set()
            for _ in range(100):
                if served.app.errors:
                    break
                await asyncio.sleep(0.01)
            [raised] = served.app.errors
            assert isinstance(raised, OSError)          # ClientDisconnected
    asyncio.run(main())


# -- codes at the boundary, and the end of the transport (issue 22, part 1) -------------------

def test_a_close_code_that_may_not_be_sent_is_fitted_not_an_error() -> None:
    """An application closing with 1004 and a 200-byte reason: the client gets
    Close 1000 with the reason's first 123 bytes (wsframe.fit_close), and the
    application no exception."""
    async def main() -> None:
        async with serving() as served:
            served.app.close_with = {"code": 1004, "reason": "x" * 200}
            reader, writer, head = await open_client(served.port, request("/close"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            answer = await asyncio.wait_for(reader.readexactly(2 + 2 + 123), 5)
            assert answer == b"\x88\x7d" + (1000).to_bytes(2, "big") + b"x" * 123
            writer.write(build_frame(Opcode.CLOSE, (1000).to_bytes(2, "big"), mask=MASK))
            await close_client(writer)
            assert await served.settled() == set()
            assert served.app.errors == []
    asyncio.run(main())


def test_a_client_that_drops_tcp_is_disconnect_1006() -> None:
    """No Close frame before the end of the transport: the application's
    websocket.disconnect carries 1006 (Connection.receive_eof, RFC 6455 7.1.5)."""
    async def main() -> None:
        async with serving() as served:
            _reader, writer, head = await open_client(served.port, request("/echo"))
            assert head[0] == "HTTP/1.1 101 Switching Protocols"
            writer.close()
            assert await served.settled() == set()
            for _ in range(50):
                if served.app.disconnects:
                    break
                await asyncio.sleep(0.05)
            assert [m.get("code") for m in served.app.disconnects] == [1006]
    asyncio.run(main())
