"""The close-code registry and the reconnect policy."""

from __future__ import annotations

import itertools
import random

import pytest

from wsframe import CloseCode, may_be_sent
from wsframe.backoff import Backoff, reconnect_advice
from wsframe.close_codes import Retry, compare, explain, registry

# The IANA "WebSocket Close Code Number Registry", codes 1000-1015, with the
# registry's own names.
IANA = {
    1000: "Normal Closure", 1001: "Going Away", 1002: "Protocol error",
    1003: "Unsupported Data", 1004: "Reserved", 1005: "No Status Rcvd",
    1006: "Abnormal Closure", 1007: "Invalid frame payload data", 1008: "Policy Violation",
    1009: "Message Too Big", 1010: "Mandatory Ext.", 1011: "Internal Error",
    1012: "Service Restart", 1013: "Try Again Later", 1014: "Bad Gateway",
    1015: "TLS handshake",
}


def test_every_iana_code_has_its_entry() -> None:
    for code, name in IANA.items():
        info = explain(code)
        assert (info.code, info.last, info.name) == (code, code, name)
        assert info.constant == CloseCode(code).name
        assert info.meaning and info.when_seen and info.what_to_do and info.reconnect
        assert info.sendable is may_be_sent(code)
    assert [i.code for i in registry()[:16]] == list(IANA)


def test_ranges_cover_every_other_code_exactly_once() -> None:
    covered = sorted(c for info in registry() for c in range(info.code, info.last + 1))
    assert covered == list(range(65536))
    assert explain(3500).name == "Registered by libraries and frameworks"
    assert explain(4000).name == explain(4999).name == "Private use"
    assert explain(1016).sendable is False and explain(2999).sendable is False
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 5000, 65535):
        assert explain(code).sendable is False
    for code in (3000, 3999, 4000, 4999):
        assert explain(code).sendable is True


def test_1002_and_1013_carry_the_guidance() -> None:
    protocol, later = explain(1002), explain(1013)
    assert protocol.retry is Retry.NOT_UNCHANGED
    assert "malformed header" in protocol.when_seen and "reserved opcode" in protocol.when_seen
    assert "proxy" in protocol.when_seen and "proxies" in protocol.what_to_do
    assert later.retry is Retry.WITH_BACKOFF
    assert "1 s" in later.what_to_do and "twice as long" in later.what_to_do
    assert "1012" in later.when_seen and "not a restart" in later.when_seen
    assert later.sent_by == "server"


def test_compare_1002_1013() -> None:
    result = compare(1002, 1013)
    assert (result.left.code, result.right.code) == (1002, 1013)
    labels = [row[0] for row in result.rows]
    assert labels == ["name", "meaning", "when you see it", "what to do", "in a Close frame",
                      "sent by", "reconnect"]
    assert result.rows[0][1:] == ("Protocol error", "Try Again Later")
    assert "do not reconnect unchanged" in result.summary
    assert "exponential backoff" in result.summary
    assert compare(1012, 1013).summary == "Both say: reconnect, with exponential backoff."


@pytest.mark.parametrize("bad", ["1002", 10.5, None, True])
def test_explain_rejects_non_integers(bad: object) -> None:
    with pytest.raises(TypeError, match="close code is an int"):
        explain(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 65536, 10**9])
def test_explain_rejects_impossible_codes(bad: int) -> None:
    with pytest.raises(ValueError, match="0-65535"):
        explain(bad)


@pytest.mark.parametrize(("code", "reconnect", "retry"), [
    (1013, True, Retry.WITH_BACKOFF), (1012, True, Retry.WITH_BACKOFF),
    (1006, True, Retry.WITH_BACKOFF), (1001, None, Retry.MAYBE), (1011, None, Retry.MAYBE),
    (1014, None, Retry.MAYBE), (4000, None, Retry.MAYBE),
    (1002, False, Retry.NOT_UNCHANGED), (1003, False, Retry.NOT_UNCHANGED),
    (1007, False, Retry.NOT_UNCHANGED), (1008, False, Retry.NOT_UNCHANGED),
    (1009, False, Retry.NOT_UNCHANGED), (1000, False, Retry.NOT_NEEDED),
    (None, False, Retry.NOT_NEEDED),
])
def test_reconnect_advice(code: int | None, reconnect: bool | None, retry: Retry) -> None:
    advice = reconnect_advice(code)
    assert (advice.code, advice.reconnect, advice.retry) == (code, reconnect, retry)
    assert advice.summary


# -- Backoff ------------------------------------------------------------------------

def test_backoff_without_jitter_starts_at_1s_and_doubles() -> None:
    backoff = Backoff(jitter="none", max_delay=30)
    assert [next(backoff) for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff.attempt == 8


def test_backoff_resets_on_success() -> None:
    backoff = Backoff(jitter="none")
    assert [next(backoff) for _ in range(3)] == [1, 2, 4]
    backoff.reset()
    assert next(backoff) == 1


def test_full_and_equal_jitter_use_the_injected_random_source() -> None:
    values = iter([0.0, 0.5, 0.999, 0.25])
    full = Backoff(jitter="full", random=lambda: next(values))
    assert [next(full) for _ in range(4)] == [0.0, 1.0, pytest.approx(3.996), 2.0]
    equal = Backoff(jitter="equal", random=lambda: 0.5)
    assert [next(equal) for _ in range(3)] == [0.75, 1.5, 3.0]
    rng = random.Random(1)
    seeded = [Backoff(random=random.Random(1).random).next_delay() for _ in range(2)]
    assert seeded[0] == seeded[1] == rng.random()


def test_full_jitter_spreads_a_herd_of_clients() -> None:
    """1000 clients shed at once: with no jitter all retry at the same instant;
    with full jitter, no tenth of the interval gets more than ~15% of them."""
    rng = random.Random(42)
    plain = {Backoff(jitter="none").next_delay() for _ in range(1000)}
    assert plain == {1.0}
    delays = [Backoff(jitter="full", random=rng.random).next_delay() for _ in range(1000)]
    buckets = [0] * 10
    for delay in delays:
        buckets[min(int(delay * 10), 9)] += 1
    assert max(buckets) < 150


def test_backoff_max_attempts_and_cap_without_overflow() -> None:
    backoff = Backoff(jitter="none", max_attempts=3)
    assert list(backoff) == [1, 2, 4]
    big = Backoff(jitter="none", factor=10, max_delay=100)
    assert big.base_delay(10_000) == 100


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"initial": 0}, ValueError), ({"factor": 0.5}, ValueError),
    ({"max_delay": 0.5}, ValueError), ({"jitter": "some"}, ValueError),
    ({"max_attempts": -1}, ValueError), ({"initial": "1"}, TypeError),
])
def test_backoff_rejects_bad_settings(kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_advice_gives_a_backoff_that_follows_the_close_code() -> None:
    backoff = reconnect_advice(1013).backoff(jitter="none")
    assert [next(backoff) for _ in range(3)] == [1, 2, 4]
    assert list(itertools.islice(reconnect_advice(1001).backoff(), 3)) != []   # maybe: allowed
    # After 1002 (a broken peer) or 1000 (done), the backoff never yields a retry.
    assert list(reconnect_advice(1002).backoff()) == []
    assert list(reconnect_advice(1000).backoff(jitter="none")) == []
