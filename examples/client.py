"""An asyncio WebSocket client built on wsframe, with reconnect backoff.

    python examples/client.py ws://127.0.0.1:9001/ --messages 3

It opens the connection (RFC 6455 section 4 handshake, offering
permessage-deflate), sends text messages and checks their echoes, then
closes. When the server turns it away, it follows `reconnect_advice`:

* 1013 Try Again Later (and 1012, 1006): wait as `Backoff` says (1 s,
  doubling, full jitter; ``--initial-delay`` shortens it for tests) and try
  again, up to ``--max-attempts`` times;
* 1002 Protocol Error and the other "fix it first" codes: stop and report;
  reconnecting unchanged would fail the same way.

Exit status: 0 when the messages went through, 1 when the client gave up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

from wsframe import (
    BinaryMessage,
    CloseReceived,
    MessageReader,
    MessageWriter,
    Ping,
    ProtocolError,
    Role,
    TextMessage,
    build_close,
)
from wsframe.backoff import Backoff, reconnect_advice
from wsframe.extensions.permessage_deflate import (
    DeflateParams,
    PerMessageDeflate,
    accept_response,
    offer,
)
from wsframe.handshake import HandshakeError, check_response, client_request, parse_head

READ_SIZE = 256 * 1024


class Closed(Exception):
    """The server closed the connection; ``code`` is its close code (None: no code)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed by the server: {code} {reason!r}")
        self.code = code
        self.reason = reason


@dataclass
class ClientConnection:
    """One open WebSocket connection: the I/O around a MessageReader/Writer pair."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    incoming: MessageReader
    outgoing: MessageWriter
    pending: list[object] = field(default_factory=list)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self) -> TextMessage | BinaryMessage:
        """The next data message; answers pings; raises Closed on a Close frame."""
        while True:
            while self.pending:
                event = self.pending.pop(0)
                if isinstance(event, (TextMessage, BinaryMessage)):
                    return event
                if isinstance(event, Ping):
                    await self.send(self.outgoing.pong(event.payload))
                elif isinstance(event, CloseReceived):
                    with contextlib.suppress(ConnectionError):
                        await self.send(self.outgoing.close_reply(event))
                    self.writer.close()
                    raise Closed(event.code, event.reason)
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise Closed(1006, "connection lost without a Close frame")
            try:
                self.pending.extend(self.incoming.feed(data))
            except ProtocolError as err:
                # The server broke the protocol: say why, then close.
                await self.send(build_close(err.code, err.reason, mask=os.urandom(4)))
                self.writer.close()
                raise

    async def close(self, code: int = 1000, reason: str = "") -> CloseReceived | None:
        """Run the closing handshake; return the server's Close (None if it sent none)."""
        await self.send(self.outgoing.close(code, reason))
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(READ_SIZE), 10)
                if not data:
                    return None
                for event in self.incoming.feed(data):
                    if isinstance(event, CloseReceived):
                        return event
        finally:
            self.writer.close()


async def connect(url: str, *, deflate: bool = True,
                  deflate_params: DeflateParams | None = None) -> ClientConnection:
    """Open a WebSocket connection to ``url`` (ws:// only); ``deflate_params`` is
    the permessage-deflate offer (the library's default offer if None)."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"only ws:// URLs are supported, not {url!r}")
    port = parts.port or 80
    reader, writer = await asyncio.open_connection(parts.hostname, port, limit=2**20)
    host = parts.hostname if port == 80 else f"{parts.hostname}:{port}"
    request, key = client_request(host, parts.path or "/",
                                  extensions=offer(deflate_params) if deflate else None)
    writer.write(request)
    await writer.drain()
    head = parse_head(await reader.readuntil(b"\r\n\r\n"))
    check_response(head, key)
    extensions: list[PerMessageDeflate] = []
    answered = head.get("Sec-WebSocket-Extensions")
    if answered:
        if not deflate:
            raise HandshakeError(f"the server answered with extensions never offered: "
                                 f"{answered}")
        extensions.append(accept_response(answered, deflate_params))
    return ClientConnection(reader, writer,
                      MessageReader(Role.CLIENT, max_message_size=None, max_frame_size=None,
                                    extensions=extensions),
                      MessageWriter(Role.CLIENT, extensions=extensions))


async def exchange(url: str, messages: int, *, deflate: bool = True) -> None:
    """Connect, send ``messages`` text messages, check each echo, close."""
    connection = await connect(url, deflate=deflate)
    for number in range(messages):
        text = f"hello {number} from the wsframe client"
        await connection.send(connection.outgoing.text(text))
        echo = await asyncio.wait_for(connection.receive(), 30)
        if echo != TextMessage(text):
            raise AssertionError(f"bad echo: {echo!r}")
    await connection.close(1000)


@dataclass
class Attempt:
    """What happened on one connection attempt (for reports and tests)."""

    number: int
    outcome: str
    code: int | None = None
    waited: float = 0.0


async def run(url: str, messages: int, *, initial_delay: float = 1.0, max_attempts: int = 6,
              deflate: bool = True, log: bool = True) -> list[Attempt]:
    """Exchange messages, reconnecting with backoff when the server says so."""
    backoff = Backoff(initial=initial_delay, max_delay=max(initial_delay * 32, 1.0))
    attempts: list[Attempt] = []
    for number in range(1, max_attempts + 1):
        try:
            await exchange(url, messages, deflate=deflate)
        except Closed as closed:
            advice = reconnect_advice(closed.code)
            attempt = Attempt(number, "closed", closed.code)
            attempts.append(attempt)
            if log:
                print(f"attempt {number}: server closed with {closed.code} "
                      f"{closed.reason!r}: {advice.summary}", flush=True)
            if advice.reconnect is False or number == max_attempts:
                return attempts                     # e.g. 1002: fix it, do not retry
            attempt.waited = backoff.next_delay()
            if log:
                print(f"  waiting {attempt.waited:.2f} s before attempt {number + 1}",
                      flush=True)
            await asyncio.sleep(attempt.waited)
            continue
        except ProtocolError as err:
            attempts.append(Attempt(number, "protocol-error", err.code))
            if log:
                print(f"attempt {number}: the server broke the protocol: {err}", flush=True)
            return attempts
        attempts.append(Attempt(number, "ok"))
        if log:
            print(f"attempt {number}: {messages} messages echoed, closed with 1000", flush=True)
        backoff.reset()
        return attempts
    return attempts


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--initial-delay", type=float, default=1.0,
                        help="first backoff delay in seconds (default 1)")
    parser.add_argument("--max-attempts", type=int, default=6)
    parser.add_argument("--no-deflate", action="store_true")
    args = parser.parse_args(argv)
    attempts = asyncio.run(run(args.url, args.messages, initial_delay=args.initial_delay,
                               max_attempts=args.max_attempts, deflate=not args.no_deflate))
    return 0 if attempts and attempts[-1].outcome == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
