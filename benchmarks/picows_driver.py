"""picows driven without sockets, for benchmarks/bench.py.

picows (a Cython WebSocket client and server for asyncio) has no sans-I/O
API: its `WSProtocol` is an asyncio buffered protocol that reads straight
into its own buffer. To time its frame reader and writer on the same byte
streams as everyone else, this module gives a real `WSProtocol` an
in-memory transport, completes a real opening handshake through it (an
HTTP request in for a server, a 101 response in for a client), and then:

- reading: copies each read into the buffer picows hands out
  (`get_buffer`/`buffer_updated`, what asyncio's event loop does with
  bytes from the socket) and counts the frames its listener receives, taking
  each payload out as ``bytes`` (binary) or ``str`` (text), as wsframe's
  events carry them;
- writing: calls `WSTransport.send`, whose bytes land in a write function
  that counts them (wsframe's writer rows call the same function).

The protocol is built and its handshake done before the clock starts
(`prepare`), like any receiver that is already connected.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import socket
from typing import Any

from picows import WSListener, WSMsgType, WSTransport
from picows.picows import WSProtocol

__all__ = ["PicowsReader", "PicowsWriter", "picows_version"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_LOGGER = logging.getLogger("bench.picows")
_LOGGER.setLevel(logging.WARNING)


def picows_version() -> str:
    """The installed picows version."""
    from importlib.metadata import version
    return version("picows")


class _MemoryTransport(asyncio.Transport):
    """What WSProtocol asks of its transport: a socket for its options
    (a fresh TCP socket, never connected), and a `write` that counts."""

    def __init__(self) -> None:
        super().__init__()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.handshake = bytearray()    # what is written while `keep` is set
        self.keep = True
        self.count = 0                  # bytes written after that

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"socket": self._socket, "peername": ("127.0.0.1", 50000),
                "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def write(self, data: Any) -> None:
        if self.keep:
            self.handshake += data
        else:
            self.count += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        self._socket.close()


class _Counting(WSListener):  # type: ignore[misc]
    """Counts frames, taking each payload out the way wsframe hands it over."""

    def __init__(self) -> None:
        self.frames = 0

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            frame.get_payload_as_utf8_text()
        else:
            frame.get_payload_as_bytes()
        self.frames += 1


def _protocol(client: bool, listener: _Counting) -> WSProtocol:
    return WSProtocol("127.0.0.1:8080", "/", client, lambda *_request: listener, _LOGGER,
                      True, None, False, 20, 20, 1, True, 2**31 - 1, None, 16384)


def _feed(protocol: WSProtocol, data: bytes) -> None:
    """Copy ``data`` into picows' read buffer, as the event loop does from a socket."""
    view = memoryview(data)
    while view:
        buffer = protocol.get_buffer(-1)
        n = min(len(buffer), len(view))
        buffer[:n] = view[:n]
        protocol.buffer_updated(n)
        view = view[n:]


class PicowsReader:
    """A server-side picows protocol past its handshake, fed reads of a stream."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._protocol: WSProtocol | None = None
        self._listener = _Counting()

    def prepare(self) -> None:
        """A fresh protocol, handshake done (not timed)."""
        async def build() -> WSProtocol:
            self._listener = _Counting()
            protocol = _protocol(False, self._listener)
            raw = _MemoryTransport()
            protocol.connection_made(raw)
            key = base64.b64encode(b"0123456789abcdef")
            _feed(protocol, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
                            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                            b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
            await asyncio.sleep(0)
            assert raw.handshake.startswith(b"HTTP/1.1 101 "), bytes(raw.handshake)
            raw.keep = False
            return protocol
        self._protocol = self._loop.run_until_complete(build())

    def run(self, chunks: list[bytes]) -> int:
        """Feed every read; the number of frames received."""
        protocol = self._protocol
        assert protocol is not None, "prepare() first"
        for chunk in chunks:
            _feed(protocol, chunk)
        return self._listener.frames


class PicowsWriter:
    """A client-side picows transport past its handshake (it masks what it sends)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: Any = None
        self._raw: _MemoryTransport | None = None
        self.prepare()

    def prepare(self) -> None:
        """A fresh client connection, handshake done (not timed)."""
        async def build() -> tuple[Any, _MemoryTransport]:
            protocol = _protocol(True, _Counting())
            raw = _MemoryTransport()
            protocol.connection_made(raw)
            key = next(line.split(b": ", 1)[1] for line in bytes(raw.handshake).split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            _feed(protocol, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                            b"\r\n\r\n")
            await protocol.wait_until_handshake_complete()
            raw.keep = False
            return protocol.transport, raw
        self.transport, self._raw = self._loop.run_until_complete(build())

    @property
    def written(self) -> int:
        """Bytes written since the handshake."""
        assert self._raw is not None
        return self._raw.count
