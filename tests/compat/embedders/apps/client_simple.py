"""simple-websocket's client: ``python client_simple.py URL``; prints what came back."""

from __future__ import annotations

import sys

import simple_websocket

ws = simple_websocket.Client.connect(sys.argv[1], max_message_size=32 * 2**20)
for message in ("hello", b"\x00\x01", b"y" * 2**20):
    ws.send(message)
    assert ws.receive(timeout=10) == message
ws.close()
print("simple-websocket client: ok", sys.modules["wsproto"].__name__)
