"""An asyncio WebSocket echo server built on wsframe.

    python examples/echo_server.py --port 9001

wsframe does no I/O; this file is the I/O. Each connection is an
`asyncio.Protocol`: bytes from the transport go into the handshake parser,
then into a MessageReader, and the bytes a MessageWriter produces go back to
the transport. It echoes text and binary messages, answers pings, completes
the closing handshake, and answers any protocol violation with the Close frame
the ProtocolError carries (1002, 1007 or 1009) before closing the connection.
It negotiates permessage-deflate when a client offers it.

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

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

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

MAX_HEAD = 16 * 1024        # the largest opening handshake accepted
CLOSE_TIMEOUT = 2.0         # how long to wait for the client's Close after ours


class Server:
    """Settings, and the number of connections being served."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.active = 0


class EchoConnection(asyncio.Protocol):
    """One TCP connection: HANDSHAKE, then OPEN, then CLOSING, then closed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.state = "HANDSHAKE"
        self.head = bytearray()
        self.counted = False
        self.transport: asyncio.Transport | None = None
        self.reader: MessageReader | None = None
        self.writer: MessageWriter | None = None

    # -- asyncio callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.state == "HANDSHAKE":
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > MAX_HEAD:
                    self.refuse(HandshakeError("handshake too large", 431))
                return
            data = bytes(self.head[end + 4:])
            self.handshake(bytes(self.head[:end + 4]))
            if not data:
                return
        if self.state in ("OPEN", "CLOSING"):
            self.received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.server.active -= 1
            self.counted = False
        self.state = "CLOSED"

    # Flow control: while the peer does not read our echoes, stop reading its
    # messages, so that memory stays bounded.
    def pause_writing(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    # -- the WebSocket connection -------------------------------------------------

    def handshake(self, raw: bytes) -> None:
        """RFC 6455 section 4: answer the upgrade (and negotiate compression)."""
        assert self.transport is not None
        try:
            head = parse_head(raw)
            key = check_request(head)
            accepted = None
            offered = head.get("Sec-WebSocket-Extensions")
            if offered and not self.server.args.no_deflate:
                accepted = accept_offer(offered, compress_level=self.server.args.compress_level)
        except HandshakeError as exc:
            self.refuse(exc)
            return
        extensions: list[PerMessageDeflate] = []
        response_header = None
        if accepted is not None:
            response_header, deflate = accepted
            extensions.append(deflate)
        self.transport.write(server_response(key, extensions=response_header))
        args = self.server.args
        self.reader = MessageReader(Role.SERVER, max_message_size=args.max_message_size,
                                    max_frame_size=args.max_message_size, extensions=extensions)
        self.writer = MessageWriter(Role.SERVER, extensions=extensions)

        limit = args.max_connections
        if limit is not None and self.server.active >= limit:
            # Load shedding: 1013 Try Again Later, right after the handshake.
            self.close(CloseCode.TRY_AGAIN_LATER,
                       f"server busy: {self.server.active} of {limit} connections in use, "
                       "retry with backoff")
            return
        self.server.active += 1
        self.counted = True
        self.state = "OPEN"

    def received(self, data: bytes) -> None:
        """Feed bytes to the reader and answer every event."""
        assert self.transport is not None and self.reader is not None
        assert self.writer is not None
        write = self.transport.write
        try:
            for event in self.reader.feed(data):
                if self.state == "CLOSING":
                    if isinstance(event, CloseReceived):    # the reply to our Close
                        self.transport.close()
                        return
                    continue
                if isinstance(event, TextMessage):
                    write(self.writer.text(event.text))
                elif isinstance(event, BinaryMessage):
                    write(self.writer.binary(event.data))
                elif isinstance(event, Ping):
                    write(self.writer.pong(event.payload))
                elif isinstance(event, CloseReceived):
                    write(self.writer.close_reply(event))
                    self.transport.close()        # RFC 6455 7.1.1: the server closes TCP
                    return
        except ProtocolError as err:
            # Fail the connection (RFC 6455 7.1.7): say why, then close.
            write(build_close(err.code, err.reason))
            self.transport.close()

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; close TCP when the client answers (or later)."""
        assert self.transport is not None and self.writer is not None
        self.transport.write(self.writer.close(code, reason))
        self.state = "CLOSING"
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.close)

    def refuse(self, error: HandshakeError) -> None:
        """Answer a bad upgrade request with an HTTP error."""
        assert self.transport is not None
        body = f"{error}\n".encode()
        self.transport.write(
            f"HTTP/1.1 {error.status} Bad Request\r\nContent-Length: {len(body)}\r\n"
            "Sec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n".encode() + body)
        self.transport.close()
        self.state = "CLOSED"


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
    loop = asyncio.get_running_loop()
    tcp = await loop.create_server(lambda: EchoConnection(server), args.host, args.port)
    print(f"wsframe echo server on ws://{args.host}:{args.port}/", flush=True)
    async with tcp:
        await tcp.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
