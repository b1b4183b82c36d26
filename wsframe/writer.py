"""MessageWriter: messages and control frames in, bytes out (RFC 6455 5.2-5.6).

Strategy: the common case, one data message in one frame with no extension,
goes straight to `encode_frame`, which is valid by construction (text comes
from a ``str``, the opcode and FIN are fixed here). Everything else (an
extension's transform, fragmentation, control frames) takes the general
path. A client masks every frame with a fresh key (section 5.3), drawn from
``os.urandom`` 64 keys at a time.

A message may also be sent piece by piece, as a relay or a streaming
producer gets it: ``text(piece, final=False)`` opens it (its first frame
carries the opcode, 5.4), later calls of the same kind continue it
(CONTINUATION frames) and ``final=True`` ends it (FIN). Control frames may
go out between the pieces (5.4: they may be injected in the middle of a
fragmented message). An extension transforms such a message piece by piece
(`Extension.outgoing_pieces`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .builders import build_close, build_frame, encode_frame
from .checks import check_bytes, check_count, check_extensions, check_role
from .close_codes import CloseCode
from .errors import ConnectionClosed
from .events import (
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Event,
    Ping,
    Pong,
    TextChunk,
    TextMessage,
)
from .opcodes import Opcode
from .roles import Role

if TYPE_CHECKING:
    from .extensions.base import Extension, OutgoingMessage

__all__ = ["MessageWriter"]

# Bytes of masking keys a client writer draws from os.urandom at once (64 keys).
_KEY_POOL = 256


class MessageWriter:
    """Turn messages and control frames into bytes to send.

    Args:
        role: `Role.CLIENT` masks every frame with a fresh key from
            ``mask_source`` (RFC 6455 5.3); `Role.SERVER` never masks.
        mask_source: returns ``n`` random bytes; ``os.urandom`` by default
            (inject a deterministic one in tests: it is then called with
            ``n=4`` for each frame; os.urandom is asked for 64 keys at once).
        extensions: negotiated extensions (e.g. permessage-deflate).

    After `close` the writer refuses data frames (RFC 6455 5.5.1: no data
    after a Close frame), and `close` itself does nothing more: one Close
    frame per connection.
    """

    __slots__ = ("_close_sent", "_extensions", "_key_pool", "_keys_used", "_mask_source",
                 "_masks", "_open", "_open_rsv", "_open_transform", "role")

    def __init__(self, role: Role, *, mask_source: Callable[[int], bytes] = os.urandom,
                 extensions: Iterable[Extension] = ()) -> None:
        check_role(role)
        if not callable(mask_source):
            raise TypeError(f"mask_source must be a callable returning n random bytes (like "
                            f"os.urandom), not {mask_source!r}")
        self.role = role
        self._masks = role is Role.CLIENT       # a client masks every frame (5.3)
        self._mask_source = mask_source
        self._key_pool = b""                    # os.urandom: keys drawn in advance
        self._keys_used = 0
        self._extensions = check_extensions(extensions)
        self._close_sent: CloseReceived | None = None
        # The message being sent piece by piece: its opcode (None: none is
        # open), the RSV bits of its first frame, and its extension's transform.
        self._open: Opcode | None = None
        self._open_rsv = 0
        self._open_transform: OutgoingMessage | None = None

    @property
    def close_sent(self) -> CloseReceived | None:
        """The Close frame this writer produced, as ``(code, reason)`` (code 1005
        for the empty Close frame), or None while none was sent."""
        return self._close_sent

    @property
    def message_open(self) -> bool:
        """True while a message sent with ``final=False`` awaits its last piece."""
        return self._open is not None

    def _key(self) -> bytes | None:
        """A fresh masking key for the next frame (client role), else None."""
        if not self._masks:
            return None
        if self._mask_source is os.urandom:
            # Keys drawn from the OS 64 at a time: os.urandom costs ~0.4 us
            # a call, as much as masking a 4 KiB payload. Each key is still
            # used once, and still unpredictable (RFC 6455 5.3, 10.3).
            pool, used = self._key_pool, self._keys_used
            if used == len(pool):
                pool = self._key_pool = os.urandom(_KEY_POOL)
                used = 0
            self._keys_used = used + 4
            return pool[used:used + 4]
        key = self._mask_source(4)
        if key.__class__ is not bytes or len(key) != 4:
            raise ValueError(f"mask_source returned {key!r}, not 4 bytes")
        return key

    def _check_open(self, what: str) -> None:
        if self._close_sent is not None:
            raise ConnectionClosed(f"cannot send {what} after a Close frame (RFC 6455 5.5.1)")

    def _message(self, opcode: Opcode, payload: bytes, fragment_size: int | None,
                 compress: bool, final: bool) -> bytes:
        """Frames of a data message, or of one piece of it: through the
        extensions, fragmented if asked, FIN on the last frame if ``final``."""
        check_count("fragment_size", fragment_size, minimum=1)
        if self._open is None:
            # A new message: its first frame carries the opcode and the RSV
            # bits of the extension that transforms it (5.2, 5.4).
            rsv, first = 0, opcode
            for extension in self._extensions if compress else ():
                if final:
                    transformed = extension.outgoing(opcode, payload)
                    if transformed is not None:
                        payload, rsv = transformed, extension.rsv_bits
                        break
                else:
                    start = getattr(extension, "outgoing_pieces", None)
                    transform = None if start is None else start(opcode)
                    if transform is not None:
                        self._open_transform, rsv = transform, extension.rsv_bits
                        break
            if not final:
                self._open, self._open_rsv = opcode, rsv
        elif self._open is not opcode:
            raise ValueError(f"a {self._open.name.lower()} message is being sent piece by "
                             f"piece: end it (final=True) before a {opcode.name.lower()} one")
        else:
            rsv, first = 0, Opcode.CONTINUATION
        transform = self._open_transform
        if transform is not None:
            payload = transform.feed(payload, final)
        if final:
            self._open, self._open_transform = None, None
        fin = 0x80 if final else 0
        # Data frames built here are valid by construction (text comes from a
        # str, RSV bits from a negotiated extension): no re-checking, e.g.
        # decoding the UTF-8 just encoded.
        if fragment_size is None or len(payload) <= fragment_size:
            return encode_frame(fin | rsv | first, payload, self._key())
        frames = []
        last = len(payload) - fragment_size
        for start in range(0, len(payload), fragment_size):
            flags = (rsv | first) if start == 0 else Opcode.CONTINUATION
            frames.append(encode_frame((fin if start >= last else 0) | flags,
                                       payload[start:start + fragment_size], self._key()))
        return b"".join(frames)

    def text(self, text: str, *, fragment_size: int | None = None,
             compress: bool = True, final: bool = True) -> bytes:
        """A text message; ``fragment_size`` splits it into frames of at most that
        many payload bytes (a fragment may end inside a character, 5.6).
        ``compress=False`` sends this message past the extensions (for
        permessage-deflate: uncompressed, RSV1 clear).

        ``final=False`` sends a piece of a message and keeps it open: the next
        `text` call continues it, and the one with ``final=True`` ends it
        (RFC 6455 5.4). Each piece is a whole ``str``, so the message is
        valid UTF-8 however it is cut. ``compress`` is decided by the first
        piece.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        self._check_open("a text message")
        try:
            payload = text.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(f"text is not encodable as UTF-8: character {exc.start} is a "
                             "lone surrogate (RFC 6455 8.1 requires UTF-8)") from None
        if fragment_size is None and final and self._open is None and not (
                self._extensions and compress):
            # The common case, one frame and no extension: valid by construction.
            return encode_frame(0x81, payload, self._key() if self._masks else None)
        return self._message(Opcode.TEXT, payload, fragment_size, compress, bool(final))

    def binary(self, data: bytes | bytearray | memoryview, *,
               fragment_size: int | None = None, compress: bool = True,
               final: bool = True) -> bytes:
        """A binary message, optionally fragmented, optionally uncompressed, or a
        piece of one (``final=False``; see `text`)."""
        if data.__class__ is not bytes:
            data = check_bytes("data", data)
        if self._close_sent is not None:
            self._check_open("a binary message")
        if fragment_size is None and final and self._open is None and not (
                self._extensions and compress):
            # The common case, one frame and no extension: valid by construction.
            return encode_frame(0x82, data, self._key() if self._masks else None)
        return self._message(Opcode.BINARY, data, fragment_size, compress, bool(final))

    def ping(self, payload: bytes = b"") -> bytes:
        """A Ping frame (at most 125 bytes of payload, 5.5.2)."""
        return build_frame(Opcode.PING, payload, mask=self._key())

    def pong(self, payload: bytes = b"") -> bytes:
        """A Pong frame; echo a Ping's payload to answer it (5.5.3)."""
        return build_frame(Opcode.PONG, payload, mask=self._key())

    def close(self, code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
        """A Close frame (see `build_close` for what is refused; `fit_close`
        turns any code and reason into ones that may be sent).

        Returns b"" once a Close frame was sent: a connection sends one
        (RFC 6455 5.5.1), and `Connection.close` behaves the same. A message
        left open (``final=False``) is abandoned: nothing follows a Close.
        """
        if self._close_sent is not None:
            return b""
        frame = build_close(code, reason, mask=self._key())
        self._close_sent = CloseReceived(CloseCode.NO_STATUS_RCVD if code is None else code,
                                         reason)
        self._open, self._open_transform = None, None
        return frame

    def close_reply(self, received: CloseReceived) -> bytes:
        """The Close frame to send back after `CloseReceived` (5.5.1).

        Echoes the peer's status code, or sends the empty Close frame if the
        peer sent none. Returns b"" if this side already sent a Close frame:
        the closing handshake is then complete.
        """
        if not isinstance(received, CloseReceived):
            raise TypeError(f"received must be the CloseReceived event, not {received!r}")
        if self._close_sent is not None:
            return b""
        if received.code == CloseCode.NO_STATUS_RCVD:
            return self.close(None)             # the peer sent no code: neither do we
        return self.close(received.code, received.reason)

    def send(self, event: Event) -> bytes:
        """Encode an event object (TextMessage, BinaryMessage, Ping, Pong,
        CloseReceived), or a chunk of a streamed message (TextChunk,
        BinaryChunk: a piece, ``final`` as the chunk says), so that a relay
        forwards what a streaming reader gives it as it comes."""
        if isinstance(event, TextMessage):
            return self.text(event.text)
        if isinstance(event, BinaryMessage):
            return self.binary(event.data)
        if isinstance(event, TextChunk):
            return self.text(event.text, final=event.final)
        if isinstance(event, BinaryChunk):
            return self.binary(event.data, final=event.final)
        if isinstance(event, Ping):
            return self.ping(event.payload)
        if isinstance(event, Pong):
            return self.pong(event.payload)
        if isinstance(event, CloseReceived):
            return self.close(event.code, event.reason)
        raise TypeError(f"cannot send {event!r}")
