"""Measure the pure-Python masking strategies that wsframe.masking chooses between.

    python benchmarks/masking.py

Prints MB/s for integer XOR, whole-payload translate lanes and blocked
translate lanes at several sizes (and wsframe's C helper when it is built),
which is where _INT_XOR_MAX (the crossover) and _BLOCK (the block size) come
from.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

from wsframe import masking

TABLES = masking._XOR_TABLES


def int_xor(data: bytes, key: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "little") ^ int.from_bytes(
        (key * ((n >> 2) + 1))[:n], "little")).to_bytes(n, "little")


def lanes_whole(data: bytes, key: bytes) -> bytes:
    out = bytearray(data)
    for i in range(4):
        out[i::4] = out[i::4].translate(TABLES[key[i]])
    return bytes(out)


def lanes_blocked(block: int) -> Callable[[bytes, bytes], bytes]:
    def run(data: bytes, key: bytes) -> bytes:
        parts = []
        for first in range(0, len(data), block):
            piece = bytearray(data[first:first + block])
            for i in range(4):
                piece[i::4] = piece[i::4].translate(TABLES[key[i]])
            parts.append(piece)
        return b"".join(parts)
    run.__name__ = f"lanes, {block // 1024} KiB blocks"
    return run


def best_rate(function: Callable[[bytes, bytes], bytes], data: bytes, key: bytes) -> float:
    loops = max(1, (4 << 20) // len(data))
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(loops):
            function(data, key)
        best = min(best, (time.perf_counter() - start) / loops)
    return len(data) / best / 1e6


def main() -> None:
    """Print the table."""
    strategies = [int_xor, lanes_whole, lanes_blocked(16384), lanes_blocked(65536),
                  lanes_blocked(262144), masking.apply_mask_python]
    if masking.ACCELERATOR:
        strategies.append(masking.apply_mask)
    key = os.urandom(4)
    sizes = [64, 512, 1024, 2048, 4096, 16384, 65536, 1 << 20, 4 << 20]
    print(f"MB/s by payload size (accelerator: {masking.ACCELERATOR or 'none'})")
    print(f"{'strategy':28s}" + "".join(f"{size:>9d}" for size in sizes))
    for function in strategies:
        name = function.__name__
        if function is masking.apply_mask_python:
            name = "wsframe apply_mask_python"
        elif function is masking.apply_mask:
            name = "wsframe apply_mask (accel.)"
        rates = []
        for size in sizes:
            data = os.urandom(size)
            assert function(data, key) == int_xor(data, key)
            rates.append(best_rate(function, data, key))
        print(f"{name:28s}" + "".join(f"{rate:9.0f}" for rate in rates))


if __name__ == "__main__":
    main()
