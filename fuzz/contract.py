"""The contract every fuzz harness asserts, written once.

wsframe promises, for every surface that takes bytes from a peer or a file:

* only the documented exception leaves it (`ProtocolError` from the codec,
  `HandshakeError` from the handshake helpers, `CaptureError` from the
  capture reader; `ConnectionClosed` from sending on a closed `Connection`);
  anything else (`zlib.error`, `struct.error`, `AttributeError`, ...) is a
  finding: `only` turns it into an `Escaped` error naming the surface;
* memory follows its limits, not what the peer declares or compresses:
  `peak_memory` measures a run with tracemalloc, `check_memory` compares it
  with a budget;
* where bytes arrive in pieces, the result does not depend on where the
  pieces were cut: `Input.pieces` lets the fuzzer choose the cuts, and
  `merge_chunks` compares streamed chunks by content, not by cut.

`Input` reads the fuzzer's bytes as settings, cut points and a payload,
deterministically and in pure Python (atheris's FuzzedDataProvider is not
needed), so that tests/test_fuzz_harnesses.py replays the same inputs
without atheris installed.
"""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from wsframe import BinaryChunk, TextChunk

T = TypeVar("T")

KiB = 1024
MiB = 1024 * KiB


class Escaped(AssertionError):
    """An exception other than the documented one left a surface (a finding)."""


class Unbounded(AssertionError):
    """A run used more memory than its budget (a finding)."""


@contextmanager
def only(allowed: tuple[type[BaseException], ...], surface: str) -> Iterator[None]:
    """Let the ``allowed`` exceptions through; turn any other into `Escaped`.

    ``surface`` names what was called (``"check_request"``), for the report.
    """
    try:
        yield
    except allowed:
        raise
    except Exception as exc:
        names = " or ".join(kind.__name__ for kind in allowed) or "nothing"
        raise Escaped(f"{surface}: {_name(type(exc))} escaped ({exc}); only {names} may"
                      ) from exc


def _name(kind: type[BaseException]) -> str:
    """``zlib.error``, ``struct.error``, ``ValueError``."""
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def attempt(allowed: tuple[type[BaseException], ...], surface: str,
            call: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``call(*args, **kwargs)``; None if it raised one of ``allowed``, `Escaped`
    if it raised anything else."""
    try:
        with only(allowed, surface):
            return call(*args, **kwargs)
    except allowed:
        return None


def peak_memory(run: Callable[[], T]) -> tuple[T, int]:
    """Run ``run``; return its result and the peak memory traced while it ran."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return result, max(0, peak - base)


def check_memory(peak: int, budget: int, surface: str) -> None:
    """Raise `Unbounded` if ``peak`` bytes exceed ``budget``."""
    if peak > budget:
        raise Unbounded(f"{surface}: peak {peak:,} bytes over a budget of {budget:,}")


class Input:
    """The fuzzer's bytes, read front to back as settings, then a payload.

    Reading past the end gives zeros, so every input is valid and short
    inputs mean "all defaults".
    """

    __slots__ = ("_at", "_data")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def byte(self) -> int:
        """The next byte (0 past the end)."""
        at = self._at
        self._at += 1
        return self._data[at] if at < len(self._data) else 0

    def number(self, size: int) -> int:
        """The next ``size`` bytes as a big-endian number."""
        return int.from_bytes(bytes(self.byte() for _ in range(size)), "big")

    def pick(self, choices: Sequence[T]) -> T:
        """One of ``choices``, by the next byte."""
        return choices[self.byte() % len(choices)]

    def cuts(self, most: int = 7) -> list[int]:
        """A count (at most ``most``) and that many 2-byte cut positions, raw:
        `pieces` maps them onto the payload once its length is known."""
        return [self.number(2) for _ in range(self.byte() % (most + 1))]

    def rest(self) -> bytes:
        """Everything not read yet (the payload)."""
        rest = self._data[self._at:]
        self._at = len(self._data)
        return rest


def pieces(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at ``cuts`` (raw positions, taken modulo its length + 1)."""
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in itertools.pairwise(points)] or [b""]


def merge_chunks(events: list[Any]) -> list[Any]:
    """Streaming chunks follow the read boundaries: merge consecutive chunks of
    one message so that runs are compared by content, not by cuts."""
    out: list[Any] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextChunk) and isinstance(last, TextChunk) and not last.final:
            out[-1] = TextChunk(last.text + event.text, event.final)
        elif isinstance(event, BinaryChunk) and isinstance(last, BinaryChunk) and \
                not last.final:
            out[-1] = BinaryChunk(last.data + event.data, event.final)
        else:
            out.append(event)
    return out
