"""A minimal websockets echo server, the anchor of `make bench-wire`.

    python benchmarks/websockets_echo.py --port 9002

No size limit and no compression, like examples/echo_server.py on Autobahn
section 9 (which offers no extensions), so both servers do the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


async def echo(connection: ServerConnection) -> None:
    """Send every message back."""
    # websockets fails some section 9 cases by design (at most 4096 fragments
    # per message); the suite reports them, the traceback adds nothing.
    with contextlib.suppress(ConnectionClosed):
        async for message in connection:
            await connection.send(message)


async def main() -> None:
    """Run until killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9002)
    args = parser.parse_args()
    async with serve(echo, "127.0.0.1", args.port, max_size=None, compression=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
