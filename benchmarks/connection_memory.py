"""Memory per connection: wsframe, websockets and wsproto, with and without compression.

    python benchmarks/connection_memory.py

One server-side connection each (the receiving and the sending side with
their extension state), measured with tracemalloc, which sees zlib's
allocations too: idle (right after the handshake would have negotiated
permessage-deflate) and after traffic (one 2 KiB JSON message received and
one sent). websockets runs with the defaults its servers negotiate
(12-bit windows, memLevel 5); wsproto with its own (15-bit windows); wsframe
with its defaults (`DEFAULT_WINDOW_BITS`, `DEFAULT_MEM_LEVEL`).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import corpus
from websockets.extensions.permessage_deflate import PerMessageDeflate as WsDeflate
from websockets.protocol import Protocol, Side
from wsproto.extensions import PerMessageDeflate as WsprotoDeflate
from wsproto.frame_protocol import FrameProtocol
from wsproto.frame_protocol import Opcode as WsprotoOpcode

from wsframe import MessageReader, MessageWriter, Role
from wsframe.extensions.permessage_deflate import (
    DEFAULT_WINDOW_BITS,
    DeflateParams,
    PerMessageDeflate,
)

MESSAGE = next(m for m in corpus() if 1800 <= len(m) <= 2600 and m.startswith(b"["))
TEXT = MESSAGE.decode()


def client_frames(bits: int) -> bytes:
    """The message as a client with a ``bits``-bit window sends it, compressed."""
    params = DeflateParams(server_max_window_bits=bits, client_max_window_bits=bits)
    return MessageWriter(Role.CLIENT, extensions=[PerMessageDeflate(Role.CLIENT, params)]
                         ).text(TEXT)


def plain_frame() -> bytes:
    return MessageWriter(Role.CLIENT).text(TEXT)


def measure(make: Callable[[], Any], traffic: Callable[[Any], None]) -> tuple[float, float]:
    """KiB held by one connection: idle, then after one message each way."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    connection = make()
    gc.collect()
    idle = tracemalloc.get_traced_memory()[0] - base
    traffic(connection)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del connection
    return idle / 1024, after / 1024


def wsframe_connection(compressed: bool) -> tuple[float, float]:
    wire = client_frames(DEFAULT_WINDOW_BITS) if compressed else plain_frame()
    params = DeflateParams(server_max_window_bits=DEFAULT_WINDOW_BITS,
                           client_max_window_bits=DEFAULT_WINDOW_BITS)

    def make() -> Any:
        extensions = [PerMessageDeflate(Role.SERVER, params)] if compressed else []
        return (MessageReader(Role.SERVER, extensions=extensions),
                MessageWriter(Role.SERVER, extensions=extensions))

    def traffic(connection: Any) -> None:
        reader, writer = connection
        assert len(list(reader.feed(wire))) == 1
        writer.text(TEXT)
    return measure(make, traffic)


def websockets_connection(compressed: bool) -> tuple[float, float]:
    wire = client_frames(12) if compressed else plain_frame()

    def make() -> Any:
        protocol = Protocol(Side.SERVER)
        if compressed:      # what websockets' servers negotiate by default
            protocol.extensions = [WsDeflate(False, False, 12, 12, {"memLevel": 5})]
        return protocol

    def traffic(protocol: Any) -> None:
        protocol.receive_data(wire)
        assert len(protocol.events_received()) == 1
        protocol.send_text(MESSAGE)
        protocol.data_to_send()
    return measure(make, traffic)


def wsproto_connection(compressed: bool) -> tuple[float, float]:
    wire = client_frames(15) if compressed else plain_frame()

    def make() -> Any:
        extensions = []
        if compressed:
            extension = WsprotoDeflate()
            extension.finalize("permessage-deflate")
            extensions.append(extension)
        return FrameProtocol(client=False, extensions=extensions)

    def traffic(protocol: Any) -> None:
        protocol.receive_bytes(wire)
        assert sum(f.message_finished for f in protocol.received_frames()) == 1
        protocol.send_data(TEXT)
    return measure(make, traffic)


CONTENDERS = {"wsframe": wsframe_connection, "websockets": websockets_connection,
              "wsproto": wsproto_connection}
del WsprotoOpcode


def table() -> dict[str, dict[str, tuple[float, float]]]:
    """{contender: {"plain" | "compressed": (idle KiB, after-traffic KiB)}}."""
    for run in CONTENDERS.values():     # warm up: module-level caches are not per connection
        run(False)
        run(True)
    return {name: {"plain": run(False), "compressed": run(True)}
            for name, run in CONTENDERS.items()}


def main() -> None:
    """Print the table."""
    print(f"KiB per server connection (tracemalloc; one {len(MESSAGE):,}-byte JSON message "
          "each way)")
    print(f"{'':12}{'idle':>10}{'after':>10}{'idle, deflate':>16}{'after, deflate':>16}")
    for name, rows in table().items():
        plain, compressed = rows["plain"], rows["compressed"]
        print(f"{name:12}{plain[0]:10.1f}{plain[1]:10.1f}{compressed[0]:16.1f}"
              f"{compressed[1]:16.1f}")


if __name__ == "__main__":
    main()
