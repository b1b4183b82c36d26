"""wsframe against websockets and wsproto, side by side, in one run.

    python benchmarks/bench.py            # the full run (`make bench`, a few minutes)
    python benchmarks/bench.py --quick    # a smoke run (what CI checks)

Every contender parses the same pre-built byte streams with the same loop
shape (make a receiver, feed every read, count what comes out). Timings are
the best of several rounds; rounds interleave the contenders so that a noisy
neighbour on this shared machine slows everyone alike. Ratios are taken
within this run only.

This process measures wsframe in pure Python (it sets WSFRAME_NO_ACCEL=1
before importing wsframe); it runs itself again in child processes without
that variable for the "with the accelerator" rows, on wsframe's own C
masking helper (`make speedups`, the rows the targets are checked on), and
in the compiled build's venv (`make compiled`). websockets' sans-I/O `Protocol`
(its C speedups loaded, as installed from PyPI) is the anchor.

The "masking ceiling" at a size is what one call of wsframe's pure-Python
`apply_mask_python` on one buffer of that size achieves, measured in the same
run: the most a pure-Python receiver that must unmask every byte can do.

glibc's malloc is told (GLIBC_TUNABLES, set by re-running itself) to keep
freed memory instead of returning it to the OS. On this virtual machine a
page fault costs microseconds, so otherwise whether a 1 MiB buffer is fresh
memory or reused decides a large-message row more than any contender's code,
and changes from one run to the next. Every contender runs under the same
setting.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TUNABLES = "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967295"
if os.environ.get("GLIBC_TUNABLES") != TUNABLES:    # see the module documentation
    os.execve(sys.executable, [sys.executable, *sys.argv],
              {**os.environ, "GLIBC_TUNABLES": TUNABLES})

# Children: --accelerated (this venv, accelerator on), --compiled (.venv-compiled).
ACCELERATED = "--accelerated" in sys.argv or "--compiled" in sys.argv
if not ACCELERATED:
    os.environ["WSFRAME_NO_ACCEL"] = "1"     # before wsframe is imported

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))

import connection_memory
import corpus
import websockets
import websockets.frames as ws_frames
import wsproto
from websockets.extensions.permessage_deflate import PerMessageDeflate as WsDeflate
from websockets.protocol import Protocol, Side
from wsproto.extensions import PerMessageDeflate as WsprotoDeflate
from wsproto.frame_protocol import FrameProtocol

import wsframe
from wsframe import FrameParser, MessageReader, MessageWriter, Opcode, Role, build_frame, masking
from wsframe.extensions.permessage_deflate import (
    DEFAULT_WINDOW_BITS,
    DeflateParams,
    PerMessageDeflate,
)

MiB = 2**20
KEY = bytes.fromhex("37fa213d")


def websockets_speedups() -> str:
    """Whether websockets' C extension does its masking."""
    module = getattr(ws_frames, "apply_mask", None)
    name = getattr(module, "__module__", "")
    return "C speedups loaded" if "speedups" in name else "pure Python"


# -- streams -----------------------------------------------------------------------

