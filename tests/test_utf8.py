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


TEXT = "añ€😀 κόσμε 東京 ok".encode()


@pytest.mark.parametrize("cuts", [(1, 2), (2, 3), (3, 5), (5, 9), (1, 9), (6, 7), (4, 8)])
def test_three_pieces_with_characters_split_across_them(cuts: tuple[int, int]) -> None:
    """Characters cut across pieces are held and completed by the next
    piece, however short."""
    a, b = cuts
    pieces = [TEXT[:a], TEXT[a:b], TEXT[b:]]
    decoder = Utf8Decoder()
    out = ""
    for i, piece in enumerate(pieces):
        out += decoder.decode(piece, i == len(pieces) - 1)
        assert decoder.pending == bool(decoder.held)
    assert out == TEXT.decode()


def test_held_bytes_are_the_incomplete_last_character() -> None:
    decoder = Utf8Decoder()
    assert decoder.decode(b"x\xf0\x9f") == "x"
    assert decoder.held == b"\xf0\x9f" and decoder.pending
    assert decoder.decode(b"\x98") == ""            # still inside the character
    assert decoder.held == b"\xf0\x9f\x98"
    assert decoder.decode(b"\x80y") == "\U0001f600y"
    assert decoder.held == b"" and not decoder.pending


def test_error_positions_count_from_the_start_of_the_piece() -> None:
    """A bad byte after held bytes: the position is within the new piece,
    and the text before it (in this piece) is what was valid."""
    decoder = Utf8Decoder()
    decoder.decode(b"ab\xce")
    with pytest.raises(Utf8Error) as info:
        decoder.decode(b"\xbaok\xff")   # completes the kappa, then 'ok', then a bad byte
    assert info.value.position == 3
    assert info.value.valid_text == "κok"


def test_a_held_character_that_cannot_complete_fails_at_once() -> None:
    decoder = Utf8Decoder()
    decoder.decode(b"ab\xed")
    with pytest.raises(Utf8Error) as info:
        decoder.decode(b"\xa0")
    assert info.value.position == -1


def test_the_table_3_7_automaton_matches_brute_force() -> None:
    """utf8.check (the automaton behind the pure-Python TextBuffer and the
    check of held bytes): it rejects a prefix iff no continuation can make
    it valid, on every 1- and 2-byte sequence and 3-byte ones over range edges."""
    from wsframe.utf8 import REJECT, check

    edge = (0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xED,
            0xF0, 0xF4, 0xF5, 0xFF)
    sequences = [bytes([a]) for a in range(256)]
    sequences += [bytes([a, b]) for a in range(256) for b in range(256)]
    sequences += [bytes([a, b, c]) for a in range(0xE0, 0x100) for b in edge for c in edge]
    wrong = [s.hex() for s in sequences if (check(s)[0] != REJECT) != completable(s)]
    assert wrong == []
    # A rejected sequence is reported at its first byte, as CPython's decoder
    # reports it, also when it began in an earlier piece.
    assert check(b"ok\xe2\x28")[2] == 2
    assert check(b"\x82\x28", *check(b"ok\xe2")[:2])[2] == -1
    assert check(b"\x80")[2] == 0 and check(b"ok")[2] is None
