"""Masking in the compiled build: typed loops compiled by mypyc against wsframe's methods.

    python benchmarks/mypyc_masking.py      # needs mypy (mypyc) and a C compiler

Compiles, in a temporary folder, three masking functions written for mypyc
(a byte loop, a loop over 8-byte words, and integer XOR) and times them
against wsframe's pure-Python `apply_mask_python` and, when installed, the
accelerated `apply_mask`. This is how the compiled build's masking was
chosen: mypyc has no direct access to a buffer's memory, so each byte or
word goes through a bytes/bytearray call and the loops lose by 4-20x to the
pure-Python methods (integer XOR, translate lanes). So the compiled build
also builds a small C helper, wsframe/_speedups.c (8-byte words, written
straight into the result); run in the compiled build's venv, its row is the
last (``apply_mask (wsframe._speedups (C))``): 103 ns at 64 B, 147 ns at
1,460 B, 1.5 us at 64 KiB here, 4-50x faster than every other row.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

from wsframe import masking

SOURCE = '''
from __future__ import annotations


def byte_loop(data: bytes, key: bytes) -> bytes:
    n = len(data)
    out = bytearray(n)
    k0 = key[0]
    k1 = key[1]
    k2 = key[2]
    k3 = key[3]
    i = 0
    while i < n - 3:
        out[i] = data[i] ^ k0
        out[i + 1] = data[i + 1] ^ k1
        out[i + 2] = data[i + 2] ^ k2
        out[i + 3] = data[i + 3] ^ k3
        i += 4
    while i < n:
        out[i] = data[i] ^ key[i & 3]
        i += 1
    return bytes(out)


def word_loop(data: bytes, key: bytes) -> bytes:
    n = len(data)
    k8 = int.from_bytes(key + key, "little")
    out = bytearray()
    i = 0
    while i + 8 <= n:
        out += (int.from_bytes(data[i:i + 8], "little") ^ k8).to_bytes(8, "little")
        i += 8
    while i < n:
        out.append(data[i] ^ key[i & 3])
        i += 1
    return bytes(out)


def int_xor(data: bytes, key: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "little")
            ^ int.from_bytes((key * ((n >> 2) + 1))[:n], "little")).to_bytes(n, "little")
'''

SETUP = '''
from setuptools import setup
from mypyc.build import mypycify
setup(name="loops", ext_modules=mypycify(["mypyc_loops.py"], opt_level="3"))
'''


def main() -> None:
    """Compile the loops and print the table."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "mypyc_loops.py").write_text(SOURCE)
        Path(folder, "setup.py").write_text(SETUP)
        subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"], cwd=folder,
                       check=True, capture_output=True)
        sys.path.insert(0, folder)
        loops = importlib.import_module("mypyc_loops")
        contenders = {"mypyc byte loop": loops.byte_loop, "mypyc 8-byte words": loops.word_loop,
                      "mypyc integer XOR": loops.int_xor,
                      "apply_mask_python": masking.apply_mask_python}
        if masking.ACCELERATOR:
            contenders[f"apply_mask ({masking.ACCELERATOR})"] = masking.apply_mask
        key = os.urandom(4)
        sizes = [64, 1460, 16384, 65536, 1 << 20]
        print("ns per call (best of 5)")
        print(f"{'':44}" + "".join(f"{size:>12,}" for size in sizes))
        for name, function in contenders.items():
            cells = []
            for size in sizes:
                data = os.urandom(size)
                assert function(data, key) == masking.apply_mask_python(data, key)
                number = max(3, 400_000 // size)
                best = min(timeit.repeat(lambda f=function, d=data: f(d, key),  # type: ignore[misc]
                                         number=number, repeat=5)) / number
                cells.append(f"{best * 1e9:12,.0f}")
            print(f"{name:44}" + "".join(cells))


if __name__ == "__main__":
    main()