def payload_of(size: int) -> bytes:
    """ASCII text (valid UTF-8), used for text and binary alike."""
    return (b"wsframe benchmark " * (size // 18 + 1))[:size]


def masked_stream(count: int, size: int, opcode: Opcode = Opcode.BINARY) -> bytes:
    """``count`` masked frames of ``size`` bytes, each with its own random key."""
    payload = payload_of(size)
    return b"".join(build_frame(opcode, payload, mask=os.urandom(4)) for _ in range(count))


def reads(stream: bytes, size: int | None, limit: int | None = None) -> list[bytes]:
    """``stream`` (its first ``limit`` bytes) cut into reads of ``size`` bytes."""
    data = stream if limit is None else stream[:limit]
    if size is None:
        return [data]
    return [data[i:i + size] for i in range(0, len(data), size)]


# -- contenders --------------------------------------------------------------------
# Each returns a function that parses `chunks` from scratch and returns the
# number of complete frames (or messages) it got.

def wsframe_frames(chunks: list[bytes]) -> Callable[[], int]:
    def run() -> int:
        parser = FrameParser(Role.SERVER, max_frame_size=None)
        count = 0
        for chunk in chunks:
            for _frame in parser.feed(chunk):
                count += 1
        return count
    return run


def wsframe_messages(chunks: list[bytes]) -> Callable[[], int]:
    def run() -> int:
        reader = MessageReader(Role.SERVER, max_message_size=None)
        count = 0
        for chunk in chunks:
            for _event in reader.feed(chunk):
                count += 1
        return count
    return run


def websockets_protocol(chunks: list[bytes]) -> Callable[[], int]:
    def run() -> int:
        protocol = Protocol(Side.SERVER, max_size=None)
        count = 0
        for chunk in chunks:
            protocol.receive_data(chunk)
            count += len(protocol.events_received())
        return count
    return run


class _AiohttpProtocol:
    """What aiohttp's data queue calls back for flow control (nothing, here)."""

    _reading_paused = False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def aiohttp_reader(chunks: list[bytes]) -> Callable[[], int]:
    """aiohttp's WebSocket reader (its Cython build when installed from a wheel)."""
    import asyncio

    from aiohttp._websocket import reader as aiohttp_websocket

    class Counting(aiohttp_websocket.WebSocketDataQueue):  # type: ignore[misc]
        messages = 0

        def feed_data(self, data: object, size: int) -> None:
            self.messages += 1

    loop = asyncio.new_event_loop()

    def run() -> int:
        queue = Counting(_AiohttpProtocol(), 2**30, loop=loop)
        reader = aiohttp_websocket.WebSocketReader(queue, 0, compress=False, decode_text=True)
        for chunk in chunks:
            reader.feed_data(chunk)
        return int(queue.messages)
    return run


def aiohttp_flavour() -> str:
    from aiohttp._websocket import reader as aiohttp_websocket
    return "Cython" if aiohttp_websocket.WebSocketReader.__module__.endswith("_c") \
        else "pure Python"


def wsproto_frames(chunks: list[bytes]) -> Callable[[], int]:
    def run() -> int:
        protocol = FrameProtocol(client=False, extensions=[])
        count = 0
        for chunk in chunks:
            protocol.receive_bytes(chunk)
            for frame in protocol.received_frames():
                count += frame.frame_finished
        return count
    return run


# -- timing ------------------------------------------------------------------------

def best_times(functions: dict[str, Callable[[], int]], rounds: int, expect: int | None
               ) -> dict[str, float]:
    """Best wall time of each function over interleaved rounds (after a warm-up)."""
    for name, function in functions.items():
        got = function()
        if expect is not None and got != expect:
            raise SystemExit(f"{name} produced {got} results, expected {expect}")
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            gc.collect()
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def ceiling(size: int, rounds: int) -> float:
    """MB/s of one pure-Python apply_mask call on one buffer of ``size`` bytes."""
    data = os.urandom(size)
    loops = max(1, (2 * MiB) // size)

    def run() -> int:
        for _ in range(loops):
            masking.apply_mask_python(data, KEY)
        return loops
    seconds = best_times({"ceiling": run}, rounds, loops)["ceiling"]
    return size * loops / seconds / 1e6


class Table:
    """Collects rows and prints them aligned."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, *cells: str) -> None:
        self.rows.append(cells)

    def print(self) -> None:
        widths = [max(len(r[i]) for r in self.rows if len(r) > i)
                  for i in range(max(map(len, self.rows)))]
        for row in self.rows:
            if len(row) == 1:
                print(row[0])
                continue
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(row, widths, strict=False))))


class Targets:
    """The issue's targets: ratios within this run, each checked."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, bool]] = []   # what, ratio, target, at most

    def at_least(self, what: str, ratio: float, target: float) -> None:
        self.rows.append((what, ratio, target, False))

    def at_most(self, what: str, ratio: float, target: float) -> None:
        self.rows.append((what, ratio, target, True))

    def print(self) -> int:
        missed = 0
        for what, ratio, target, at_most in self.rows:
            ok = ratio <= target if at_most else ratio >= target
            missed += not ok
            sign = "<=" if at_most else ">="
            print(f"  {'ok  ' if ok else 'MISS'} {what}: {ratio:.2f} (target {sign} {target})")
        return missed


# -- sections ------------------------------------------------------------------------

def compare_parsers(table: Table, title: str, stream: bytes, frames: int, rounds: int,
                    chunk: int | None = None, aiohttp: bool = False) -> dict[str, float]:
    """Time every parser on ``stream`` and add rows; return frames/s by contender."""
    chunks = reads(stream, chunk)
    contenders = {"wsframe FrameParser": wsframe_frames(chunks),
                  "wsframe MessageReader": wsframe_messages(chunks),
                  "websockets Protocol": websockets_protocol(chunks),
                  "wsproto FrameProtocol": wsproto_frames(chunks)}
    if aiohttp:
        contenders[f"aiohttp WebSocketReader ({aiohttp_flavour()})"] = aiohttp_reader(chunks)
    times = best_times(contenders, rounds, frames)
    anchor = times["websockets Protocol"]
    table.add(f"{title}")
    rates = {}
    for name, seconds in times.items():
        rate = frames / seconds
        rates[name] = rate
        table.add(f"  {name}", f"{rate:,.0f} frames/s", f"{len(stream) / seconds / 1e6:,.1f} MB/s",
                  f"{anchor / seconds:.2f}x websockets",
                  f"{times['wsproto FrameProtocol'] / seconds:.2f}x wsproto")
    return rates


READ_SIZES = (1, 1460, 16384, 65536)
FIRST_BYTES = 128 * 1024        # fed byte by byte: the first 128 KiB only


def large_messages(rounds: int, scale: int) -> dict[str, dict[str, float]]:
    """One 1 MiB masked message in reads of N bytes: MB/s for wsframe and websockets."""
    size = MiB // scale
    results: dict[str, dict[str, float]] = {}
    for kind, opcode in (("binary", Opcode.BINARY), ("text", Opcode.TEXT)):
        stream = masked_stream(1, size, opcode)
        for read in READ_SIZES:
            chunks = reads(stream, read, FIRST_BYTES // scale if read == 1 else None)
            expect = 0 if read == 1 else 1
            times = best_times({"wsframe": wsframe_messages(chunks),
                                "websockets": websockets_protocol(chunks)},
                               max(1, rounds // 2) if read == 1 else rounds, expect)
            fed = sum(map(len, chunks))
            results[f"{kind} {read}"] = {name: fed / seconds / 1e6
                                         for name, seconds in times.items()}
    return results


WRITE_SIZES = (1024, 65536, MiB)


def writers(rounds: int, scale: int) -> dict[str, dict[str, float]]:
    """Client-role (masking) writers: MB/s of binary messages of each size."""
    results: dict[str, dict[str, float]] = {}
    for size in WRITE_SIZES:
        payload = payload_of(size)
        count = max(2, (8 * MiB // scale) // size)
        writer = MessageWriter(Role.CLIENT)
        protocol = Protocol(Side.CLIENT)

        def wsframe_writer(payload: bytes = payload, count: int = count,
                           writer: MessageWriter = writer) -> int:
            for _ in range(count):
                writer.binary(payload)
            return count

        def websockets_writer(payload: bytes = payload, count: int = count,
                              protocol: Protocol = protocol) -> int:
            for _ in range(count):
                protocol.send_binary(payload)
                protocol.data_to_send()
            return count

        times = best_times({"wsframe": wsframe_writer, "websockets": websockets_writer},
                           rounds, count)
        results[str(size)] = {name: size * count / seconds / 1e6
                              for name, seconds in times.items()}
    return results


def print_large(large: dict[str, dict[str, float]], ceilings: dict[int, float] | None,
                scale: int) -> None:
    table = Table()
    table.add("read size", "", "wsframe", "websockets", "wsframe/websockets",
              "wsframe/ceiling" if ceilings else "")
    for key, rates in large.items():
        kind, read = key.split()
        label = f"  {kind}, reads of {int(read):,} B" + (
            f" (first {FIRST_BYTES // scale // 1024} KiB)" if read == "1" else "")
        ratio = rates["wsframe"] / rates["websockets"]
        row = [label, "", f"{rates['wsframe']:,.1f} MB/s", f"{rates['websockets']:,.1f} MB/s",
               f"{ratio:.2f}x"]
        if ceilings and read != "1":
            row.append(f"{rates['wsframe'] / ceilings[int(read)]:.2f}x")
        table.add(*row)
    table.print()


def print_writers(write: dict[str, dict[str, float]], ceilings: dict[int, float] | None) -> None:
    table = Table()
    for key, rates in write.items():
        size = int(key)
        row = [f"  {size // 1024:,} KiB binary, client role (masked)",
               f"{rates['wsframe']:,.1f} MB/s", f"{rates['websockets']:,.1f} MB/s",
               f"{rates['wsframe'] / rates['websockets']:.2f}x websockets"]
        if ceilings:
            row.append(f"{rates['wsframe'] / ceilings[size]:.2f}x ceiling")
        table.add(*row)
    table.print()


def deflate_corpus(rounds: int, scale: int) -> dict[str, tuple[float, float, float]]:
    """Each contender's defaults on the corpus: (wire/raw, send MB/s, receive MB/s)."""
    messages = corpus.corpus(count=600 // scale)
    raw = sum(map(len, messages))
    texts = [m.decode() for m in messages]
    params = DeflateParams(server_max_window_bits=DEFAULT_WINDOW_BITS,
                           client_max_window_bits=DEFAULT_WINDOW_BITS)
    sender = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER, params)])
    wire = {"wsframe (defaults)": b"".join([sender.text(t) for t in texts])}

    def wsframe_send() -> int:
        writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER, params)])
        for text in texts:
            writer.text(text)
        return len(texts)

    def wsframe_receive() -> int:
        reader = MessageReader(Role.CLIENT, max_message_size=None,
                               extensions=[PerMessageDeflate(Role.CLIENT, params)])
        return len(list(reader.feed(wire["wsframe (defaults)"])))

    def websockets_protocol_deflate(side: Side) -> Protocol:
        protocol = Protocol(side, max_size=None)
        protocol.extensions = [WsDeflate(False, False, 12, 12, {"memLevel": 5})]
        return protocol

    def websockets_send() -> int:
        protocol = websockets_protocol_deflate(Side.SERVER)
        for text in texts:
            protocol.send_text(text.encode())
        wire["websockets (defaults)"] = b"".join(protocol.data_to_send())
        return len(texts)

    def websockets_receive() -> int:
        protocol = websockets_protocol_deflate(Side.CLIENT)
        protocol.receive_data(wire["websockets (defaults)"])
        return len(protocol.events_received())

    def wsproto_deflate() -> WsprotoDeflate:
        extension = WsprotoDeflate()
        extension.finalize("permessage-deflate")
        return extension

    def wsproto_send() -> int:
        protocol = FrameProtocol(client=False, extensions=[wsproto_deflate()])
        wire["wsproto (defaults)"] = b"".join(protocol.send_data(text) for text in texts)
        return len(texts)

    def wsproto_receive() -> int:
        protocol = FrameProtocol(client=True, extensions=[wsproto_deflate()])
        protocol.receive_bytes(wire["wsproto (defaults)"])
        return sum(frame.message_finished for frame in protocol.received_frames())

    send = best_times({"wsframe (defaults)": wsframe_send, "websockets (defaults)": websockets_send,
                       "wsproto (defaults)": wsproto_send}, rounds, len(texts))
    receive = best_times({"wsframe (defaults)": wsframe_receive,
                          "websockets (defaults)": websockets_receive,
                          "wsproto (defaults)": wsproto_receive}, rounds, len(texts))
    return {name: (len(wire[name]) / raw, raw / send[name] / 1e6, raw / receive[name] / 1e6)
            for name in send}


def accelerated_rows(rounds: int, scale: int, quick: bool) -> None:
    """Child process: the accelerated rows, as JSON on stdout."""
    json.dump({"accelerator": masking.ACCELERATOR, "large": large_messages(rounds, scale),
               "write": writers(rounds, scale)}, sys.stdout)


def compiled_rows(rounds: int, scale: int) -> None:
    """Child process in the compiled build's venv: its rows, as JSON on stdout."""
    n = 20_000 // scale
    chunks = [masked_stream(n, 64, Opcode.TEXT)]
    times = best_times({"FrameParser": wsframe_frames(chunks),
                        "MessageReader": wsframe_messages(chunks),
                        "aiohttp": aiohttp_reader(chunks),
                        "websockets": websockets_protocol(chunks)}, rounds, n)
    json.dump({"compiled": wsframe.COMPILED, "accelerator": masking.ACCELERATOR,
               "aiohttp": aiohttp_flavour(), "frames": n,
               "small": {name: n / seconds for name, seconds in times.items()},
               "large": large_messages(rounds, scale), "write": writers(rounds, scale)},
              sys.stdout)


COMPILED_PYTHON = Path(__file__).resolve().parent.parent / ".venv-compiled" / "bin" / "python"
SPEEDUPS = Path(__file__).resolve().parent.parent / ".build-speedups"    # make speedups


def main() -> int:
    """Run the benchmarks and print the table; exit 1 if a target is missed (full run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small streams, one round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--accelerated", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compiled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    rounds = args.rounds or (1 if quick else 7)
    scale = 16 if quick else 1
    if args.accelerated:
        accelerated_rows(rounds, scale, quick)
        return 0
    if args.compiled:
        compiled_rows(rounds, scale)
        return 0

    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"wsframe {wsframe.__version__}, websockets {websockets.__version__} "
          f"({websockets_speedups()}), wsproto {wsproto.__version__}")
    print(f"best of {rounds} interleaved rounds{' (quick mode)' if quick else ''}; "
          "wsframe in pure Python unless a row says otherwise; GLIBC_TUNABLES="
          f"{TUNABLES}\n")
    targets = Targets()
    table = Table()

    n = 20_000 // scale
    small = masked_stream(n, 64, Opcode.TEXT)
    rates = compare_parsers(table, f"1. {n:,} masked 64-byte text frames, fed whole",
                            small, n, rounds, aiohttp=True)
    targets.at_least("FrameParser, 64 B frames vs websockets",
                     rates["wsframe FrameParser"] / rates["websockets Protocol"], 2.0)
    targets.at_least("MessageReader, 64 B frames vs websockets",
                     rates["wsframe MessageReader"] / rates["websockets Protocol"], 1.5)
    compare_parsers(table, "   the same stream in 64 KiB reads", small, n, rounds, chunk=65536)
    n = 20_000 // scale
    compare_parsers(table, f"2. {n:,} masked 1 KiB binary frames", masked_stream(n, 1024), n,
                    rounds)
    n = max(2, 400 // scale)
    compare_parsers(table, f"   {n:,} masked 64 KiB binary frames", masked_stream(n, 65536), n,
                    rounds)
    table.print()

    print("\n3. One 1 MiB masked message, MessageReader vs websockets, by read size")
    ceilings = {size: ceiling(size, rounds) for size in (1024, 1460, 16384, 65536, MiB)}
    print("   masking ceiling (pure Python, one apply_mask call on one buffer): " + ", ".join(
        f"{rate:,.0f} MB/s at {size:,} B" for size, rate in ceilings.items()))
    large = large_messages(rounds, scale)
    print_large(large, ceilings, scale)
    for kind in ("binary", "text"):
        for read in READ_SIZES[1:]:
            rate = large[f"{kind} {read}"]["wsframe"] / ceilings[read]
            target = 0.75 if kind == "binary" else 0.35 if read == 1460 else 0.6
            targets.at_least(f"{kind} 1 MiB message, reads of {read:,} B, vs the ceiling",
                             rate, target)
    # Byte by byte: cost per byte relative to websockets (lower is better).
    targets.at_most("binary, byte by byte: cost per byte vs websockets",
                    large["binary 1"]["websockets"] / large["binary 1"]["wsframe"], 1.0)
    targets.at_most("text, byte by byte: cost per byte vs websockets",
                    large["text 1"]["websockets"] / large["text 1"]["wsframe"], 2.0)

    print("\n4. Feeding in pieces (FrameParser)")
    four = masked_stream(1, 4 * MiB // scale)
    pieces = reads(four, 1000)
    times = best_times({"whole": wsframe_frames([four]), "chunks": wsframe_frames(pieces)},
                       rounds, 1)
    ratio = times["chunks"] / times["whole"]
    print(f"  {len(four) // 1024:,} KiB frame: whole {times['whole'] * 1e3:.1f} ms, in "
          f"{len(pieces):,} reads of 1,000 bytes {times['chunks'] * 1e3:.1f} ms "
          f"({ratio:.2f}x whole)")
    targets.at_most("4 MiB in 1,000-byte reads vs whole", ratio, 3.0)

    print("\n5. Sending: MessageWriter(Role.CLIENT).binary vs websockets "
          "Protocol(Side.CLIENT).send_binary + data_to_send")
    write = writers(rounds, scale)
    print_writers(write, ceilings)
    for size in (65536, MiB):
        targets.at_least(f"client writer, {size // 1024:,} KiB, vs the ceiling",
                         write[str(size)]["wsframe"] / ceilings[size], 0.8)

    print("\n6. Building 64-byte text frames (frames/s; masked = client role, a fresh key "
          "per frame)")
    build = Table()
    count = 20_000 // scale
    payload = payload_of(64)
    for masked in (True, False):
        writer = MessageWriter(Role.CLIENT if masked else Role.SERVER)
        client = FrameProtocol(client=masked, extensions=[])
        text = payload.decode()

        def wsframe_build(masked: bool = masked) -> int:
            for _ in range(count):
                build_frame(Opcode.TEXT, payload, mask=os.urandom(4) if masked else None)
            return count

        def wsframe_writer(writer: MessageWriter = writer, text: str = text) -> int:
            for _ in range(count):
                writer.text(text)
            return count

        def websockets_serialize(masked: bool = masked) -> int:
            for _ in range(count):
                ws_frames.Frame(ws_frames.Opcode.TEXT, payload).serialize(
                    mask=masked, extensions=[])
            return count

        def wsproto_send(client: FrameProtocol = client, text: str = text) -> int:
            for _ in range(count):
                client.send_data(text)
            return count

        times = best_times({"wsframe build_frame": wsframe_build,
                            "wsframe MessageWriter": wsframe_writer,
                            "websockets Frame.serialize": websockets_serialize,
                            "wsproto send_data": wsproto_send}, rounds, count)
        anchor = times["websockets Frame.serialize"]
        build.add(f"  {'masked' if masked else 'unmasked'}")
        for name, seconds in times.items():
            build.add(f"    {name}", f"{count / seconds:,.0f} frames/s",
                      f"{anchor / seconds:.2f}x websockets")
    build.print()

    print("\n8. permessage-deflate: memory per connection, and the corpus (benchmarks/corpus.py)")
    memory = connection_memory.table()
    mem = Table()
    mem.add("  KiB per server connection (tracemalloc)", "idle", "after traffic",
            "idle, deflate", "after, deflate")
    for name, rows in memory.items():
        mem.add(f"  {name}", f"{rows['plain'][0]:.1f}", f"{rows['plain'][1]:.1f}",
                f"{rows['compressed'][0]:.1f}", f"{rows['compressed'][1]:.1f}")
    mem.print()
    ours, theirs = memory["wsframe"]["compressed"], memory["websockets"]["compressed"]
    targets.at_most("deflate, KiB after traffic vs websockets' default", ours[1] / theirs[1], 1.0)
    targets.at_most("deflate, KiB idle vs a quarter of websockets' after traffic",
                    ours[0] / (theirs[1] / 4), 1.0)
    ratios = deflate_corpus(rounds, scale)
    table8 = Table()
    table8.add("  the corpus, sent and received", "wire / raw", "send MB/s", "receive MB/s")
    for name, (ratio, send, receive) in ratios.items():
        table8.add(f"  {name}", f"{ratio:.3f}", f"{send:,.1f}", f"{receive:,.1f}")
    table8.print()
    targets.at_most("deflate, corpus wire bytes vs websockets' default",
                    ratios["wsframe (defaults)"][0] / ratios["websockets (defaults)"][0], 1.0)

    # 7. The accelerator, in a child process of this run: wsframe's own C
    # helper beside the pure-Python modules (`make speedups`), on which the
    # accelerated targets are checked.
    if not SPEEDUPS.exists():
        print("\n7. wsframe's C masking helper: not built here (make speedups)")
    else:
        accel = subprocess.run(
            [sys.executable, __file__, "--accelerated", "--rounds", str(rounds)]
            + (["--quick"] if quick else []), capture_output=True, text=True, check=True,
            env={**{k: v for k, v in os.environ.items() if k != "WSFRAME_NO_ACCEL"},
                 "PYTHONPATH": str(SPEEDUPS), "PYTHONSAFEPATH": "1"})
        found = json.loads(accel.stdout)
        print(f"\n7. With the accelerator {found['accelerator']} (wsframe's C helper beside "
              "the pure-Python modules, make speedups), measured in a child process in "
              "this run")
        print_large(found["large"], None, scale)
        print_writers(found["write"], None)
        assert found["accelerator"] == "wsframe._speedups (C)", found["accelerator"]
        for read in READ_SIZES[1:]:
            rates = found["large"][f"binary {read}"]
            targets.at_least(f"accelerated: binary, reads of {read:,} B, vs websockets",
                             rates["wsframe"] / rates["websockets"], 1.0)
        for size in (65536, MiB):
            rates = found["write"][str(size)]
            targets.at_least(f"accelerated: client writer, {size // 1024:,} KiB, vs websockets",
                             rates["wsframe"] / rates["websockets"], 1.0)

    if not COMPILED_PYTHON.exists():
        print("\n9. The compiled build: not built here (make compiled)")
    else:
        child = subprocess.run(
            [str(COMPILED_PYTHON), __file__, "--compiled", "--rounds", str(rounds)]
            + (["--quick"] if quick else []), capture_output=True, text=True, check=True,
            env={k: v for k, v in os.environ.items() if k != "WSFRAME_NO_ACCEL"})
        built = json.loads(child.stdout)
        assert built["compiled"], "the .venv-compiled build is not compiled (make compiled)"
        small_rates = built["small"]
        print(f"\n9. The compiled build (mypyc; accelerator: {built['accelerator']}), in a "
              "child process in this run")
        compiled_table = Table()
        compiled_table.add(f"  {built['frames']:,} masked 64-byte text frames, fed whole")
        for name, rate in small_rates.items():
            label = f"aiohttp WebSocketReader ({built['aiohttp']})" if name == "aiohttp" else \
                "websockets Protocol" if name == "websockets" else f"wsframe {name}, compiled"
            compiled_table.add(f"    {label}", f"{rate:,.0f} frames/s",
                               f"{rate / small_rates['aiohttp']:.2f}x aiohttp",
                               f"{rate / small_rates['websockets']:.2f}x websockets")
        compiled_table.print()
        print_large(built["large"], None, scale)
        print_writers(built["write"], None)
        targets.at_least("compiled FrameParser, 64 B frames vs aiohttp's reader",
                         small_rates["FrameParser"] / small_rates["aiohttp"], 1.0)
        targets.at_least("compiled MessageReader, 64 B frames vs aiohttp's reader",
                         small_rates["MessageReader"] / small_rates["aiohttp"], 0.8)
        for kind in ("binary", "text"):
            for read in READ_SIZES[1:]:
                rates = built["large"][f"{kind} {read}"]
                targets.at_least(f"compiled: {kind}, reads of {read:,} B, vs websockets",
                                 rates["wsframe"] / rates["websockets"], 1.0)
        # The writer in this build (its masking is section 7's C helper).
        for size in (65536, MiB):
            rates = built["write"][str(size)]
            targets.at_least(f"compiled: client writer, {size // 1024:,} KiB, vs websockets",
                             rates["wsframe"] / rates["websockets"], 1.0)

    print("\nTargets (ratios within this run):")
    missed = targets.print()
    if quick:
        return 0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
