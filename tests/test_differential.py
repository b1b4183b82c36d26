"""Differential tests: wsframe against wsproto's FrameProtocol and websockets'
sans-I/O Protocol on the same streams. Every disagreement must be one of the
deliberate divergences documented in docs/divergences.md."""

from __future__ import annotations

from collections import Counter

import pytest
from differential import (
    DIVERGENCES,
    _frame,
    explain,
    random_stream,
    run_websockets,
    run_wsframe,
    run_wsproto,
)

SEEDS = range(10_000)   # a fixed seed set: the same streams on every run

PEERS = ["wsproto", "websockets"]


def run_peer(peer: str, stream: bytes):  # type: ignore[no-untyped-def]
    return run_websockets(stream) if peer == "websockets" else run_wsproto(stream)


@pytest.mark.parametrize("peer", PEERS)
def test_no_unexplained_disagreement(peer: str) -> None:
    agreed, explained, unexplained = 0, Counter[str](), []
    verdicts = Counter[str]()
    for seed in SEEDS:
        stream = random_stream(seed)
        ours, error = run_wsframe(stream)
        theirs = run_peer(peer, stream)
        verdicts["rejected" if ours.code else "accepted"] += 1
        if ours.key() == theirs.key():
            agreed += 1
            continue
        reason = explain(peer, stream, ours, error, theirs)
        if reason is None:
            unexplained.append(f"seed {seed}: {stream.hex()}\n  wsframe {ours}\n  {peer} {theirs}")
        else:
            explained[reason] += 1
    assert not unexplained, "\n".join(unexplained[:5])
    # The corpus exercises both outcomes, and the peers agree on most streams.
    assert verdicts["accepted"] > 300 and verdicts["rejected"] > 300
    assert agreed > 0.75 * len(SEEDS)
    print(f"{peer}: {agreed} agreed, explained: {dict(explained)}")


def test_every_divergence_is_real() -> None:
    """Each documented divergence happens on a minimal stream, as described."""
    import random

    rng = random.Random(0)
    cases = {
        "websockets-non-minimal-length": ("websockets", _frame(rng, 0x1, b"hi",
                                                                length_form="16")),
        "websockets-checks-after-payload": ("websockets", _frame(rng, 0x1, b"hello",
                                                                  rsv=4)[:8]),
        "websockets-close-inside-message": ("websockets", _frame(rng, 0x1, b"a", fin=False) +
                                            _frame(rng, 0x8, b"\x03\xe8")),
        "websockets-utf8-at-message-end": ("websockets", _frame(rng, 0x1, b"ok\xff",
                                                                 fin=False) +
                                           _frame(rng, 0x9, b"ping")),
        "websockets-close-reason-checked-first": ("websockets", _frame(
            rng, 0x8, (1016).to_bytes(2, "big") + b"\xff")),
        "wsproto-checks-after-header": ("wsproto", _frame(rng, 0x0, b"x")[:1]),
        "wsproto-utf8-pending-prefix": ("wsproto", _frame(rng, 0x1, b"ok\xed\xa0",
                                                          fin=False) +
                                        _frame(rng, 0x3, b"")),
        "wsproto-rejects-1014": ("wsproto", _frame(rng, 0x8, (1014).to_bytes(2, "big"))),
    }
    assert set(cases) == set(DIVERGENCES)
    for name, (peer, stream) in cases.items():
        ours, error = run_wsframe(stream)
        theirs = run_peer(peer, stream)
        assert ours.key() != theirs.key(), name
        assert explain(peer, stream, ours, error, theirs) == name


def test_divergences_are_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs/divergences.md").read_text()
    for name in DIVERGENCES:
        assert f"`{name}`" in doc, f"{name} is missing from docs/divergences.md"
