"""Utf8Decoder fails exactly on the prefixes that cannot become valid UTF-8."""

from __future__ import annotations

import itertools

import pytest

from wsframe.utf8 import Utf8Decoder, Utf8Error

# Completing bytes worth trying: the edges of every continuation range in
# Unicode Table 3-7 (80-8F, 90-9F, A0-BF).
EDGES = [bytes([b]) for b in (0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF)]
SUFFIXES = [b""] + [b"".join(s) for n in (1, 2, 3) for s in itertools.product(EDGES, repeat=n)]


def completable(prefix: bytes) -> bool:
    """Brute force: does some continuation make ``prefix`` valid UTF-8?"""
    for suffix in SUFFIXES:
        try:
            (prefix + suffix).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def streaming_accepts(prefix: bytes) -> bool:
    try:
        Utf8Decoder().decode(prefix, final=False)
    except Utf8Error:
        return False
    return True


def test_fail_fast_matches_brute_force_on_every_two_byte_tail() -> None:
    """Every 1- and 2-byte tail (and 3-byte tails over range edges) after
    valid text: the decoder rejects a prefix iff no continuation can fix it."""
    edge = (0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED,
            0xF0, 0xF4, 0xF5, 0xFF)
    tails = [bytes([a]) for a in range(256)]
    tails += [bytes([a, b]) for a in range(0xC0, 0x100) for b in range(256)]
    tails += [bytes([a, b, c]) for a in range(0xE0, 0x100) for b in edge for c in edge]
    wrong = [t.hex() for t in tails
             if streaming_accepts(b"ok\xce\xba" + t) != completable(b"ok\xce\xba" + t)]
    assert wrong == []


def test_surrogate_prefix_fails_at_its_second_byte() -> None:
    """CPython's own incremental decoder keeps ED A0 pending; ours rejects it."""
    decoder = Utf8Decoder()
    assert decoder.decode(b"abc\xed") == "abc"
    with pytest.raises(Utf8Error) as info:
        decoder.decode(b"\xa0")
    assert info.value.position == -1        # the sequence began in the earlier piece


@pytest.mark.parametrize("text", ["", "plain ascii", "Hello-µ@ßöäüàá-UTF-8!!",
                                  "κόσμε 中文 😀 \U0010ffff \x00"])
def test_valid_text_split_at_every_byte_boundary(text: str) -> None:
    data = text.encode()
    for k in range(len(data) + 1):
        decoder = Utf8Decoder()
        assert decoder.decode(data[:k]) + decoder.decode(data[k:], final=True) == text


def test_truncated_at_the_end_fails_only_when_final() -> None:
    decoder = Utf8Decoder()
    assert decoder.decode(b"ok\xe2\x82") == "ok"
    with pytest.raises(Utf8Error) as info:
        decoder.decode(b"", final=True)
    assert info.value.position == -2
