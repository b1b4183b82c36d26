"""Helpers to feed a byte stream whole, byte by byte, or in random chunks."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from wsframe import ProtocolError

SPLIT_MODES = ("whole", "bytewise", "random")
# The piece sizes the "random" mode draws from unless told otherwise.
STEPS = (1, 2, 3, 5, 7, 13, 64, 200, 1000)


def chunks(data: bytes, mode: str, seed: int = 0,
           steps: tuple[int, ...] = STEPS) -> list[bytes]:
    """Cut ``data`` into the pieces a given split mode feeds ("random":
    sizes drawn from ``steps`` with the given seed)."""
    if mode == "whole":
        return [data]
    if mode == "bytewise":
        return [data[i:i + 1] for i in range(len(data))]
    if mode == "random":
        rng = random.Random(seed)
        out, pos = [], 0
        while pos < len(data):
            step = rng.choice(steps)
            out.append(data[pos:pos + step])
            pos += step
        return out
    raise ValueError(mode)


def run(feed: Callable[[bytes], Iterator[Any]], pieces: Iterable[bytes]
        ) -> tuple[list[Any], ProtocolError | None]:
    """Feed pieces until the end or the first ProtocolError; return (events, error)."""
    events: list[Any] = []
    for piece in pieces:
        try:
            for event in feed(piece):
                events.append(event)
        except ProtocolError as exc:
            return events, exc
    return events, None
