"""Fail-fast incremental UTF-8 decoding for text messages (RFC 6455 8.1).

A text message may arrive in many fragments, and a fragment may split a
character. RFC 6455 section 8.1 asks an endpoint to fail the connection when
the bytes are not UTF-8; Autobahn|Testsuite (cases 6.4.x) checks that this
happens as soon as the received prefix cannot be valid, not at the end.

Strategy: CPython's UTF-8 decoder (strict, rejects overlongs, surrogates and
code points above U+10FFFF), in its incremental form (``codecs.utf_8_decode``
with ``final=False``), does the work and already raises on most impossible
prefixes. It leaves an incomplete trailing sequence (1-3 bytes) unconsumed
without judging all of it, and `Utf8Decoder` holds those bytes for the next
piece: on CPython 3.10-3.13 the prefix ED A0 (the
start of a UTF-16 surrogate, never valid) stays pending until the next byte.
`Utf8Decoder` therefore checks the pending bytes itself against the
well-formed byte sequences of Unicode (Table 3-7), so every impossible prefix
is reported as soon as its last byte arrives.
"""

from __future__ import annotations

import codecs
from typing import Final

__all__ = ["ACCEPT", "REJECT", "TABLE_3_7", "SEQUENCE_LENGTH", "Utf8Decoder", "Utf8Error",
           "check"]

_utf_8_decode = codecs.utf_8_decode

#: The length of the UTF-8 sequence a lead byte starts (Unicode Table 3-7);
#: 0 for bytes that start none (continuation bytes, C0, C1, F5-FF).
SEQUENCE_LENGTH = bytes(1 if b < 0x80 else 2 if 0xC2 <= b <= 0xDF else
                         3 if 0xE0 <= b <= 0xEF else 4 if 0xF0 <= b <= 0xF4 else 0
                         for b in range(256))


class Utf8Error(ValueError):
    """The bytes fed so far cannot be (the start of) valid UTF-8.

    ``position`` is the index of the first byte of the invalid sequence,
    counted from the start of the piece just fed: negative when that sequence
    began in an earlier piece (its bytes were pending). The caller, which
    knows how many bytes came before the piece, adds them.
    """

    def __init__(self, position: int, valid_text: str = "") -> None:
        super().__init__(f"invalid UTF-8 at byte {position} of the piece")
        self.position = position
        #: The characters of the failing piece that were complete and valid
        #: before the error (a streaming reader still delivers them).
        self.valid_text = valid_text


# -- Unicode Table 3-7 as an automaton ---------------------------------------------
# The well-formed UTF-8 byte sequences, one state per position inside a
# character: ACCEPT between characters; 1, 2, 3 continuation bytes (80-BF)
# still to come; or the second byte of E0 (A0-BF: no overlong forms), ED
# (80-9F: no surrogates), F0 (90-BF: no overlong forms), F4 (80-8F: nothing
# above U+10FFFF). REJECT: no continuation can make the bytes so far valid.
ACCEPT: Final = 0
REJECT: Final = 8
_CONT1, _CONT2, _CONT3, _AFTER_E0, _AFTER_ED, _AFTER_F0, _AFTER_F4 = range(1, 8)


def _automaton() -> bytes:
    table = bytearray([REJECT]) * (9 * 256)
    start = table                   # row ACCEPT
    for b in range(0x80):
        start[b] = ACCEPT
    for b in range(0xC2, 0xE0):
        start[b] = _CONT1
    for b in (*range(0xE1, 0xED), 0xEE, 0xEF):
        start[b] = _CONT2
    start[0xE0], start[0xED] = _AFTER_E0, _AFTER_ED
    for b in range(0xF1, 0xF4):
        start[b] = _CONT3
    start[0xF0], start[0xF4] = _AFTER_F0, _AFTER_F4
    rows = {_CONT1: (0x80, 0xBF, ACCEPT), _CONT2: (0x80, 0xBF, _CONT1),
            _CONT3: (0x80, 0xBF, _CONT2), _AFTER_E0: (0xA0, 0xBF, _CONT1),
            _AFTER_ED: (0x80, 0x9F, _CONT1), _AFTER_F0: (0x90, 0xBF, _CONT2),
            _AFTER_F4: (0x80, 0x8F, _CONT2)}
    for state, (low, high, then) in rows.items():
        for b in range(low, high + 1):
            table[state * 256 + b] = then
    return bytes(table)


