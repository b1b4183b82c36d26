"""Fail-fast incremental UTF-8 decoding for text messages (RFC 6455 8.1).

A text message may arrive in many fragments, and a fragment may split a
character. RFC 6455 section 8.1 asks an endpoint to fail the connection when
the bytes are not UTF-8; Autobahn|Testsuite (cases 6.4.x) checks that this
happens as soon as the received prefix cannot be valid, not at the end.

Strategy: CPython's incremental UTF-8 decoder (strict, rejects overlongs,
surrogates and code points above U+10FFFF) does the work and already raises on
most impossible prefixes. It keeps an incomplete trailing sequence (1-3 bytes)
pending without judging all of it: on CPython 3.10-3.13 the prefix ED A0 (the
start of a UTF-16 surrogate, never valid) stays pending until the next byte.
`Utf8Decoder` therefore checks the pending bytes itself against the
well-formed byte sequences of Unicode (Table 3-7), so every impossible prefix
is reported as soon as its last byte arrives.
"""

from __future__ import annotations

import codecs

__all__ = ["Utf8Decoder", "Utf8Error"]

_IncrementalDecoder = codecs.getincrementaldecoder("utf-8")


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


def _cannot_complete(pending: bytes) -> bool:
    """True if an incomplete sequence can never become a valid character.

    ``pending`` is 1-3 bytes: a lead byte and the continuation bytes seen so
    far. Valid second bytes depend on the lead (Unicode Table 3-7): E0 needs
    A0-BF (no overlongs), ED needs 80-9F (no surrogates), F0 needs 90-BF (no
    overlongs), F4 needs 80-8F (nothing above U+10FFFF); otherwise 80-BF.
    """
    lead = pending[0]
    if not 0xC2 <= lead <= 0xF4:
        return True
    if len(pending) == 1:
        return False
    low, high = 0x80, 0xBF
    if lead == 0xE0:
        low = 0xA0
    elif lead == 0xED:
        high = 0x9F
    elif lead == 0xF0:
        low = 0x90
    elif lead == 0xF4:
        high = 0x8F
    if not low <= pending[1] <= high:
        return True
    return any(not 0x80 <= b <= 0xBF for b in pending[2:])


class Utf8Decoder:
    """Decode a text message piece by piece, failing at the first bad byte.

    ``pending`` is True while the bytes so far end inside a character. When
    it is False, a piece of ASCII bytes (``data.isascii()``, one C call) is
    valid as it is and leaves nothing pending: a caller that only validates
    may skip `decode` for it.
    """

    __slots__ = ("_decoder", "pending")

    def __init__(self) -> None:
        self._decoder = _IncrementalDecoder("strict")
        self.pending = False

    def decode(self, data: bytes, final: bool = False) -> str:
        """Decode the next piece; ``final`` marks the end of the message.

        Returns the characters completed by this piece. Raises `Utf8Error`
        if the bytes so far cannot start valid UTF-8, or, when ``final``, if
        the message ends inside a character.
        """
        try:
            text: str = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # exc.start counts from the bytes left pending by the last piece;
            # everything before it is whole, valid characters.
            held = self._decoder.getstate()[0]
            valid = (held + data)[:exc.start].decode("utf-8")
            raise Utf8Error(exc.start - len(held), valid) from None
        # Only a piece ending in a non-ASCII byte can leave bytes pending.
        if not final and data and data[-1] & 0x80:
            pending = self._decoder.getstate()[0]
            self.pending = bool(pending)
            if pending and _cannot_complete(pending):
                raise Utf8Error(len(data) - len(pending), text)
        elif data or final:
            self.pending = False
        return text
