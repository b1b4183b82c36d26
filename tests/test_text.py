"""TextBuffer (text.py): every implementation keeps a text message piece by
piece, fails at the piece that makes it impossible UTF-8 with the position
CPython reports for the whole message, and gives the text once."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from child import run_json
from splitting import chunks

from wsframe import text
from wsframe.masking import apply_mask_python
from wsframe.utf8 import Utf8Decoder, Utf8Error

BUFFERS = text.text_buffers()
KEY = b"\x9a\x01\x7f\xe3"
ALPHABET = ["a", " ", "\x7f", "\u00e9", "\u00ff", "\u0100", "\u6771", "\ufffd", "\U0001f600",
            "\U0010ffff"]

# Characters of one to three bytes only (the edges of each length and of the
# surrogates among them): a text of these is kept in a two-byte str, the kind
# the C buffer decodes 16 bytes at a time (_speedups.c, utf8_windows_ucs2).
BMP_ALPHABET = ["a", " ", "\u0080", "\u00e9", "\u00ff", "\u0100", "\u07ff", "\u0800", "\u20ac",
                "\u6771", "\ud7ff", "\ue000", "\ufffd", "\uffff"]


# Characters of one or two bytes up to U+00FF: a text of these is kept in a
# one-byte (Latin-1) str, which the C buffer also decodes 64 bytes at a time,
# until a wider character (WIDER, now and then) makes the str wider.
LATIN1_ALPHABET = ["a", " ", "\x7f", "\x80", "\xa0", "\u00e9", "\u00ff"]
WIDER = ["\u0100", "\u20ac", "\U0001f600"]
#: (first character, alphabet, chance of a WIDER character) by str kind
KINDS = {"ucs2": ("\u20ac", BMP_ALPHABET, 0.0), "latin1": ("\u00e9", LATIN1_ALPHABET, 0.0005)}


def bmp_text(rng: random.Random, count: int, kind: str = "ucs2") -> str:
    """``count`` runs: a character of the kind's alphabet (now and then a
    WIDER one), or up to 40 ASCII letters (so that 8- and 16-byte ASCII runs
    meet the other characters anywhere)."""
    _first, alphabet, wider = KINDS[kind]
    out = []
    for _ in range(count):
        draw = rng.random()
        out.append(rng.choice(WIDER) if draw < wider else rng.choice(alphabet) if draw < 0.8
                   else "x" * rng.randrange(41))
    return "".join(out)


# Tiny piece sizes and sizes either side of the buffers' thresholds: the
# Python buffer decodes pieces of 256 bytes and up with CPython's decoder
# (shorter ones through the automaton), the C buffer works in 8 KiB blocks.
STEPS = (1, 2, 3, 5, 64, 255, 256, 1500, 8191, 8192, 9000)


def pieces_of(data: bytes, rng: random.Random) -> list[bytes]:
    return chunks(data, "random", seed=rng.randrange(1 << 32), steps=STEPS)


def feed(name: str, pieces: list[bytes], masked: bool) -> tuple[int, int, object]:
    """(index of the piece refused or -1, the position, the text or None)."""
    buffer = BUFFERS[name]()
    received = 0
    for index, piece in enumerate(pieces):
        if masked:
            # Lined up with the piece's place in a frame that began at byte 0.
            key = KEY[received % 4:] + KEY[:received % 4]
            bad = buffer.append(apply_mask_python(piece, key), key, 10_000)
        else:
            bad = buffer.append(piece, None, len(piece))
        received += len(piece)
        if bad >= 0:
            return index, bad, None
        assert len(buffer) == received
    bad = buffer.end()
    if bad >= 0:
        return len(pieces), bad, None
    text = buffer.text()
    assert_sound(text)
    return -1, -1, text


def assert_sound(text: object) -> None:
    """A str the C buffer wrote into must be one CPython itself would make:
    a str of the narrowest kind, flagged ASCII exactly when it is, encoding
    back to its bytes (equality compares kinds and code units, not the
    flags)."""
    if isinstance(text, str):
        assert text.isascii() == all(ord(c) < 128 for c in text)
        assert text.encode("utf-8") == text.encode("utf-8", "surrogatepass")
        assert text.encode("utf-8").decode("utf-8") == text


def expected(pieces: list[bytes]) -> tuple[int, int]:
    """The reference: the first piece after which the bytes so far cannot
    begin UTF-8 (Utf8Decoder, checked by brute force in test_utf8.py), and
    where CPython's decoder puts the error in the whole message."""
    whole = b"".join(pieces)
    try:
        whole.decode("utf-8")
    except UnicodeDecodeError as exc:
        position = exc.start
    else:
        return -1, -1
    decoder = Utf8Decoder()
    for index, piece in enumerate(pieces):
        try:
            decoder.decode(piece)
        except Utf8Error:
            return index, position
    return len(pieces), position        # it ends inside a character


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "plain"])
@pytest.mark.parametrize("seed", range(40))
def test_valid_text_in_random_pieces(name: str, masked: bool, seed: int) -> None:
    rng = random.Random(seed)
    ascii_run = "x" * rng.choice((0, 10, 2000))
    message = ascii_run + "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 4000)))
    pieces = pieces_of(message.encode(), rng)
    assert feed(name, pieces, masked) == (-1, -1, message)


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "plain"])
@pytest.mark.parametrize("seed", range(40))
def test_valid_text_of_one_to_three_byte_characters_in_random_pieces(
        name: str, kind: str, masked: bool, seed: int) -> None:
    rng = random.Random(seed)
    message = KINDS[kind][0] + bmp_text(rng, rng.randrange(0, 3000), kind)
    pieces = pieces_of(message.encode(), rng)
    assert feed(name, pieces, masked) == (-1, -1, message)


