"""wsframe against websockets and wsproto, side by side, in one process.

    python benchmarks/bench.py            # the full run (`make bench`, ~2 minutes)
    python benchmarks/bench.py --quick    # a smoke run (what CI checks)

Every contender parses the same pre-built byte streams. Timings are the best
of several rounds; rounds interleave the contenders so that a noisy
neighbour on this shared machine slows everyone alike. Ratios are
wsframe / anchor within this run. websockets' sans-I/O `Protocol` (server
side) is the anchor for parsing; whether its C speedups are loaded is printed.
Large payloads are measured with wsframe's pure-Python masking unless the
row says otherwise.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets
import websockets.frames as ws_frames
import wsproto
from websockets.protocol import Protocol, Side
from wsproto.frame_protocol import FrameProtocol

import wsframe
from wsframe import FrameParser, MessageReader, MessageWriter, Opcode, Role, build_frame, masking

MiB = 2**20


def websockets_speedups() -> str:
    """Whether websockets' C extension does its masking."""
    module = getattr(ws_frames, "apply_mask", None)
    name = getattr(module, "__module__", "")
    return "C speedups loaded" if "speedups" in name else "pure Python"


# -- streams -----------------------------------------------------------------------

def masked_stream(count: int, size: int, opcode: Opcode = Opcode.BINARY) -> bytes:
    """``count`` masked frames of ``size`` bytes, each with its own random key."""
    payload = (b"wsframe benchmark " * (size // 18 + 1))[:size]
    return b"".join(build_frame(opcode, payload, mask=os.urandom(4)) for _ in range(count))


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
        reader = MessageReader(Role.SERVER, max_message_size=None, max_frame_size=None)
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

def best_times(functions: dict[str, Callable[[], int]], rounds: int, expect: int
               ) -> dict[str, float]:
    """Best wall time of each function over interleaved rounds (after a warm-up)."""
    for name, function in functions.items():
        got = function()
        if got != expect:
            raise SystemExit(f"{name} produced {got} results, expected {expect}")
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            gc.collect()
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


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


def compare_parsers(table: Table, title: str, stream: bytes, frames: int, rounds: int,
                    chunk: int | None = None, messages: bool = True,
                    checks: dict[str, float] | None = None) -> dict[str, float]:
    """Time every parser on ``stream`` and add rows; return frames/s by contender."""
    chunks = [stream] if chunk is None else [stream[i:i + chunk]
                                             for i in range(0, len(stream), chunk)]
    contenders = {"wsframe FrameParser": wsframe_frames(chunks)}
    if messages:
        contenders["wsframe MessageReader"] = wsframe_messages(chunks)
    contenders["websockets Protocol"] = websockets_protocol(chunks)
    contenders["wsproto FrameProtocol"] = wsproto_frames(chunks)
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


def build_contenders(size: int, count: int, masked: bool) -> dict[str, Callable[[], int]]:
    """Functions that each build ``count`` frames of ``size`` bytes."""
    payload = b"x" * size
    opcode = Opcode.TEXT if size == 64 else Opcode.BINARY
    ws_opcode = ws_frames.Opcode.TEXT if size == 64 else ws_frames.Opcode.BINARY
    writer = MessageWriter(Role.CLIENT if masked else Role.SERVER)
    client = FrameProtocol(client=masked, extensions=[])
    text = payload.decode()

    def wsframe_build() -> int:
        for _ in range(count):
            build_frame(opcode, payload, mask=os.urandom(4) if masked else None)
        return count

    def wsframe_writer() -> int:
        for _ in range(count):
            writer.text(text) if size == 64 else writer.binary(payload)
        return count

    def websockets_serialize() -> int:
        for _ in range(count):
            ws_frames.Frame(ws_opcode, payload).serialize(mask=masked, extensions=[])
        return count

    def wsproto_send() -> int:
        for _ in range(count):
            client.send_data(payload)
        return count

    return {"wsframe build_frame": wsframe_build, "wsframe MessageWriter": wsframe_writer,
            "websockets Frame.serialize": websockets_serialize,
            "wsproto send_data": wsproto_send}


def main() -> int:
    """Run the benchmarks and print the table; exit 1 if a target is missed (full run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small streams, one round")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    quick = args.quick
    rounds = args.rounds or (1 if quick else 7)
    scale = 20 if quick else 1

    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"wsframe {wsframe.__version__} (accelerator installed: "
          f"{masking.ACCELERATOR or 'none'}), websockets {websockets.__version__} "
          f"({websockets_speedups()}), wsproto {wsproto.__version__}")
    print(f"best of {rounds} interleaved rounds{' (quick mode)' if quick else ''}\n")

    accelerated = masking._apply
    masking._apply = masking.apply_mask_python      # pure Python unless a row says so
    table = Table()
    targets: list[tuple[str, float, float]] = []     # (what, ratio, target)

    n = 20_000 // scale
    small = masked_stream(n, 64, Opcode.TEXT)
    rates = compare_parsers(table, f"1. {n:,} masked 64-byte text frames, fed whole",
                            small, n, rounds)
    targets.append(("FrameParser, 64 B frames vs websockets", rates["wsframe FrameParser"] /
                    rates["websockets Protocol"], 2.0))
    targets.append(("MessageReader, 64 B frames vs websockets",
                    rates["wsframe MessageReader"] / rates["websockets Protocol"], 1.5))
    rates = compare_parsers(table, "   the same stream in 64 KiB reads", small, n, rounds,
                            chunk=65536)

    n = 20_000 // scale
    compare_parsers(table, f"2. {n:,} masked 1 KiB binary frames", masked_stream(n, 1024), n,
                    rounds)
    n = 400 // scale
    compare_parsers(table, f"   {n:,} masked 64 KiB binary frames", masked_stream(n, 65536), n,
                    rounds)
    n = 40 // min(scale, 10)
    big = masked_stream(n, MiB)
    rates = compare_parsers(table, f"3. {n} masked 1 MiB binary frames (pure-Python unmasking)",
                            big, n, rounds)
    targets.append(("1 MiB frames, pure Python, vs wsproto MB/s",
                    rates["wsframe FrameParser"] / rates["wsproto FrameProtocol"], 1.0))
    if accelerated is not masking.apply_mask_python:
        masking._apply = accelerated
        times = best_times({"accelerated": wsframe_frames([big])}, rounds, n)
        masking._apply = masking.apply_mask_python
        table.add(f"  wsframe FrameParser + {masking.ACCELERATOR}",
                  f"{n / times['accelerated']:,.0f} frames/s",
                  f"{len(big) / times['accelerated'] / 1e6:,.1f} MB/s")
    table.print()

    # 4. Linearity: one 4 MiB frame whole vs in 1,000-byte chunks; 64 KiB bytewise.
    print("\n4. Feeding in pieces")
    four = masked_stream(1, 4 * MiB // min(scale, 4))
    pieces = [four[i:i + 1000] for i in range(0, len(four), 1000)]
    times = best_times({"whole": wsframe_frames([four]), "chunks": wsframe_frames(pieces)},
                       rounds, 1)
    ratio = times["chunks"] / times["whole"]
    print(f"  wsframe FrameParser, {len(four) // MiB or len(four)} MiB frame: whole "
          f"{times['whole'] * 1e3:.1f} ms, in {len(pieces):,} chunks of 1,000 bytes "
          f"{times['chunks'] * 1e3:.1f} ms ({ratio:.2f}x whole)")
    targets.append(("4 MiB in 1,000-byte chunks vs whole (at most)", ratio, 3.0))
    one = masked_stream(1, 65536 // scale)
    bytewise = [one[i:i + 1] for i in range(len(one))]
    times = best_times({"wsframe FrameParser": wsframe_frames(bytewise),
                        "websockets Protocol": websockets_protocol(bytewise),
                        "wsproto FrameProtocol": wsproto_frames(bytewise)},
                       max(1, rounds // 2), 1)
    for name, seconds in times.items():
        print(f"  {name:22s} {len(one):,}-byte frame fed byte by byte: "
              f"{seconds / len(one) * 1e6:.3f} us per byte")
    targets.append(("bytewise cost per byte vs websockets (at most)",
                    times["wsframe FrameParser"] / times["websockets Protocol"], 1.0))

    # 5. Building frames.
    print("\n5. Building frames (frames/s; masked = client role, a fresh key per frame)")
    build = Table()
    for size, label in ((64, "64-byte text"), (MiB, "1 MiB binary")):
        count = 20_000 // scale if size == 64 else 20
        for masked in (True, False):
            times = best_times(build_contenders(size, count, masked), rounds, count)
            anchor = times["websockets Frame.serialize"]
            build.add(f"  {label}, {'masked' if masked else 'unmasked'}")
            for name, seconds in times.items():
                build.add(f"    {name}", f"{count / seconds:,.0f} frames/s",
                          f"{anchor / seconds:.2f}x websockets")
    build.print()

    print("\nTargets (ratios within this run):")
    missed = 0
    for what, ratio, target in targets:
        at_most = "(at most)" in what
        ok = ratio <= target if at_most else ratio >= target
        missed += not ok
        sign = "<=" if at_most else ">="
        print(f"  {'ok  ' if ok else 'MISS'} {what}: {ratio:.2f} (target {sign} {target})")
    masking._apply = accelerated
    if quick:
        return 0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
