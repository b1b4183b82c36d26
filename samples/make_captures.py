"""Record the capture samples: real clients and the example server on loopback,
with tcpdump (Debian's) listening. Needs root (or CAP_NET_RAW) for tcpdump,
and editcap (Wireshark's, installed with tshark) for the pcapng copies.

    python samples/make_captures.py          # (make captures)

* capture-deflate.pcap: a websockets client and examples/echo_server.py with
  permessage-deflate: small and 100 KB messages, a fragmented message, binary,
  a ping, the closing handshake (1000). On lo: Ethernet link type, IPv4.
* capture-1013.pcap: the server at its --max-connections limit sheds a second
  client with 1013 Try Again Later. Over IPv6 (::1), captured on the "any"
  device: Linux cooked capture (SLL2).
* capture-middlebox.pcap: clients through samples/middlebox.py, which sets
  RSV2 on the server's third frame (the client answers 1002) on one
  connection and strips the mask of the client's second frame (the server
  answers 1002) on another; both legs of each are in the capture.
* capture-deflate.pcapng, capture-middlebox.pcapng: the same, as pcapng.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(host: str, port: int) -> None:
    """Until something accepts connections on host:port."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {host}:{port}")


@contextlib.contextmanager
def running(*command: str) -> Iterator[None]:
    """A background process for the duration of the block."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def tcpdump(path: Path, interface: str, ports: list[int],
            linktype: str | None = None) -> Iterator[None]:
    """tcpdump recording the packets of ``ports`` to ``path`` for the block.

    It captures everything on ``interface`` and filters afterwards (tcpdump
    -r): on some virtual machines the kernel's packet filter drops every
    packet, while the same filter run by tcpdump on a file works.
    --immediate-mode: without it the kernel hands packets over in blocks, and
    those of the last block are lost when tcpdump is stopped.
    """
    raw = path.with_suffix(".unfiltered")
    command = ["tcpdump", "-i", interface, "-U", "--immediate-mode", "-w", str(raw)]
    if linktype:
        command += ["-y", linktype]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    proc.stderr.readline()          # "listening on ...": capturing has started
    try:
        yield
    finally:
        time.sleep(0.5)             # the last packets
        proc.terminate()
        proc.wait(10)
        expression = " or ".join(f"tcp port {port}" for port in ports)
        subprocess.run(["tcpdump", "-r", str(raw), "-w", str(path), expression],
                       check=True, stderr=subprocess.DEVNULL)
        raw.unlink()
        os.chmod(path, 0o644)


def server(host: str, port: int, *args: str) -> contextlib.AbstractContextManager[None]:
    """examples/echo_server.py."""
    return running(PYTHON, str(ROOT / "examples" / "echo_server.py"), "--host", host,
                   "--port", str(port), *args)


async def deflate_session(url: str) -> None:
    """A websockets client with compression: a varied, valid exchange."""
    async with connect(url, compression="deflate", max_size=None) as ws:
        await ws.send("Hello, wsframe!")
        assert await ws.recv() == "Hello, wsframe!"
        big = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n"
                      for n in range(2000))
        await ws.send(big)
        assert await ws.recv() == big
        await ws.send(["fragmented ", "message ", "in three parts"])
        assert await ws.recv() == "fragmented message in three parts"
        data = os.urandom(3000)
        await ws.send(data)
        assert await ws.recv() == data
        pong = await ws.ping(b"are you there?")
        await pong
        await ws.close(1000, "bye")


async def shed_session(url: str) -> None:
    """One client gets in; a second one is shed with 1013; then the first leaves."""
    async with connect(url, compression=None) as first:
        await first.send("I got in")
        assert await first.recv() == "I got in"
        async with connect(url, compression=None) as second:
            await asyncio.wait_for(second.wait_closed(), 10)
        assert second.close_code == 1013, second.close_code
        await first.close(1000, "done")


async def broken_session(url: str, messages: int) -> None:
    """A client whose messages or their echoes a middlebox damages."""
    async with connect(url, compression=None) as ws:
        with contextlib.suppress(ConnectionClosed):
            for n in range(1, messages + 1):
                await ws.send(f"message {n}")
                await asyncio.wait_for(ws.recv(), 5)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ws.wait_closed(), 5)


def to_pcapng(path: Path) -> None:
    """The same capture as pcapng (editcap, from Wireshark)."""
    editcap = shutil.which("editcap")
    if editcap is None:
        raise SystemExit("editcap not found: install tshark (apt-get install tshark)")
    target = path.with_suffix(".pcapng")
    subprocess.run([editcap, "-F", "pcapng", str(path), str(target)], check=True)
    os.chmod(target, 0o644)


def main() -> None:
    """Record every sample."""
    if shutil.which("tcpdump") is None:
        raise SystemExit("tcpdump not found: install it (apt-get install tcpdump)")

    port = free_port()
    path = HERE / "capture-deflate.pcap"
    with server("127.0.0.1", port):
        wait_listening("127.0.0.1", port)       # (before the capture starts)
        with tcpdump(path, "lo", [port]):
            asyncio.run(deflate_session(f"ws://127.0.0.1:{port}/chat"))
    to_pcapng(path)

    port = free_port("::1")
    path = HERE / "capture-1013.pcap"
    with server("::1", port, "--max-connections", "1"):
        wait_listening("::1", port)
        with tcpdump(path, "any", [port], "LINUX_SLL2"):
            asyncio.run(shed_session(f"ws://[::1]:{port}/"))

    upstream, flip, strip = free_port(), free_port(), free_port()
    path = HERE / "capture-middlebox.pcap"
    middlebox = str(HERE / "middlebox.py")
    with server("127.0.0.1", upstream), \
            running(PYTHON, middlebox, "--listen", str(flip), "--upstream", str(upstream),
                    "--flip-rsv", "3"), \
            running(PYTHON, middlebox, "--listen", str(strip), "--upstream", str(upstream),
                    "--strip-mask", "2"):
        for listening in (upstream, flip, strip):
            wait_listening("127.0.0.1", listening)
        with tcpdump(path, "lo", [upstream, flip, strip]):
            asyncio.run(broken_session(f"ws://127.0.0.1:{flip}/", 4))
            asyncio.run(broken_session(f"ws://127.0.0.1:{strip}/", 3))
    to_pcapng(path)
    for name in sorted(HERE.glob("capture-*")):
        print(f"{name.relative_to(ROOT)}: {name.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
