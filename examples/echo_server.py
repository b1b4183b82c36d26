"""An asyncio WebSocket echo server built on wsframe.

    python examples/echo_server.py --port 9001

wsframe does no I/O; this file is the I/O. Each connection is an
`asyncio.Protocol`: bytes from the transport go into a `HeadReader` until
the request head is complete, then into a `Connection`, whose
`data_to_send` goes back to the transport. It echoes text and binary
messages; the `Connection` answers pings, completes the closing handshake,
and answers a protocol violation with the Close frame the ProtocolError
carries (1002, 1007 or 1009), never with a second one. It negotiates
permessage-deflate when a client offers it.

What a server that faces the internet needs, and this one has:

* a size cap on the request head (431) and a time limit for it (408): a
  client sending a byte a second cannot hold a connection open;
* an idle timeout (no bytes for ``--idle-timeout`` seconds: Close 1001) and
  a close timeout (no reply ``--close-timeout`` seconds after our Close);
* a cap on memory held across connections (``--max-buffered``): partial
  messages count against it, and the connection that would go over is
  closed at once with 1013 Try Again Later;
* flow control: while a client does not read our echoes, we stop reading it.

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

from wsframe import (
    BinaryMessage,
    CloseCode,
    Connection,
    ProtocolError,
    Role,
    State,
    TextMessage,
)
from wsframe.extensions.permessage_deflate import PerMessageDeflate, accept_offer
from wsframe.handshake import HandshakeError, HeadReader, check_request, rejection, server_response


class Server:
    """Settings, and what the connections share: their number and their memory."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.active = 0          # connections past the handshake, not shed
        self.buffered = 0        # bytes held for partial messages, all connections


