"""An asyncio WebSocket echo server built on wsframe.

    python examples/echo_server.py --port 9001

wsframe does no I/O; this file is the I/O: it reads the opening handshake,
answers it, then shuttles bytes between the socket and a MessageReader /
MessageWriter pair. It echoes text and binary messages, answers pings,
completes the closing handshake, and answers any protocol violation with the
close frame the ProtocolError carries (1002, 1007 or 1009) before closing
the TCP connection.

With ``--max-connections N`` it behaves like a loaded server shedding load:
a client beyond the N-th completes the handshake and is immediately closed
with 1013 (Try Again Later), which tells it to come back after a backoff.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wsframe import CloseCode, ProtocolError, Role, build_close
from wsframe.extensions.permessage_deflate import PerMessageDeflate, accept_offer
from wsframe.handshake import HandshakeError, check_request, parse_head, server_response
from wsframe.messages import (
    BinaryMessage,
    CloseReceived,
    MessageReader,
    MessageWriter,
    Ping,
    TextMessage,
)

STREAM_LIMIT = 2**20   # also the largest handshake head accepted
READ_SIZE = 256 * 1024


class Server:
    """Shared state: settings and the number of connections being served."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.active = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one TCP connection from the handshake to the close."""
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # -- opening handshake (RFC 6455 section 4) --------------------------
        raw = await reader.readuntil(b"\r\n\r\n")
        try:
            head = parse_head(raw)
            key = check_request(head)
            # permessage-deflate (RFC 7692) when the client offers it.
            accepted = None
            offered = head.get("Sec-WebSocket-Extensions")
            if offered and not self.args.no_deflate:
                accepted = accept_offer(offered, compress_level=self.args.compress_level)
        except HandshakeError as exc:
            body = f"{exc}\n".encode()
            writer.write(f"HTTP/1.1 {exc.status} Bad Request\r\nContent-Length: {len(body)}\r\n"
                         "Sec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
            return
        extensions: list[PerMessageDeflate] = []
        response_header = None
        if accepted is not None:
            response_header, deflate = accepted
            extensions.append(deflate)
        writer.write(server_response(key, extensions=response_header))

        # -- load shedding: 1013 Try Again Later ------------------------------
        limit = self.args.max_connections
        if limit is not None and self.active >= limit:
            writer.write(build_close(CloseCode.TRY_AGAIN_LATER,
                                     f"server busy: {self.active} of {limit} connections in "
                                     "use, retry with backoff"))
            await writer.drain()
            await _wait_for_close(reader)
            return

        self.active += 1
        try:
            await self._echo(reader, writer, extensions)
        finally:
            self.active -= 1

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    extensions: list[PerMessageDeflate]) -> None:
        incoming = MessageReader(Role.SERVER, max_message_size=self.args.max_message_size,
                                 max_frame_size=self.args.max_message_size,
                                 extensions=extensions)
        outgoing = MessageWriter(Role.SERVER, extensions=extensions)
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                return                      # the peer closed TCP without a Close frame
            try:
                for event in incoming.feed(data):
                    if isinstance(event, TextMessage):
                        writer.write(outgoing.text(event.text))
                    elif isinstance(event, BinaryMessage):
                        writer.write(outgoing.binary(event.data))
                    elif isinstance(event, Ping):
                        writer.write(outgoing.pong(event.payload))
                    elif isinstance(event, CloseReceived):
                        writer.write(outgoing.close_reply(event))
                        await writer.drain()
                        return              # RFC 6455 7.1.1: the server closes TCP first
            except ProtocolError as err:
                # Fail the connection (RFC 6455 7.1.7): say why, then close.
                writer.write(build_close(err.code, err.reason))
                await writer.drain()
                return
            await writer.drain()


async def _wait_for_close(reader: asyncio.StreamReader, timeout: float = 2.0) -> None:
    """After sending a Close, give the peer a moment to answer before closing TCP."""
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
        await asyncio.wait_for(reader.read(4096), timeout)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--max-message-size", type=int, default=64 * 2**20,
                        help="largest message accepted, in bytes (default 64 MiB)")
    parser.add_argument("--max-connections", type=int, default=None,
                        help="close clients beyond this many with 1013 Try Again Later")
    parser.add_argument("--no-deflate", action="store_true",
                        help="never negotiate permessage-deflate (RFC 7692)")
    parser.add_argument("--compress-level", type=int, default=1, choices=range(1, 10),
                        metavar="1-9", help="zlib level for permessage-deflate (default 1: "
                        "most of the gain for a fraction of the CPU of zlib's default 6)")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    """Run the server until killed."""
    args = parse_args(argv)
    server = Server(args)
    tcp = await asyncio.start_server(server.handle, args.host, args.port, limit=STREAM_LIMIT)
    print(f"wsframe echo server on ws://{args.host}:{args.port}/", flush=True)
    async with tcp:
        await tcp.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