#: ``TABLE_3_7[state * 256 + byte]``: the state after ``byte``.
TABLE_3_7: Final = _automaton()


def check(data: bytes | bytearray, state: int = ACCEPT, since: int = 0
          ) -> tuple[int, int, int | None]:
    """Run the automaton over ``data`` from ``state``, ``since`` bytes into a
    character: ``(state, since, bad)`` at its end, where ``bad`` is None, or
    on a byte that makes the bytes so far impossible ``(REJECT, 0, bad)``,
    ``bad`` the index in ``data`` of the first byte of its sequence (negative
    when the sequence began before ``data``), which is the position CPython's
    decoder reports."""
    table = TABLE_3_7
    for i, b in enumerate(data):
        state = table[state * 256 + b]
        if state == REJECT:
            return REJECT, 0, i - since
        since = 0 if state == ACCEPT else since + 1
    return state, since, None


def _cannot_complete(pending: bytes) -> bool:
    """True if an incomplete sequence (1-3 bytes) can never become a valid character."""
    return check(pending)[0] == REJECT


class Utf8Decoder:
    """Decode a text message piece by piece, failing at the first bad byte.

    ``pending`` is True while the bytes so far end inside a character. When
    it is False, a piece of ASCII bytes (``data.isascii()``, one C call) is
    valid as it is and leaves nothing pending: a caller that only validates
    may skip `decode` for it.
    """

    __slots__ = ("_held", "pending")

    def __init__(self) -> None:
        self._held = b""        # the bytes of an incomplete last character
        self.pending = False

    def decode(self, data: bytes | bytearray, final: bool = False) -> str:
        """Decode the next piece; ``final`` marks the end of the message.

        Returns the characters completed by this piece. Raises `Utf8Error`
        if the bytes so far cannot start valid UTF-8, or, when ``final``, if
        the message ends inside a character.
        """
        # codecs.utf_8_decode, the function behind the incremental decoder,
        # called directly: the decoder's Python-level wrapper copies each
        # piece onto what it holds and hides what it holds (measured: 8%
        # of a 1 MiB text message in 1,460-byte reads).
        held = self._held
        if not held:
            return self._decode(data, final, 0, "")
        need = SEQUENCE_LENGTH[held[0]] - len(held)
        if len(data) <= need:                   # still inside the character
            return self._decode(held + data, final, -len(held), "")
        # Complete the held character with the piece's first bytes, then
        # decode the rest where it lies (a memoryview: no copy of the piece).
        try:
            head, _ = _utf_8_decode(held + data[:need], "strict", True)
        except UnicodeDecodeError as exc:
            raise Utf8Error(exc.start - len(held)) from None
        with memoryview(data) as view:
            return self._decode(view[need:], final, need, head)

    @property
    def held(self) -> bytes:
        """The bytes of an incomplete last character, kept for the next piece."""
        return self._held

    def _decode(self, data: bytes | bytearray | memoryview, final: bool, base: int,
                head: str) -> str:
        """Decode ``data``, whose first byte is byte ``base`` of the piece;
        ``head`` is the text the piece completed before it."""
        try:
            text, used = _utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            # Everything before exc.start is whole, valid characters.
            valid = head + bytes(data[:exc.start]).decode("utf-8")
            raise Utf8Error(base + exc.start, valid) from None
        if used == len(data):
            self._held = b""
            self.pending = False
            return head + text if head else text
        rest = bytes(data[used:])
        self._held = rest
        self.pending = True
        if _cannot_complete(rest):
            raise Utf8Error(base + used, head + text)
        return head + text if head else text
