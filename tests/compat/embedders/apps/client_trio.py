"""trio-websocket's client: ``python client_trio.py URL``; prints what came back."""

from __future__ import annotations

import sys

import trio
from trio_websocket import open_websocket_url


async def main(url: str) -> None:
    async with open_websocket_url(url, max_message_size=32 * 2**20) as ws:
        for message in ("hello", b"\x00\x01", b"y" * 2**20):
            await ws.send_message(message)
            assert await ws.get_message() == message
        await ws.ping(b"p")
        print("trio-websocket client: ok", sys.modules["wsproto"].__name__)


if __name__ == "__main__":
    trio.run(main, sys.argv[1])
