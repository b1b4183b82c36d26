"""A text message received in pieces (RFC 6455 5.6, 8.1): checked, kept, decoded once.

A text message must be UTF-8 (RFC 6455 8.1), and an endpoint should fail the
connection as soon as the bytes received cannot be (Autobahn|Testsuite 6.4.x
sends the rest of a frame only if the first part was not refused). So each
piece is checked the moment it arrives, and the message is built once at
its end. `MessageReader` (messages.py) keeps each text message it does not
stream in a `TextBuffer`; whole, unfragmented frames skip it (decoded
straight from the frame).

Strategy
--------
Checking and decoding are one pass: CPython's UTF-8 decoder checks as it
decodes (strict, no overlongs, no surrogates, nothing above U+10FFFF), and
the characters it decodes for the check are kept, so no byte is decoded
twice. ASCII needs no check at all: a run of ASCII pieces is only appended
(the unmasking says whether a piece is ASCII, in the same pass where the C
helper is built) and becomes text in one step, at the end or when the first
piece that is not ASCII arrives. The bytes of a character cut by the end of
a piece are held for the next one, and checked on their own against Unicode
Table 3-7 (utf8.py), so an impossible prefix fails at its last byte.

Two implementations with one contract (tests run both):

* `TextBufferPython`, the reference: `Utf8Decoder` (utf8.py) decodes each
  piece that is not ASCII, short texts are gathered and joined 256 at a time
  (a str costs ~50 bytes besides its characters, so tiny fragments must not
  each leave one behind).
* the C helper's ``TextBuffer`` (``wsframe/_speedups.c``), where built: the
  check, the decoding and the unmasking in one loop, 8 KiB at a time,
  character by character after Table 3-7 straight into the str that `text`
  returns (no str per piece, no join at the end). While the text is ASCII
  the bytes are unmasked straight into that str, one pass with the ASCII
  verdict. Measured here on 1 MiB of text that is not ASCII, compiled build:
  about 12% less time than decoding each piece with CPython's decoder and
  joining the pieces at 1,460-byte reads, within 3% of it at 16-64 KiB
  (CPython's decoder alone takes ~80% of that time on the whole message).

``append`` and ``end`` return -1 when all is well and otherwise the
position, in the message, of the first byte of the sequence that cannot be
UTF-8 (the position CPython's decoder reports for the whole message):
cheaper than an exception per call, and the caller turns it into the 1007.
"""

from __future__ import annotations

from typing import Final, Protocol

from .masking import HELPER, unmask_append, unmasked_buffer
from .utf8 import Utf8Decoder, Utf8Error

__all__ = ["TextBuffer", "TextBufferPython", "text_buffers"]

# Decoded text shorter than this many characters is gathered, and joined this
# many pieces at a time.
_SMALL_TEXT: Final = 256


class TextBufferPython:
    """The bytes of one text message, piece by piece (pure Python).

    ``append(data, key, reserve)`` takes the next piece, masked with ``key``
    (lined up with its first byte; None: plain bytes); ``reserve`` is the
    rest of the frame, this piece included (how far a buffer may grow
    ahead). ``end()`` says whether the text ends inside a character;
    ``text()`` gives the message. ``len()`` is the bytes received.
    """

    __slots__ = ("_buffer", "_size", "_small", "_texts", "_utf8")

    def __init__(self) -> None:
        # The ASCII bytes received since the last decoded text; the decoded
        # text in _texts and _small, _size bytes of the message.
        self._buffer = bytearray()
        self._texts: list[str] = []
        self._small: list[str] = []
        self._size = 0
        self._utf8 = Utf8Decoder()

    def __len__(self) -> int:
        return self._size + len(self._buffer)

    def append(self, data: bytes, key: bytes | None, reserve: int) -> int:
        """Take the next piece; -1, or the message position of a byte that
        cannot be UTF-8 (RFC 6455 8.1)."""
        if self._size:
            # Not all ASCII so far: its next pieces rarely are either.
            # Unmasked and decoded at once, without a trip through the buffer.
            return self._decode(data if key is None else unmasked_buffer(data, key))
        buffer = self._buffer
        before = len(buffer)
        if key is None:
            buffer += data
            ascii = data.isascii()
        else:
            ascii = unmask_append(buffer, data, key, reserve)
        if ascii and not self._utf8.pending:
            return -1               # ASCII with nothing held is valid as it is
        with memoryview(buffer) as view:
            piece = bytes(view[before:])
        del buffer[before:]
        return self._decode(piece)

    def end(self) -> int:
        """-1 if the text so far ends on a character boundary, else the
        message position where its incomplete last character starts."""
        held = len(self._utf8.held)
        return len(self) - held if held else -1

    def text(self) -> str:
        """The whole text (after `end` said it is complete)."""
        if self._utf8.pending:
            raise ValueError("the text ends inside a character")
        if not self._size:
            return self._buffer.decode("utf-8")       # all ASCII
        self._keep_ascii_run()
        texts = self._texts
        if self._small:         # one join: `+` would copy the whole text again
            texts.append("".join(self._small))
        return "".join(texts)

    def _decode(self, piece: bytes | bytearray) -> int:
        """Check and decode a piece (after the ASCII run buffered before it)."""
        try:
            text = self._utf8.decode(piece)
        except Utf8Error as exc:
            return len(self) + exc.position
        self._keep_ascii_run()
        self._keep(text, len(piece))
        return -1

    def _keep_ascii_run(self) -> None:
        """Keep the ASCII bytes buffered since the last kept text, as text."""
        buffer = self._buffer
        if buffer:
            self._keep(buffer.decode("utf-8"), len(buffer))     # ASCII: a copy
            self._buffer = bytearray()

    def _keep(self, text: str, size: int) -> None:
        """Keep ``text`` (``size`` bytes received) as part of the message."""
        self._size += size
        small = self._small
        if len(text) >= _SMALL_TEXT:
            if small:
                self._texts.append("".join(small))
                small.clear()
            self._texts.append(text)
        elif text:
            small.append(text)
            if len(small) >= _SMALL_TEXT:
                self._texts.append("".join(small))
                small.clear()


class _TextBuffer(Protocol):
    def append(self, data: bytes, key: bytes | None, reserve: int, /) -> int: ...

    def end(self) -> int: ...

    def text(self) -> str: ...

    def __len__(self) -> int: ...


class _NewTextBuffer(Protocol):
    def __call__(self) -> _TextBuffer: ...


#: ``TextBuffer()``: the bytes of one text message, piece by piece: the C
#: helper's type where it is built and in use (masking.HELPER), else
#: `TextBufferPython`; the same contract.
TextBuffer: Final[_NewTextBuffer] = (
    TextBufferPython if HELPER is None else HELPER.TextBuffer)


def text_buffers() -> dict[str, _NewTextBuffer]:
    """The `TextBuffer` implementations, named as in `masking.implementations`."""
    found: dict[str, _NewTextBuffer] = {"python": TextBufferPython}
    if HELPER is not None:
        found["accelerated"] = HELPER.TextBuffer
    return found
