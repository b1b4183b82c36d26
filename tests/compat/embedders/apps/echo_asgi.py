"""An ASGI echo app (for hypercorn): every message back as it came;
"close" closes with 4001 "asked"; "which" answers the wsproto in use."""

from __future__ import annotations

import sys
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, echo until the client leaves or asks to close."""
    if scope["type"] != "websocket":
        return
    await receive()                                     # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") == "close":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked"})
            return
        if event.get("text") == "which":
            await send({"type": "websocket.send", "text": sys.modules["wsproto"].__name__})
            continue
        await send({"type": "websocket.send", "text": event.get("text"),
                    "bytes": event.get("bytes")})
