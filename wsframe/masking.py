"""Payload masking (RFC 6455 section 5.3).

Each byte ``i`` of a masked payload is XORed with byte ``i % 4`` of the
frame's 4-byte masking key; applying the same operation again unmasks.

Strategy, measured on CPython 3.11 (``python benchmarks/masking.py``): no
single pure-Python technique wins at every size, so each entry point picks
one by length.

* Small payloads (most frames, up to ``_INT_XOR_MAX``): read the payload and
  the repeated key as two integers, XOR them, and write the result back. A
  handful of C calls, no per-byte Python work (`mask_int`).
* Large payloads: integer conversion of megabytes is slow (it goes through
  30-bit digits), while ``bytes.translate`` runs a tight C loop. Split the
  payload into its four interleaved "lanes" (bytes 0, 4, 8...; 1, 5, 9...;
  ...), translate each lane through the 256-byte table "XOR with key byte k",
  and interleave the lanes back with extended-slice assignment, 64 KiB at a
  time so that a block and its lanes stay in the CPU cache.

Memory traffic matters as much as arithmetic: on a virtual machine a fresh
page costs a few microseconds to fault in, more than unmasking it. So the
receive path unmasks a frame it buffered *in place* in its own buffer
(`unmask_buffer`: no block copies, one final ``bytes``), and the send path
masks into the frame it returns with one copy (`mask_frame`: header and
payload joined once).

One optional accelerator, detected here and only here: ``wsframe._speedups``,
wsframe's own C helper, built on request only (``WSFRAME_SPEEDUPS=1 pip
install .``, and with the compiled build; see setup.py). A C loop over 8-byte
words that writes straight into the bytes object it returns. Measured
(benchmarks/mypyc_masking.py, in the compiled build's venv): 103 ns at 64 B,
147 ns for a 1,460-byte read, 1.5 us for 64 KiB, faster than numpy and
wsaccel at every size (which is why wsframe no longer uses them), so when it
is there it is used for everything. It also does `unmask_append` in one pass
(unmask onto the end of a bytearray, check ASCII; the buffer grown by half
its content at a time, not 12.5 %). ``WSFRAME_NO_ACCEL=1`` leaves it unused;
the pure-Python path is always there and the same tests run on both.
``import wsframe`` imports nothing outside the standard library.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, Final, Protocol

from .header_bits import HEAD_16, HEAD_64

__all__ = ["ACCELERATOR", "HELPER", "PayloadBuffer", "PayloadBufferPython", "apply_mask",
           "apply_mask_python", "encode_masked", "implementations", "mask_frame", "mask_int",
           "mask_small", "payload_buffers", "unmask_append", "unmask_buffer", "unmasked_buffer"]

# Lengths up to this use integer XOR; above it the translate lanes are faster
# (crossover between 512 and 1024 bytes with benchmarks/masking.py).
_INT_XOR_MAX: Final = 1024
# From this length the translate lanes done in place beat integer XOR (when
# the result may stay a bytearray).
_LANES_IN_PLACE_MIN: Final = 512
_BLOCK: Final = 65536          # a multiple of 4: every block starts at key byte 0

_IDENTITY: Final = int.from_bytes(bytes(range(256)), "big")
# _XOR_TABLES[k] maps every byte b to b ^ k: a translate table per key byte.
_XOR_TABLES: Final = tuple(
    (_IDENTITY ^ int.from_bytes(bytes((k,)) * 256, "big")).to_bytes(256, "big")
    for k in range(256)
)

_Buffer = bytes | bytearray


def mask_int(data: _Buffer, key: bytes) -> bytes:
    """``data`` XORed with the repeated ``key``: integer XOR, for small payloads."""
    n = len(data)
    return (int.from_bytes(data, "little")
            ^ int.from_bytes((key * ((n >> 2) + 1))[:n], "little")).to_bytes(n, "little")


def _translate_lanes(buffer: bytearray, key: bytes) -> None:
    """XOR ``buffer`` in place with the repeated ``key``: the translate lanes.

    64 KiB at a time, so that a block and its lanes stay in the CPU cache: a
    lane of a block is read, translated and written back, with no copies of
    the block and no list.
    """
    tables = _XOR_TABLES
    t0, t1, t2, t3 = tables[key[0]], tables[key[1]], tables[key[2]], tables[key[3]]
    n = len(buffer)
    if n <= _BLOCK:
        # One block (every read and most frames): whole-buffer slices, no
        # loop (measured: 15% faster at 1,460 B than the loop below).
        buffer[0::4] = buffer[0::4].translate(t0)
        buffer[1::4] = buffer[1::4].translate(t1)
        buffer[2::4] = buffer[2::4].translate(t2)
        buffer[3::4] = buffer[3::4].translate(t3)
        return
    for first in range(0, n, _BLOCK):
        stop = min(first + _BLOCK, n)
        buffer[first:stop:4] = buffer[first:stop:4].translate(t0)
        buffer[first + 1:stop:4] = buffer[first + 1:stop:4].translate(t1)
        buffer[first + 2:stop:4] = buffer[first + 2:stop:4].translate(t2)
        buffer[first + 3:stop:4] = buffer[first + 3:stop:4].translate(t3)


def _lanes(data: _Buffer, key: bytes, start: int, stop: int) -> list[bytearray]:
    """``data[start:stop]`` masked, as a list of 64 KiB blocks (translate lanes)."""
    blocks = []
    with memoryview(data) as view:
        for first in range(start, stop, _BLOCK):
            block = bytearray(view[first:min(first + _BLOCK, stop)])
            _translate_lanes(block, key)
            blocks.append(block)
    return blocks


def apply_mask_python(data: _Buffer, key: bytes, start: int = 0,
                      stop: int | None = None) -> bytes:
    """Return ``data[start:stop]`` XORed with the repeated 4-byte ``key`` (pure Python).

    Masking and unmasking are the same operation (RFC 6455 section 5.3).
    ``start``/``stop`` let the parser unmask a payload in its buffer without
    first copying it out.
    """
    if stop is None:
        stop = len(data)
    if stop - start <= _INT_XOR_MAX:
        return mask_int(data[start:stop] if start or stop != len(data) else data, key)
    return b"".join(_lanes(data, key, start, stop))


def _unmask_buffer_python(buffer: bytearray, key: bytes) -> bytes:
    if len(buffer) <= _INT_XOR_MAX:
        return mask_int(buffer, key)
    # In place, then one final bytes(): no block copies, no join.
    _translate_lanes(buffer, key)
    return bytes(buffer)


def _unmasked_buffer_python(data: bytes, key: bytes) -> bytes | bytearray:
    if len(data) <= _LANES_IN_PLACE_MIN:
        return mask_int(data, key)
    # The lanes of one copy, translated in place (a bytearray, which the
    # caller only reads): no blocks, no join (measured: a third faster than
    # apply_mask_python at 1,460 B, 5-10% at 16-64 KiB).
    buffer = bytearray(data)
    _translate_lanes(buffer, key)
    return buffer


def _mask_frame_python(prefix: bytes, payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n <= _INT_XOR_MAX:
        return prefix + mask_int(payload, key)
    return b"".join([prefix, *_lanes(payload, key, 0, n)])


def _encode_masked_python(first: int, payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        # Small frames (the common case): integer XOR.
        return bytes((first, 0x80 | n)) + key + mask_int(payload, key)
    header = HEAD_16.pack(first, 0xFE, n) if n < 65536 else HEAD_64.pack(first, 0xFF, n)
    return _mask_frame_python(header + key, payload, key)


def _unmask_append_python(buffer: bytearray, data: bytes, key: bytes, reserve: int) -> bool:
    # ``reserve`` is a hint Python cannot act on (a bytearray has no reserve).
    piece = apply_mask(data, key)
    buffer += piece
    return piece.isascii()


class PayloadBufferPython:
    """A frame's payload of the declared ``length``, received in pieces,
    masked with ``key`` (4 bytes, or None for plain bytes); `take` gives it
    unmasked. Pure Python keeps the masked pieces in one bytearray and
    unmasks them once, in place, at the end (`unmask_buffer`): many small
    unmaskings cost far more here than one large one. The C helper's
    ``PayloadBuffer`` unmasks each piece as it arrives, straight into the
    bytes object it returns (one pass over each byte). ``len()`` is the bytes
    held so far.
    """

    __slots__ = ("_buffer", "_key", "_length")

    def __init__(self, key: bytes | None, length: int) -> None:
        if key is not None and len(key) != 4:
            raise ValueError(f"key must be 4 bytes, got {len(key)}")
        if length < 0:
            raise ValueError(f"length must be >= 0, not {length}")
        if length > sys.maxsize:        # as the C helper's Py_ssize_t
            raise OverflowError(f"length {length} does not fit in an index")
        self._buffer = bytearray()
        self._key = key
        self._length = length

    def append(self, data: bytes | bytearray | memoryview) -> None:
        """The next bytes of the payload (at most the declared length in all)."""
        buffer = self._buffer
        if len(data) > self._length - len(buffer):
            raise ValueError(f"data of {len(data)} bytes goes past the declared length "
                             f"({len(buffer)} of {self._length} bytes held)")
        buffer += data

    def take(self) -> bytes:
        """The payload so far, unmasked; the buffer is empty afterwards."""
        buffer, self._buffer = self._buffer, bytearray()
        key = self._key
        if key is None or not buffer:
            return bytes(buffer)
        return _unmask_buffer_python(buffer, key)

    def __len__(self) -> int:
        return len(self._buffer)


class _Payload(Protocol):
    def append(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def take(self) -> bytes: ...

    def __len__(self) -> int: ...


class _Apply(Protocol):
    def __call__(self, data: _Buffer, key: bytes, start: int = 0,
                 stop: int | None = None, /) -> bytes: ...


_Unmask = Callable[[bytearray, bytes], bytes]
_MaskFrame = Callable[[bytes, bytes, bytes], bytes]
_Small = Callable[[_Buffer, bytes], bytes]
_Append = Callable[[bytearray, bytes, bytes, int], bool]
_Encode = Callable[[int, bytes, bytes], bytes]
_NewPayload = Callable[[bytes | None, int], _Payload]
_Unmasked = Callable[[bytes, bytes], bytes | bytearray]


def _load() -> tuple[str | None, _Apply, _Unmask, _MaskFrame, _Small, _Append, _Encode,
                     _NewPayload, _Unmasked, Any]:
    """Pick the implementations: the C helper when it is built, else pure Python."""
    pure = (None, apply_mask_python, _unmask_buffer_python, _mask_frame_python, mask_int,
            _unmask_append_python, _encode_masked_python, PayloadBufferPython,
            _unmasked_buffer_python, None)
    if os.environ.get("WSFRAME_NO_ACCEL"):
        return pure
    speedups: Any = _optional("wsframe._speedups")
    if speedups is None:
        return pure
    # Unmasking a buffered payload is apply_mask on the buffer: the helper
    # writes into a new bytes object either way.
    return ("wsframe._speedups (C)", speedups.apply_mask, speedups.apply_mask,
            speedups.mask_frame, speedups.apply_mask, speedups.unmask_append,
            speedups.encode_masked, speedups.PayloadBuffer, speedups.apply_mask, speedups)


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


#: The accelerator in use ("wsframe._speedups (C)"), or None for pure Python.
ACCELERATOR: str | None
#: ``apply_mask(data, key, start=0, stop=None)``: ``data[start:stop]`` XORed with
#: the repeated 4-byte masking ``key`` (masking and unmasking are the same
#: operation, RFC 6455 5.3), by the C helper when it is built.
apply_mask: _Apply
#: ``unmask_buffer(buffer, key)``: a whole buffered payload, unmasked, as bytes;
#: ``buffer`` is reused (its content is lost).
unmask_buffer: _Unmask
#: ``mask_frame(prefix, payload, key)``: ``prefix`` followed by ``payload``
#: masked with ``key``: a frame, built at once.
mask_frame: _MaskFrame
#: ``mask_small(data, key)``: the whole of ``data`` XORed with the repeated
#: ``key``, by the method fastest on small payloads (up to about a KiB):
#: `mask_int`, or the C helper when it is built.
mask_small: _Small
#: ``unmask_append(buffer, data, key, reserve)``: append ``data`` XORed with
#: ``key`` to the bytearray ``buffer``; True if the appended bytes are all
#: ASCII. ``reserve`` (the bytes of the frame still to come, this piece
#: included) bounds how far the C helper grows the buffer ahead of the data
#: (by half its content at a time, never past the frame: memory follows the
#: bytes received, not the length the peer declared).
unmask_append: _Append
#: ``encode_masked(first, payload, key)``: a whole masked frame, its first
#: header byte ``first``, the length in its minimal encoding (RFC 6455 5.2),
#: ``key`` and the payload masked with it (5.3). The C helper writes it in one
#: call and one allocation (a client's small frames: 3x fewer calls).
encode_masked: _Encode
#: ``PayloadBuffer(key, length)``: a frame's payload received in pieces
#: (``append``), given unmasked by ``take``; the C helper's type (each piece
#: unmasked as it arrives, into the bytes object handed up) or
#: `PayloadBufferPython`.
PayloadBuffer: _NewPayload
#: ``unmasked_buffer(data, key)``: ``data`` XORed with the repeated ``key``, to
#: be read and dropped (bytes, or in pure Python a bytearray: no final copy).
unmasked_buffer: _Unmasked
#: The C helper module itself when it is in use, else None: for the modules
#: whose accelerated types live in it (text.py's TextBuffer). Detected here
#: and only here.
HELPER: Any
(ACCELERATOR, apply_mask, unmask_buffer, mask_frame, mask_small, unmask_append,
 encode_masked, PayloadBuffer, unmasked_buffer, HELPER) = _load()


def payload_buffers() -> dict[str, _NewPayload]:
    """The `PayloadBuffer` implementations, named as in `implementations`."""
    found: dict[str, _NewPayload] = {"python": PayloadBufferPython}
    if ACCELERATOR is not None:
        found["accelerated"] = PayloadBuffer
    return found


def implementations() -> dict[str, tuple[_Apply, _Unmask, _MaskFrame, _Append, _Encode]]:
    """The masking implementations, for tests and benchmarks.

    ``"python"`` is always there; ``"accelerated"`` is what this process
    uses when the C helper is built (and WSFRAME_NO_ACCEL is unset).
    Each is ``(apply_mask, unmask_buffer, mask_frame, unmask_append,
    encode_masked)``.
    """
    found: dict[str, tuple[_Apply, _Unmask, _MaskFrame, _Append, _Encode]] = {
        "python": (apply_mask_python, _unmask_buffer_python, _mask_frame_python,
                   _unmask_append_python, _encode_masked_python)}
    if ACCELERATOR is not None:
        found["accelerated"] = (apply_mask, unmask_buffer, mask_frame, unmask_append,
                                encode_masked)
    return found
