"""A deliberately broken middlebox: a TCP proxy that damages WebSocket frames.

    python samples/middlebox.py --listen 9102 --upstream 9101 --flip-rsv 3
    python samples/middlebox.py --listen 9102 --upstream 9101 --strip-mask 2

It passes the HTTP handshake through untouched, then forwards whole frames
(it finds them with wsframe's FrameParser), damaging one on the way:
``--flip-rsv N`` sets RSV2 on the server's N-th frame (the client sees a
server break RFC 6455 5.2 and must answer 1002); ``--strip-mask N`` sends
the client's N-th frame on unmasked (the server sees a client break 5.1).
samples/make_captures.py puts it between a real client and the example
server to record what such a box does; `wsframe dissect` on the capture
finds the damaged frame and names the side that sent it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

from wsframe import FrameParser, ProtocolError, Role
from wsframe.masking import apply_mask


class Damage:
    """Forwards one direction frame by frame, damaging the ``target``-th frame."""

    def __init__(self, receiver: Role, target: int, how: str) -> None:
        # The parser reads this direction as its receiver would, without limits.
        self.parser = FrameParser(receiver, max_frame_size=None, extension_rsv=0x40)
        self.target = target
        self.how = how
        self.head = b""
        self.in_head = True
        self.buffer = bytearray()
        self.frames = 0

    def feed(self, data: bytes) -> bytes:
        """Bytes received; the bytes to forward now."""
        if self.in_head:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return b""
            self.in_head = False
            head, rest = self.head[:end + 4], self.head[end + 4:]
            return head + self.feed(rest) if rest else head
        self.buffer += data
        out = bytearray()
        try:
            frames = list(self.parser.feed(data))
        except ProtocolError:
            return bytes(self.buffer)       # not ours to judge: pass the rest on
        for _frame in frames:
            self.frames += 1
            size = _frame_size(self.buffer)
            raw = bytes(self.buffer[:size])
            del self.buffer[:size]
            if self.frames == self.target:
                raw = self._damage(raw)
            out += raw
        return bytes(out)

    def _damage(self, raw: bytes) -> bytes:
        if self.how == "flip-rsv":
            return bytes([raw[0] | 0x20]) + raw[1:]            # RSV2
        # strip-mask: clear the MASK bit, drop the key, unmask the payload
        header = _header_size(raw)
        key = raw[header - 4:header]
        payload = apply_mask(raw[header:], key)
        return bytes([raw[0], raw[1] & 0x7F]) + raw[2:header - 4] + payload


def _header_size(raw: bytes | bytearray) -> int:
    length7 = raw[1] & 0x7F
    return 2 + (2 if length7 == 126 else 8 if length7 == 127 else 0) + \
        (4 if raw[1] & 0x80 else 0)


def _frame_size(raw: bytes | bytearray) -> int:
    header = _header_size(raw)
    length7 = raw[1] & 0x7F
    if length7 == 126:
        length = int.from_bytes(raw[2:4], "big")
    elif length7 == 127:
        length = int.from_bytes(raw[2:10], "big")
    else:
        length = length7
    return header + length


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               damage: Damage | None) -> None:
    """Copy one direction until EOF, through ``damage`` if given."""
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            out = damage.feed(data) if damage is not None else data
            if out:
                writer.write(out)
                await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.write_eof()


async def main(argv: list[str] | None = None) -> None:
    """Listen, and connect each client to the upstream server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--listen", type=int, required=True, help="port to listen on")
    parser.add_argument("--upstream", type=int, required=True, help="the server's port")
    parser.add_argument("--flip-rsv", type=int, metavar="N",
                        help="set RSV2 on the server's N-th frame")
    parser.add_argument("--strip-mask", type=int, metavar="N",
                        help="send the client's N-th frame unmasked")
    args = parser.parse_args(argv)

    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(args.host, args.upstream)
        to_server = Damage(Role.SERVER, args.strip_mask, "strip-mask") \
            if args.strip_mask else None
        to_client = Damage(Role.CLIENT, args.flip_rsv, "flip-rsv") if args.flip_rsv else None
        await asyncio.gather(pipe(client_reader, server_writer, to_server),
                             pipe(server_reader, client_writer, to_client))
        server_writer.close()
        client_writer.close()

    server = await asyncio.start_server(handle, args.host, args.listen)
    print(f"middlebox on {args.host}:{args.listen} -> {args.upstream}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
