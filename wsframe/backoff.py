"""Reconnect policy: exponential backoff and what each close code asks for.

Sans-I/O like the rest of wsframe: `Backoff` hands out delays (numbers of
seconds) and never sleeps; the caller waits however its I/O layer waits
(``await asyncio.sleep(delay)``, a timer, ...).

Why jitter matters for 1013
---------------------------
A server that sheds load with 1013 (Try Again Later) closes many clients at
about the same moment. With plain exponential backoff ("no jitter": 1 s, 2 s,
4 s, ...) every one of them comes back at the same instants, and the server
faces the same crowd again each time: a thundering herd that can keep it
overloaded. Randomizing each wait spreads the crowd out:

* ``jitter="full"`` (the default): wait a uniform random time between 0 and
  the exponential delay. Clients spread over the whole interval; the
  server's load per instant drops the most. The price: an unlucky client
  may retry almost at once.
* ``jitter="equal"``: half the exponential delay, plus a random half. Never
  shorter than half the delay, still spread out.
* ``jitter="none"``: exactly 1 s, 2 s, 4 s, ... Predictable (tests, a single
  client), but synchronised clients stay synchronised.

The delays grow as ``initial * factor ** attempt`` (1 s, doubling, by
default) up to ``max_delay``; `Backoff.reset` starts over after a
connection succeeds.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .close_codes import Retry, explain

__all__ = ["JITTER_MODES", "Backoff", "ReconnectAdvice", "reconnect_advice"]

#: The jitter modes `Backoff` accepts.
JITTER_MODES = ("full", "equal", "none")


class Backoff:
    """Exponential backoff delays for reconnecting, with optional jitter.

    Iterate over it (or call `next_delay`) to get the wait before each new
    attempt; call `reset` once a connection succeeds.

    Args:
        initial: the first delay, in seconds (1.0).
        factor: how much the delay grows per attempt (2.0: doubling).
        max_delay: the cap on any delay, in seconds (60.0).
        jitter: ``"full"``, ``"equal"`` or ``"none"`` (see the module doc).
        random: a source of floats in [0, 1); inject one for reproducible delays.
        max_attempts: stop (StopIteration) after this many delays; None: never.
    """

    def __init__(self, initial: float = 1.0, factor: float = 2.0, max_delay: float = 60.0,
                 jitter: str = "full", random: Callable[[], float] = _random.random,
                 max_attempts: int | None = None) -> None:
        for name, value in (("initial", initial), ("factor", factor), ("max_delay", max_delay)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
        if not initial > 0:
            raise ValueError(f"initial must be > 0, not {initial}")
        if not factor >= 1:
            raise ValueError(f"factor must be >= 1, not {factor}")
        if not max_delay >= initial:
            raise ValueError(f"max_delay ({max_delay}) must be >= initial ({initial})")
        if jitter not in JITTER_MODES:
            raise ValueError(f"jitter must be one of {', '.join(JITTER_MODES)}, not {jitter!r}")
        if max_attempts is not None and (isinstance(max_attempts, bool) or not isinstance(
                max_attempts, int) or max_attempts < 0):
            raise ValueError(f"max_attempts must be a non-negative int or None, not "
                             f"{max_attempts!r}")
        self.initial = float(initial)
        self.factor = float(factor)
        self.max_delay = float(max_delay)
        self.jitter = jitter
        self.max_attempts = max_attempts
        self._random = random
        self.attempt = 0

    def base_delay(self, attempt: int) -> float:
        """The delay before jitter for attempt number ``attempt`` (0-based)."""
        # Stop multiplying once the cap is reached (no float overflow).
        delay = self.initial
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.max_delay:
                return self.max_delay
        return min(delay, self.max_delay)

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The range the jittered delay of ``attempt`` falls in."""
        base = self.base_delay(attempt)
        if self.jitter == "full":
            return 0.0, base
        if self.jitter == "equal":
            return base / 2, base
        return base, base

    def next_delay(self) -> float:
        """The wait before the next attempt; raises StopIteration past max_attempts."""
        if self.max_attempts is not None and self.attempt >= self.max_attempts:
            raise StopIteration
        low, high = self.bounds(self.attempt)
        self.attempt += 1
        if low == high:
            return high
        return low + (high - low) * self._random()

    def reset(self) -> None:
        """Start over: call after a connection succeeds."""
        self.attempt = 0

    def __iter__(self) -> Iterator[float]:
        return self

    def __next__(self) -> float:
        return self.next_delay()


@dataclass(frozen=True)
class ReconnectAdvice:
    """What to do after a connection closed with a given code.

    ``reconnect`` is True (do it, with the backoff), None (the application
    decides; if it does, use the backoff) or False (not automatically: the
    session ended normally or something must be fixed first).
    """

    code: int | None
    retry: Retry
    reconnect: bool | None
    summary: str

    def backoff(self, initial: float = 1.0, factor: float = 2.0, max_delay: float = 60.0,
                jitter: str = "full", random: Callable[[], float] = _random.random) -> Backoff:
        """A fresh `Backoff` for the retries this advice allows (arguments as `Backoff`).

        When the advice is not to reconnect (1000, 1002, 1003, 1007-1010...),
        the backoff yields no delay at all: ``for delay in advice.backoff():``
        then never retries.
        """
        return Backoff(initial, factor, max_delay, jitter, random,
                       max_attempts=None if self.reconnect is not False else 0)


def reconnect_advice(close_code: int | None) -> ReconnectAdvice:
    """Say whether and how a client should reconnect after ``close_code``.

    1012 and 1013 (and 1006, a connection lost without a Close frame): yes,
    with exponential backoff. 1001, 1011, 1014 and the 3000-4999 ranges:
    maybe. 1002, 1003, 1007, 1008, 1009, 1010: not unchanged. 1000: no need.
    ``None`` means the peer's Close frame had no code (treated as 1005).
    """
    info = explain(1005 if close_code is None else close_code)
    reconnect = {Retry.WITH_BACKOFF: True, Retry.MAYBE: None}.get(info.retry, False)
    return ReconnectAdvice(close_code, info.retry, reconnect,
                           f"{info.label}: {info.reconnect}")
