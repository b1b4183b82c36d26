"""A trio-websocket echo server: ``python echo_trio.py PORT``; "close" closes
with 4001 "asked"; "which" answers the wsproto in use."""

from __future__ import annotations

import sys

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket


async def echo(request: WebSocketRequest) -> None:
    """Echo every message until the client leaves or asks to close."""
    ws = await request.accept()
    while True:
        try:
            message = await ws.get_message()
        except ConnectionClosed:
            return
        if message == "close":
            await ws.aclose(4001, "asked")
            return
        await ws.send_message(sys.modules["wsproto"].__name__ if message == "which"
                              else message)


async def main(port: int) -> None:
    await serve_websocket(echo, "127.0.0.1", port, ssl_context=None,
                          max_message_size=32 * 2**20)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]))