BAD = [b"\x80", b"\xc0\x80", b"\xc1\xbf", b"\xed\xa0\x80", b"\xed\xbf", b"\xe0\x9f\x80",
       b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5", b"\xff", b"\xce", b"\xe2\x82",
       b"\xf0\x9f\x98", b"\xce\x41", b"\xe2\x28\xa1", b"\xf0\x90\x28\xbc"]


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("bad", BAD, ids=[b.hex() for b in BAD])
def test_invalid_text_fails_at_the_first_impossible_piece(name: str, bad: bytes) -> None:
    """Invalid or truncated sequences after ASCII and after other text, in
    many splits: refused at the same piece and position as the reference."""
    rng = random.Random(bad)
    for before in (b"", b"ok", b"a" * 1500, "\u00e9t\u00e9 \u6771".encode() * 300):
        for _ in range(8):
            message = before + bad + rng.choice((b"", b"tail", "\u00e9".encode() * 700))
            pieces = pieces_of(message, rng)
            index, position = expected(pieces)
            got = feed(name, pieces, masked=rng.random() < 0.5)
            assert got[:2] == (index, position), (before[:8], message[-12:])


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("seed", range(300))
def test_text_with_random_bytes_in_it_is_judged_as_the_reference_does(name: str,
                                                                      seed: int) -> None:
    """Valid characters with a few random bytes among them (so most messages
    break somewhere, many in a sequence that looked valid so far), in random
    pieces, masked or not: the same piece and position as the reference."""
    rng = random.Random(seed)
    judged_with_random_bytes(name, seed, rng, b"", lambda: rng.choice(ALPHABET), 3000, 0.002)


def judged_with_random_bytes(name: str, seed: int, rng: random.Random, first: bytes,
                             text: Callable[[], str], most: int, rate: float) -> None:
    """``first``, then up to ``most`` draws of ``text()``, each replaced at
    ``rate`` by 1-3 random bytes, in random pieces (masked for even seeds):
    refused at the same piece and position as the reference, else the same
    text."""
    parts = [first]
    for _ in range(rng.randrange(1, most)):
        if rng.random() < rate:
            parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4))))
        else:
            parts.append(text().encode())
    pieces = pieces_of(b"".join(parts), rng)
    index, position = expected(pieces)
    got = feed(name, pieces, masked=seed % 2 == 0)
    assert got[:2] == (index, position)
    if index == -1:
        assert got[2] == b"".join(pieces).decode()


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(100))
def test_two_byte_and_latin1_str_text_with_random_bytes_in_it(name: str, kind: str,
                                                              seed: int) -> None:
    """As above, in text kept in a two-byte or a Latin-1 str (the C buffer's
    64-byte blocks, which must leave every error to its loop)."""
    rng = random.Random(seed)
    judged_with_random_bytes(name, seed, rng, KINDS[kind][0].encode(),
                             lambda: bmp_text(rng, 1, kind), 2000, 0.003)


def judged_whole(name: str, message: bytes) -> tuple[object, object]:
    """(what the buffer says of ``message`` given in one piece: the position
    it refuses, else where an incomplete end starts, else the text; what
    CPython's decoder says: the error's start or the text). A text returned
    is checked with `assert_sound`."""
    try:
        want: object = message.decode("utf-8")
    except UnicodeDecodeError as exc:
        want = exc.start
    buffer = BUFFERS[name]()
    bad = buffer.append(message, None, len(message))
    got = bad if bad >= 0 else buffer.end() if buffer.end() >= 0 else buffer.text()
    assert_sound(got)
    return got, want


