"""wsframe against websockets and wsproto, side by side, in one run.

    python benchmarks/bench.py            # the full run (`make bench`, a few minutes)
    python benchmarks/bench.py --quick    # a smoke run (what CI checks)

Every contender parses the same pre-built byte streams with the same loop
shape (make a receiver, feed every read, count what comes out). Rounds
interleave the contenders; each ratio is the median of the ratios within a
round (see `best_times`), so that a noisy neighbour on this shared machine
slows both sides of a ratio alike. Ratios are taken within this run only.

This process measures wsframe in pure Python (it sets WSFRAME_NO_ACCEL=1
before importing wsframe); it runs itself again in child processes without
that variable for the "with the accelerator" rows, on wsframe's own C
masking helper (`make speedups`, the rows the targets are checked on), and
in the compiled build's venv (`make compiled`). websockets' sans-I/O `Protocol`
(its C speedups loaded, as installed from PyPI) is the anchor.

The "masking ceiling" at a size is what one call of wsframe's pure-Python
`apply_mask_python` on one buffer of that size achieves, measured in the same
run: the most a pure-Python receiver that must unmask every byte can do. For
a message read in pieces it is timed in the same interleaved rounds as the
readers, over the same reads (one call per read), so that a change of load
on this shared machine moves both alike; the writers' rows use one call on
one buffer of the message's size.

Text is delivered as str by every message-level contender: wsframe's
MessageReader, aiohttp's reader (decode_text=True), picows (the payload
taken out as text), and websockets, whose Protocol hands up text frames
undecoded, with each text frame's payload decoded as its connection layer
does.

glibc's malloc is told (GLIBC_TUNABLES, set by re-running itself) to keep
freed memory instead of returning it to the OS. On this virtual machine a
page fault costs microseconds, so otherwise whether a 1 MiB buffer is fresh
memory or reused decides a large-message row more than any contender's code,
and changes from one run to the next. Every contender runs under the same
setting.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

#: Text that is not ASCII: accents, symbols, Greek and CJK (1-3 UTF-8 bytes a
#: character, 53% of its bytes not ASCII, all in Unicode's Basic Multilingual
#: Plane: 2 bytes a character once decoded), the kind of text whose every
#: byte a UTF-8 check must look at.
NON_ASCII = "Grüße aus Zürich, naïve café: ½ € ✓ Αθήνα 東京 ".encode()


def words_of(size: int) -> bytes:
    """The words of `NON_ASCII` in an order that does not repeat (seeded, so
    every run and contender gets the same bytes), at least ``size`` bytes.
    `NON_ASCII` repeated has a period of 70 bytes, short enough for the
    CPU's branch predictor to learn where every character of a length
    begins, which a decoder that branches on the length (CPython's, the C
    helper's loop) gains from and real text never allows."""
    words = NON_ASCII.decode().split()
    rng = random.Random(6455)
    out, length = [], 0
    while length < size:
        word = rng.choice(words).encode() + b" "
        out.append(word)
        length += len(word)
    return b"".join(out)


def payload_of(size: int, text: str | None = None) -> bytes:
    """Valid UTF-8 of exactly ``size`` bytes: ASCII (used for text and binary
    alike), or `NON_ASCII` repeated (``text="repeated"``) or its words in
    random order (``text="words"``), ended on a character boundary and padded
    with spaces."""
    if text is None:
        return (b"wsframe benchmark " * (size // 18 + 1))[:size]
    whole = (NON_ASCII * (size // len(NON_ASCII) + 1) if text == "repeated"
             else words_of(size))[:size]
    whole = whole[:len(whole.decode(errors="ignore").encode())]
    return whole + b" " * (size - len(whole))


#: The kinds of message measured: binary, ASCII text, text that is not ASCII
#: (NON_ASCII repeated; the same words in random order).
KINDS = {"binary": (Opcode.BINARY, None), "text": (Opcode.TEXT, None),
         "non-ASCII text": (Opcode.TEXT, "repeated"),
         "non-ASCII words": (Opcode.TEXT, "words")}
#: The kinds issue 12's pure-Python targets were set on.
TARGET_KINDS = ("binary", "text", "non-ASCII text")


def masked_stream(count: int, size: int, opcode: Opcode = Opcode.BINARY,
                  text: str | None = None) -> bytes:
    """``count`` masked frames of ``size`` bytes (`payload_of` with ``text``),
    each with its own random key."""
    payload = payload_of(size, text)
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


def websockets_protocol(chunks: list[bytes], decode_text: bool = False
                        ) -> Callable[[], int]:
    """websockets' sans-I/O Protocol. It hands up frames, text undecoded (its
    connection layer decodes them); with ``decode_text`` each text frame's
    payload is decoded as that layer does for a message of one frame, so
    that every message-level contender delivers text as str."""
    text = ws_frames.Opcode.TEXT

    def run() -> int:
        protocol = Protocol(Side.SERVER, max_size=None)
        count = 0
        for chunk in chunks:
            protocol.receive_data(chunk)
            for frame in protocol.events_received():
                count += 1
                if decode_text and frame.opcode is text:
                    frame.data.decode()
        return count
    return run


def masking_ceiling(chunks: list[bytes], expect: int) -> Callable[[], int]:
    """The masking ceiling at a read size, in the same loop shape as the
    readers: one pure-Python apply_mask call on each read's bytes (the most
    a pure-Python receiver that must unmask every byte can do). Timed in the
    same interleaved rounds as the readers it is compared with."""
    def run() -> int:
        for chunk in chunks:
            masking.apply_mask_python(chunk, KEY)
        return expect
    return run


def text_floor(chunks: list[bytes], expect: int) -> Callable[[], int]:
    """What a pure-Python text receiver cannot go below, built from the same
    standard-library pieces and in the same loop shape as the readers, but
    with no framing: each read's payload unmasked (masking's pure-Python
    unmasking) and decoded at once by CPython's decoder (the bytes of a
    character cut by a read's end carried into the next), the texts joined
    at the end. Timed in the same interleaved rounds as the readers."""
    head = chunks[0]
    start = 2 + {126: 2, 127: 8}.get(head[1] & 0x7F, 0) + 4
    key = head[start - 4:start]
    pieces, offset = [], 0
    for index, chunk in enumerate(chunks):       # cut (untimed): the payload's reads
        body = chunk[start:] if index == 0 else chunk
        pieces.append((body, key[offset % 4:] + key[:offset % 4]))
        offset += len(body)
    decode, unmask = codecs.utf_8_decode, masking.unmasked_buffer

    def run() -> int:
        texts, rest = [], b""
        for body, rotated in pieces:
            data = unmask(body, rotated)
            if rest:
                data = rest + data
            text, used = decode(data, "strict", False)
            texts.append(text)
            rest = bytes(data[used:])
        "".join(texts)
        return expect
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


_LOOP: list[Any] = []


def picows_reader(chunks: list[bytes]) -> Callable[[], int]:
    """picows' server protocol, handshake done before the clock starts
    (benchmarks/picows_driver.py); payloads taken out as bytes or str."""
    import asyncio

    from picows_driver import PicowsReader
    if not _LOOP:
        _LOOP.append(asyncio.new_event_loop())
    reader = PicowsReader(_LOOP[0])

    def run() -> int:
        return reader.run(chunks)
    run.prepare = reader.prepare  # type: ignore[attr-defined]
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

def best_times(functions: dict[str, Callable[[], int]], rounds: int, expect: int | None
               ) -> dict[str, float]:
    """The time of each function over interleaved rounds (after a warm-up),
    such that every ratio to the first function is the median of its ratios
    within a round.

    The first function's time is its best; each other's is that best times
    the median, over the rounds, of its time divided by the first one's in
    the same round. A round runs every function once, a few milliseconds
    apart, so a change of load on this shared machine (seen here: everyone
    at half speed for tens of seconds) moves both sides of a round's ratio
    alike, where the best of each could come from different moments.

    A function with a ``prepare`` attribute has it called before each timing
    (a receiver that must be connected first: picows)."""
    for name, function in functions.items():
        getattr(function, "prepare", _nothing)()
        got = function()
        if expect is not None and got != expect:
            raise SystemExit(f"{name} produced {got} results, expected {expect}")
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            getattr(function, "prepare", _nothing)()
            gc.collect()
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    first = next(iter(functions))
    anchor = times[first]
    best = min(anchor)
    return {name: best * statistics.median(t / a for t, a in zip(seconds, anchor, strict=True))
            for name, seconds in times.items()}


def _nothing() -> None:
    pass


def memcpy_rate(rounds: int, loops: int = 1) -> float:
    """MB/s of copying 1 MiB (a bytearray's slice assignment: one memcpy).

    With ``loops=1`` it is timed as every receiver is (`best_times`: one
    call after ``gc.collect()``, best of the rounds), the reference of the
    "fraction of memcpy" row; ``loops=64`` repeats the copy inside one
    timing, with the data hot in the CPU's caches (the machine's best case).
    """
    source = os.urandom(MiB)
    target = bytearray(MiB)

    def run() -> int:
        for _ in range(loops):
            target[:] = source
        return loops
    seconds = best_times({"memcpy": run}, rounds, loops)["memcpy"]
    return MiB * loops / seconds / 1e6


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


def large_messages(rounds: int, scale: int, peers: bool = False, ceiling: bool = False
                   ) -> dict[str, dict[str, float]]:
    """One 1 MiB masked message of each kind in reads of N bytes: MB/s of
    wsframe and websockets (and, with ``peers``, aiohttp's reader and picows;
    with ``ceiling``, the masking ceiling at that read size; byte by byte
    excepted)."""
    size = MiB // scale
    results: dict[str, dict[str, float]] = {}
    for kind, (opcode, text) in KINDS.items():
        stream = masked_stream(1, size, opcode, text)
        # (Byte by byte, the words would only repeat what NON_ASCII shows.)
        for read in READ_SIZES if kind in TARGET_KINDS else READ_SIZES[1:]:
            chunks = reads(stream, read, FIRST_BYTES // scale if read == 1 else None)
            expect = 0 if read == 1 else 1
            contenders = {"wsframe": wsframe_messages(chunks),
                          "websockets": websockets_protocol(chunks, decode_text=True)}
            if peers and read != 1:
                contenders["aiohttp"] = aiohttp_reader(chunks)
                contenders["picows"] = picows_reader(chunks)
            if ceiling and read != 1:
                contenders["ceiling"] = masking_ceiling(chunks, expect)
                if text is not None:
                    contenders["floor"] = text_floor(chunks, expect)
            times = best_times(contenders, max(1, rounds // 2) if read == 1 else rounds, expect)
            fed = sum(map(len, chunks))
            results[f"{kind} {read}"] = {name: fed / seconds / 1e6
                                         for name, seconds in times.items()}
    return results


WRITE_SIZES = (64, 1024, 65536, MiB)


class Sink:
    """Where every writer's bytes go: one counting ``write``, the same call
    for every contender (picows calls its transport's ``write`` itself)."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.count += len(data)


def writers(rounds: int, scale: int, peers: bool = False) -> dict[str, dict[str, float]]:
    """Client-role (masking) writers: MB/s of binary messages of each size,
    each message's bytes handed to a `Sink`'s ``write``."""
    results: dict[str, dict[str, float]] = {}
    for size in WRITE_SIZES:
        payload = payload_of(size)
        count = max(2, min(20_000 // scale, (8 * MiB // scale) // size))
        writer = MessageWriter(Role.CLIENT)
        protocol = Protocol(Side.CLIENT)
        write = Sink().write

        def wsframe_writer(payload: bytes = payload, count: int = count,
                           writer: MessageWriter = writer,
                           write: Callable[[bytes], None] = write) -> int:
            for _ in range(count):
                write(writer.binary(payload))
            return count

        def websockets_writer(payload: bytes = payload, count: int = count,
                              protocol: Protocol = protocol,
                              write: Callable[[bytes], None] = write) -> int:
            for _ in range(count):
                protocol.send_binary(payload)
                for data in protocol.data_to_send():
                    write(data)
            return count

        contenders = {"wsframe": wsframe_writer, "websockets": websockets_writer}
        if peers:
            contenders["picows"] = picows_writer(payload, count)
        times = best_times(contenders, rounds, count)
        results[str(size)] = {name: size * count / seconds / 1e6
                              for name, seconds in times.items()}
    return results


def picows_writer(payload: bytes, count: int) -> Callable[[], int]:
    """picows' client transport sending binary messages (it masks them)."""
    import asyncio

    from picows import WSMsgType
    from picows_driver import PicowsWriter
    if not _LOOP:
        _LOOP.append(asyncio.new_event_loop())
    send = PicowsWriter(_LOOP[0]).transport.send
    binary = WSMsgType.BINARY

    def run() -> int:
        for _ in range(count):
            send(binary, payload)
        return count
    return run


def print_large(large: dict[str, dict[str, float]], ceilings: dict[int, float] | None,
                scale: int) -> None:
    table = Table()
    peers = [name for name in ("aiohttp", "picows") if name in large["binary 1460"]]
    table.add("read size", "wsframe", "websockets", *peers, "vs websockets",
              *(f"vs {name}" for name in peers), "vs ceiling" if ceilings else "",
              "ceiling" if ceilings else "")
    for key, rates in large.items():
        kind, read = key.rsplit(" ", 1)
        label = f"  {kind}, reads of {int(read):,} B" + (
            f" (first {FIRST_BYTES // scale // 1024} KiB)" if read == "1" else "")
        ours = rates["wsframe"]
        row = [label, f"{ours:,.1f} MB/s", f"{rates['websockets']:,.1f} MB/s"]
        row += [f"{rates[name]:,.1f} MB/s" if name in rates else "" for name in peers]
        row.append(f"{ours / rates['websockets']:.2f}x")
        row += [f"{ours / rates[name]:.2f}x" if name in rates else "" for name in peers]
        if ceilings and "ceiling" in rates:
            row += [f"{ours / rates['ceiling']:.2f}x", f"{rates['ceiling']:,.0f} MB/s"]
        table.add(*row)
    table.print()


def print_writers(write: dict[str, dict[str, float]], ceilings: dict[int, float] | None) -> None:
    table = Table()
    for key, rates in write.items():
        size = int(key)
        label = f"{size // 1024:,} KiB" if size >= 1024 else f"{size} B"
        row = [f"  {label} binary, client role (masked)", f"{rates['wsframe']:,.1f} MB/s",
               f"{rates['websockets']:,.1f} MB/s",
               f"{rates['wsframe'] / rates['websockets']:.2f}x websockets"]
        if "picows" in rates:
            row += [f"{rates['picows']:,.1f} MB/s picows",
                    f"{rates['wsframe'] / rates['picows']:.2f}x picows"]
        if ceilings and size in ceilings:
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
               "write": writers(rounds, scale), "memcpy_hot": memcpy_rate(rounds, 64)},
              sys.stdout)


def compiled_rows(rounds: int, scale: int) -> None:
    """Child process in the compiled build's venv: its rows, as JSON on stdout."""
    from picows_driver import picows_version
    n = 20_000 // scale
    chunks = [masked_stream(n, 64, Opcode.TEXT)]
    times = best_times({"FrameParser": wsframe_frames(chunks),
                        "MessageReader": wsframe_messages(chunks),
                        "aiohttp": aiohttp_reader(chunks),
                        "picows": picows_reader(chunks),
                        "websockets": websockets_protocol(chunks)}, rounds, n)
    big = max(2, 400 // scale)
    big_chunks = [masked_stream(big, 65536)]
    big_times = best_times({"MessageReader": wsframe_messages(big_chunks),
                            "aiohttp": aiohttp_reader(big_chunks),
                            "picows": picows_reader(big_chunks),
                            "websockets": websockets_protocol(big_chunks)}, rounds, big)
    json.dump({"compiled": wsframe.COMPILED, "accelerator": masking.ACCELERATOR,
               "aiohttp": aiohttp_flavour(), "frames": n, "big_frames": big,
               "small": {name: n / seconds for name, seconds in times.items()},
               "big": {name: big * 65536 / seconds / 1e6
                       for name, seconds in big_times.items()},
               "memcpy": memcpy_rate(rounds), "memcpy_hot": memcpy_rate(rounds, 64),
               "picows": picows_version(),
               "large": large_messages(rounds, scale, peers=True),
               "write": writers(rounds, scale, peers=True)},
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
    print(f"{rounds} interleaved rounds{' (quick mode)' if quick else ''}: each row's first "
          "contender at its best, the others by their median ratio to it within a round; "
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

    print("\n3. One 1 MiB masked message, MessageReader vs websockets (its text decoded), by "
          "read size")
    ceilings = {size: ceiling(size, rounds) for size in (1024, 1460, 16384, 65536, MiB)}
    print("   masking ceiling (pure Python, one apply_mask call on one buffer): " + ", ".join(
        f"{rate:,.0f} MB/s at {size:,} B" for size, rate in ceilings.items()) +
        "; in the table, timed beside the readers on their reads")
    large = large_messages(rounds, scale, ceiling=True)
    print_large(large, ceilings, scale)
    for kind in ("non-ASCII text", "non-ASCII words"):
        floors = [large[f"{kind} {read}"] for read in READ_SIZES[1:]]
        print(f"   the floor for {kind} (each read unmasked and decoded, the texts joined; no "
              "framing; `text_floor`), timed beside the readers: " + " / ".join(
                  f"{rates['floor'] / rates['ceiling']:.2f}x" for rates in floors) +
              " the ceiling at 1,460 B / 16 KiB / 64 KiB reads; wsframe " + " / ".join(
                  f"{rates['wsframe'] / rates['floor']:.2f}x" for rates in floors) + " the floor")
    for kind in TARGET_KINDS:
        for read in READ_SIZES[1:]:
            rates = large[f"{kind} {read}"]
            rate = rates["wsframe"] / rates["ceiling"]
            target = 0.75 if kind == "binary" else 0.35 if read == 1460 else 0.6
            targets.at_least(f"{kind} 1 MiB message, reads of {read:,} B, vs the ceiling",
                             rate, target)
    # Byte by byte: cost per byte relative to websockets (lower is better).
    for kind in TARGET_KINDS:
        rates = large[f"{kind} 1"]
        targets.at_most(f"{kind}, byte by byte: cost per byte vs websockets",
                        rates["websockets"] / rates["wsframe"], 1.0 if kind == "binary" else 2.0)

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
        print("  1 MiB binary received, as a fraction of memcpy repeated in a hot loop "
              f"({found['memcpy_hot']:,.0f} MB/s in that process): " + ", ".join(
                  f"{found['large'][f'binary {read}']['wsframe'] / found['memcpy_hot']:.2f} at "
                  f"{read:,} B" for read in READ_SIZES[1:]))

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
              "child process in this run, beside aiohttp's reader "
              f"({built['aiohttp']}) and picows {built.get('picows', '')} (Cython)")
        compiled_table = Table()
        peer_names = {"aiohttp": f"aiohttp WebSocketReader ({built['aiohttp']})",
                      "picows": "picows WSProtocol (in memory)",
                      "websockets": "websockets Protocol"}
        compiled_table.add(f"  {built['frames']:,} masked 64-byte text frames, fed whole")
        for name, rate in small_rates.items():
            compiled_table.add(f"    {peer_names.get(name, f'wsframe {name}, compiled')}",
                               f"{rate:,.0f} frames/s",
                               f"{rate / small_rates['aiohttp']:.2f}x aiohttp",
                               f"{rate / small_rates['picows']:.2f}x picows",
                               f"{rate / small_rates['websockets']:.2f}x websockets")
        big_rates = built["big"]
        compiled_table.add(f"  {built['big_frames']:,} masked 64 KiB binary frames in one buffer")
        for name, rate in big_rates.items():
            compiled_table.add(f"    {peer_names.get(name, f'wsframe {name}, compiled')}",
                               f"{rate:,.0f} MB/s",
                               f"{rate / big_rates['aiohttp']:.2f}x aiohttp",
                               f"{rate / big_rates['picows']:.2f}x picows",
                               f"{rate / big_rates['websockets']:.2f}x websockets")
        compiled_table.print()
        print("  One 1 MiB masked message, by read size (MessageReader, compiled)")
        print_large(built["large"], None, scale)
        memcpy = built["memcpy"]
        print(f"  memcpy on this machine (1 MiB bytearray copy, timed like the receivers: one "
              f"copy after gc.collect): {memcpy:,.0f} MB/s ({built['memcpy_hot']:,.0f} MB/s "
              "repeated in a hot loop); 1 MiB binary received, as a fraction of each: " +
              ", ".join(f"{rate / memcpy:.2f} / {rate / built['memcpy_hot']:.2f} at {read:,} B"
                        for read in READ_SIZES[1:]
                        for rate in [built['large'][f'binary {read}']['wsframe']]))
        print("  Sending, each message's bytes handed to the same write()")
        print_writers(built["write"], None)
        for peer in ("aiohttp", "picows"):
            for name in ("FrameParser", "MessageReader"):
                targets.at_least(f"compiled {name}, 64 B frames vs {peer}",
                                 small_rates[name] / small_rates[peer], 1.0)
            targets.at_least(f"compiled: {built['big_frames']} frames of 64 KiB in one "
                             f"buffer vs {peer}", big_rates["MessageReader"] / big_rates[peer],
                             1.0)
        for kind in KINDS:
            for read in READ_SIZES[1:]:
                rates = built["large"][f"{kind} {read}"]
                for peer in ("websockets", "aiohttp", "picows"):
                    targets.at_least(f"compiled: {kind}, reads of {read:,} B, vs {peer}",
                                     rates["wsframe"] / rates[peer], 1.0)
        # The measure: 1 MiB received in any build (the best of the
        # two with the C helper, at the best read size) against this machine's
        # memcpy bandwidth, the copy repeated in a hot loop (the stricter of
        # the two printed above), each build against its own process's.
        fractions = {"compiled": max(built["large"][f"binary {read}"]["wsframe"]
                                     for read in READ_SIZES[1:]) / built["memcpy_hot"]}
        if SPEEDUPS.exists():
            fractions["C helper"] = max(found["large"][f"binary {read}"]["wsframe"]
                                        for read in READ_SIZES[1:]) / found["memcpy_hot"]
        best = max(fractions, key=fractions.__getitem__)
        targets.at_least(f"1 MiB binary received vs memcpy in a hot loop, best build ({best}; "
                         + ", ".join(f"{name} {value:.2f}" for name, value in fractions.items())
                         + ")", fractions[best], 0.3)
        # The writer in this build (its masking is section 7's C helper).
        for size in WRITE_SIZES:
            rates = built["write"][str(size)]
            for peer in ("websockets", "picows"):
                label = f"{size // 1024:,} KiB" if size >= 1024 else f"{size} B"
                targets.at_least(f"compiled: client writer, {label}, vs {peer}",
                                 rates["wsframe"] / rates[peer], 1.0)

    print("\nTargets (ratios within this run):")
    missed = targets.print()
    if quick:
        return 0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