class EchoConnection(asyncio.Protocol):
    """One TCP connection: the handshake, then WebSocket messages until it closes."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.args = server.args
        self.head = HeadReader(self.args.max_head_size)
        self.counted = False
        self.buffered = 0        # this connection's share of server.buffered
        self.transport: asyncio.Transport | None = None
        self.connection: Connection | None = None
        self.loop = asyncio.get_running_loop()
        self.timer: asyncio.TimerHandle | None = None
        self.last_activity = self.loop.time()
        self.draining = False    # shed for memory: discard input until the client leaves

    # -- asyncio callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.timer = self.loop.call_later(self.args.handshake_timeout, self.handshake_too_slow)

    def data_received(self, data: bytes) -> None:
        self.last_activity = self.loop.time()
        if self.draining:
            return
        if self.connection is not None:
            self.received(data)
            return
        try:
            head = self.head.feed(data)
            if head is None:
                return
            key = check_request(head)
            accepted = None
            offered = head.get("Sec-WebSocket-Extensions")
            if offered and not self.args.no_deflate:
                accepted = accept_offer(offered, compress_level=self.args.compress_level)
        except HandshakeError as exc:
            self.refuse(exc.response())
            return
        self.accept(key, accepted)
        if self.head.remainder:
            self.received(self.head.remainder)

    def eof_received(self) -> bool:
        return False            # the client closed its side: close ours too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.server.active -= 1
            self.counted = False
        self.account(0)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # Flow control: while the peer does not read our echoes, stop reading its
    # messages, so that memory stays bounded.
    def pause_writing(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    # -- the WebSocket connection -------------------------------------------------

    def accept(self, key: str, accepted: tuple[str, PerMessageDeflate] | None) -> None:
        """RFC 6455 4.2.2: the 101 answer, then a Connection (with compression if agreed)."""
        assert self.transport is not None
        extensions: list[PerMessageDeflate] = []
        response_header = None
        if accepted is not None:
            response_header, deflate = accepted
            extensions.append(deflate)
        self.transport.write(server_response(key, extensions=response_header))
        self.connection = Connection(Role.SERVER, max_message_size=self.args.max_message_size,
                                     extensions=extensions)
        self.restart_timer(self.args.idle_timeout, self.idle_check)
        limit = self.args.max_connections
        if limit is not None and self.server.active >= limit:
            # Load shedding: 1013 Try Again Later, right after the handshake.
            self.close(CloseCode.TRY_AGAIN_LATER,
                       f"server busy: {self.server.active} of {limit} connections in use, "
                       "retry with backoff")
            return
        self.server.active += 1
        self.counted = True

    def received(self, data: bytes) -> None:
        """Feed bytes to the connection and echo every message."""
        connection = self.connection
        assert self.transport is not None and connection is not None
        try:
            for event in connection.feed(data):
                # Once our Close is sent (1013 when shedding load, 1001 when
                # idle) the peer may still send messages it wrote before it
                # read our Close: they are read, and not answered (RFC 6455
                # 5.5.1: nothing is sent after a Close; sending would raise
                # ConnectionClosed).
                if connection.state is not State.OPEN:
                    continue
                if isinstance(event, TextMessage):
                    connection.send_text(event.text)
                elif isinstance(event, BinaryMessage):
                    connection.send_binary(event.data)
        except ProtocolError:
            pass        # the Connection queued the Close frame with the error's code
        self.flush()
        if connection.state is State.CLOSED:
            self.transport.close()          # RFC 6455 7.1.1: the server closes TCP
            return
        if not self.account(connection.buffered):
            self.shed_for_memory()

    def shed_for_memory(self) -> None:
        """Over the memory shared by all connections: Close 1013 now, and drop
        this connection's partial message at once.

        Its later bytes are read and discarded rather than left unread: closing
        a socket with unread input makes the kernel send a reset, which can
        destroy the Close frame before the client reads it. We half-close
        instead, and close when the client does (or after --close-timeout).
        """
        assert self.transport is not None and self.connection is not None
        self.connection.close(CloseCode.TRY_AGAIN_LATER,
                              "server memory limit reached, retry with backoff")
        self.flush()
        self.connection = None      # frees the partial message
        self.draining = True
        self.account(0)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.restart_timer(self.args.close_timeout, self.give_up)

    def account(self, buffered: int) -> bool:
        """Update this connection's share of the buffered bytes; False if over the cap."""
        self.server.buffered += buffered - self.buffered
        self.buffered = buffered
        cap = self.args.max_buffered
        return cap is None or self.server.buffered <= cap

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake; close TCP when the client answers (or later)."""
        assert self.connection is not None
        self.connection.close(code, reason)
        self.flush()
        self.restart_timer(self.args.close_timeout, self.give_up)

    def flush(self) -> None:
        assert self.transport is not None and self.connection is not None
        data = self.connection.data_to_send()
        if data:
            self.transport.write(data)

    def refuse(self, response: bytes) -> None:
        """Answer a bad upgrade request with an HTTP error, then close."""
        assert self.transport is not None
        self.transport.write(response)
        self.transport.close()

    # -- timers ---------------------------------------------------------------------

    def restart_timer(self, delay: float, callback: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(delay, callback)  # type: ignore[arg-type]

    def handshake_too_slow(self) -> None:
        """The request head did not arrive in time (slowloris): 408, then close."""
        self.timer = None
        if self.connection is None:
            self.refuse(rejection(408, body=b"the request head took too long\n"))

    def idle_check(self) -> None:
        """No bytes for --idle-timeout seconds: Close 1001 (going away)."""
        self.timer = None
        idle = self.loop.time() - self.last_activity
        if idle < self.args.idle_timeout:
            self.restart_timer(self.args.idle_timeout - idle, self.idle_check)
            return
        if self.connection is not None and self.connection.state is State.OPEN:
            self.close(CloseCode.GOING_AWAY, "idle timeout")

    def give_up(self) -> None:
        """No reply to our Close in time: close TCP anyway (RFC 6455 7.1.1)."""
        self.timer = None
        if self.transport is not None:
            self.transport.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--max-message-size", type=int, default=64 * 2**20,
                        help="largest message accepted, in bytes (default 64 MiB)")
    parser.add_argument("--max-buffered", type=int, default=256 * 2**20,
                        help="bytes of partial messages held across all connections "
                        "(default 256 MiB); over it, the connection is closed with 1013")
    parser.add_argument("--max-head-size", type=int, default=16 * 1024,
                        help="largest request head, in bytes (default 16 KiB; 431 above)")
    parser.add_argument("--handshake-timeout", type=float, default=10.0,
                        help="seconds for the request head to arrive (default 10; 408 after)")
    parser.add_argument("--idle-timeout", type=float, default=300.0,
                        help="seconds without a byte before Close 1001 (default 300)")
    parser.add_argument("--close-timeout", type=float, default=2.0,
                        help="seconds to wait for the client's Close after ours (default 2)")
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
