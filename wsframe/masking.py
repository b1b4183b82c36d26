"""Payload masking (RFC 6455 section 5.3).

Each byte ``i`` of a masked payload is XORed with byte ``i % 4`` of the
frame's 4-byte masking key; applying the same operation again unmasks.

Strategy, measured on CPython 3.11 (see benchmarks/): no single pure-Python
technique wins at every size, so `apply_mask` picks one by length.

* Small payloads (most frames): read the payload and the repeated key as two
  integers, XOR them, and write the result back. A handful of C calls, no
  per-byte Python work.
* Large payloads: integer conversion of megabytes is slow (it goes through
  30-bit digits), while ``bytes.translate`` runs a tight C loop. Split the
  payload into its four interleaved "lanes" (bytes 0, 4, 8...; 1, 5, 9...;
  ...), translate each lane through the 256-byte table "XOR with key byte k",
  and interleave the lanes back with extended-slice assignment.

An optional accelerator (numpy, if installed and WSFRAME_NO_ACCEL is unset)
is detected here and only here; the pure-Python path is always available and
is exercised by the same tests.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

__all__ = ["apply_mask", "apply_mask_python", "ACCELERATOR"]

# Lengths up to this use integer XOR; above it the translate lanes are faster
# (crossover between 512 and 1024 bytes with benchmarks/masking.py on
# CPython 3.11). Above _NUMPY_MIN the optional numpy accelerator wins.
_INT_XOR_MAX = 1024
_NUMPY_MIN = 512
_BLOCK = 65536

_IDENTITY = int.from_bytes(bytes(range(256)), "big")
# _XOR_TABLES[k] maps every byte b to b ^ k: a translate table per key byte.
_XOR_TABLES = tuple(
    (_IDENTITY ^ int.from_bytes(bytes((k,)) * 256, "big")).to_bytes(256, "big")
    for k in range(256)
)


def apply_mask_python(data: bytes | bytearray, key: bytes, start: int = 0,
                      stop: int | None = None) -> bytes:
    """Return ``data[start:stop]`` XORed with the repeated 4-byte ``key`` (pure Python).

    Masking and unmasking are the same operation (RFC 6455 section 5.3).
    ``start``/``stop`` let the parser unmask a payload in place in its
    buffer without first copying it out.
    """
    if stop is None:
        stop = len(data)
    n = stop - start
    if n <= _INT_XOR_MAX:
        piece = data[start:stop] if start or stop != len(data) else data
        repeated = (key * ((n >> 2) + 1))[:n]
        return (int.from_bytes(piece, "little")
                ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")
    # Lanes, block by block: a 64 KiB block and its lanes stay in the CPU
    # cache and reuse small allocations; whole-payload lanes were ~1.5x
    # slower at 1 MiB (benchmarks/masking.py). _BLOCK is a multiple of 4, so
    # every block starts at key byte 0.
    tables = _XOR_TABLES
    t0, t1, t2, t3 = tables[key[0]], tables[key[1]], tables[key[2]], tables[key[3]]
    view = memoryview(data)
    blocks = []
    for first in range(start, stop, _BLOCK):
        block = bytearray(view[first:min(first + _BLOCK, stop)])
        block[0::4] = block[0::4].translate(t0)
        block[1::4] = block[1::4].translate(t1)
        block[2::4] = block[2::4].translate(t2)
        block[3::4] = block[3::4].translate(t3)
        blocks.append(block)
    view.release()
    return b"".join(blocks)


_Masker = Callable[[bytes | bytearray, bytes, int, "int | None"], bytes]


def _load_accelerator() -> tuple[str | None, _Masker]:
    """Pick the masking function: numpy for large payloads when available."""
    if os.environ.get("WSFRAME_NO_ACCEL"):
        return None, apply_mask_python
    try:
        numpy = importlib.import_module("numpy")  # optional, looked up once
    except ImportError:
        return None, apply_mask_python

    frombuffer = numpy.frombuffer
    uint32 = numpy.dtype("<u4")
    pure = apply_mask_python

    def apply_mask_numpy(data: bytes | bytearray, key: bytes, start: int = 0,
                         stop: int | None = None) -> bytes:
        if stop is None:
            stop = len(data)
        n = stop - start
        if n < _NUMPY_MIN:
            return pure(data, key, start, stop)
        words = n >> 2
        body: bytes = (frombuffer(data, uint32, words, start)
                       ^ frombuffer(key, uint32)[0]).tobytes()
        if n & 3:
            return body + pure(data, key, start + (words << 2), stop)
        return body

    return f"numpy {numpy.__version__}", apply_mask_numpy


#: Name and version of the accelerator in use for large payloads, or None.
ACCELERATOR: str | None
ACCELERATOR, _apply = _load_accelerator()


def apply_mask(data: bytes | bytearray, key: bytes, start: int = 0,
               stop: int | None = None) -> bytes:
    """Return ``data[start:stop]`` XORed with the repeated 4-byte masking ``key``.

    Masking and unmasking are the same operation (RFC 6455 section 5.3). Uses
    the optional accelerator for large payloads when one is installed.
    """
    return _apply(data, key, start, stop)