@pytest.mark.parametrize("name", BUFFERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("after", ["\u00ff and \u00e9t\u00e9 \u00e0 vous".encode(), b""],
                         ids=["then-19-bytes", "at-the-end"])
def test_every_lead_and_second_byte_in_two_byte_and_latin1_str_text(name: str, kind: str,
                                                                   after: bytes) -> None:
    """Every byte 80-FF followed by every byte and a few others, after a
    random run of characters kept in a two-byte or a Latin-1 str (so the
    sequence falls at every place of a block and a window of the C buffer),
    then 19 bytes of more or nothing (the last bytes a block may check and a
    window decode): accepted or refused exactly as CPython's decoder says."""
    rng = random.Random(len(after))
    first = KINDS[kind][0]
    for lead in range(0x80, 0x100):
        for second in range(256):
            for tail in (b"", b"\x80", b"\xbf", b"\x80\x80", b"\x41"):
                before = (first + bmp_text(rng, rng.randrange(1, 8), kind)).encode()
                message = before + bytes((lead, second)) + tail + after
                got, want = judged_whole(name, message)
                assert got == want, (before.hex(), message[len(before):].hex())


@pytest.mark.parametrize("name", BUFFERS)
def test_every_lead_and_second_byte_with_bytes_after_it(name: str) -> None:
    """Every byte 80-FF followed by every byte, then continuation or other
    bytes, inside a longer piece (the C loop's path for four bytes at hand,
    the Python buffer's decoder) and at its very end (the C loop's path for
    its last bytes, the bytes held): accepted, refused or left incomplete
    exactly as CPython's decoder says, at its position."""
    before = "\u00e9t\u00e9 ".encode() * 50       # 300 bytes, not ASCII
    tails = [tail + b" ok" for tail in (b"\x80\x80", b"\xbf\x41", b"\x41\x80", b"\x80\xc0")]
    tails += [b"", b"\x80", b"\xbf", b"\x41"]
    for lead in range(0x80, 0x100):
        for second in range(256):
            for tail in tails:
                message = before + bytes((lead, second)) + tail
                got, want = judged_whole(name, message)
                assert got == want, message[len(before):].hex()


@pytest.mark.parametrize("name", BUFFERS)
def test_a_held_prefix_that_cannot_complete_fails_on_its_last_byte(name: str) -> None:
    """ED A0 (a surrogate's first two bytes): CPython's decoder would wait for
    a third byte; the buffer fails as the second arrives, in either path."""
    for before in (b"abc", "\u00e9".encode() * 600):
        buffer = BUFFERS[name]()
        assert buffer.append(before + b"\xed", None, 0) == -1
        assert buffer.end() == len(before)
        assert buffer.append(b"\xa0", None, 0) == len(before)


@pytest.mark.parametrize("name", BUFFERS)
def test_text_is_given_once_and_a_fresh_buffer_is_empty(name: str) -> None:
    buffer = BUFFERS[name]()
    assert len(buffer) == 0 and buffer.end() == -1 and buffer.text() == ""
    buffer = BUFFERS[name]()
    assert buffer.append("h\u00e9".encode(), None, 3) == -1
    assert buffer.text() == "h\u00e9"


_HOSTILE = r'''
import json, sys
from wsframe import text
new = text.text_buffers()[sys.argv[1]]
K = b"\x01\x02\x03\x04"
def run(*calls):
    buffer = new()
    result = None
    for method, args in calls:
        result = getattr(buffer, method)(*args)
    return result
cases = [
    [("append", (b"ab", K, -5))], [("append", (b"ab", K, 2**70))], [("append", (b"ab", b"12", 1))],
    [("append", (None, K, 1))], [("append", ("text", None, 1))], [("append", (b"ab", K, "1"))],
    [("append", (memoryview(b"abcdefgh")[::2], None, 4))], [("append", (b"", None, 0))],
    [("append", (b"ab", None, 0)), ("text", ())], [("append", (b"\xce", None, 1)), ("text", ())],
    [("append", (bytearray(b"\xce\xba"), None, 2)), ("text", ())],
]
outcomes = []
for calls in cases:
    try:
        result = run(*calls)
    except (TypeError, ValueError, BufferError, OverflowError) as exc:
        outcomes.append(type(exc).__name__)
    else:
        outcomes.append(["ok", result])
try:
    new(1)
except TypeError:
    outcomes.append("TypeError")
else:
    outcomes.append("accepted")
print(json.dumps(outcomes))
'''


@pytest.mark.parametrize("name", BUFFERS)
def test_hostile_arguments_raise_and_never_crash(name: str) -> None:
    """In a child process (tests/child.py)."""
    outcomes = run_json(_HOSTILE, name)
    # (A bad key or reserve is refused by the C helper; pure Python's
    # reference reads the reserve as a hint only.)
    assert outcomes[3:5] == ["TypeError", "TypeError"]
    assert outcomes[7:] == [["ok", -1], ["ok", "ab"], "ValueError", ["ok", "\u03ba"],
                            "TypeError"]
    assert all(outcome != ["ok", None] for outcome in outcomes)
