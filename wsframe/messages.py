"""Messages: reassembly, UTF-8, size limits, the close handshake (RFC 6455 5.4-5.6, 8.1).

Strategy
--------
`MessageReader` sits on a `FrameParser` in "parts" mode: the parser hands up
the payload of a data frame as it arrives, already unmasked, instead of
buffering whole frames. That single mechanism gives

* fail-fast UTF-8: each piece of a text message goes through an incremental
  decoder at once, so a bad byte fails with 1007 even in the middle of a
  frame whose end has not arrived (Autobahn 6.4.3/6.4.4);
* size limits before buffering: the first part of a frame comes with the
  frame's declared length, so a frame that would push the message over
  ``max_message_size`` fails with 1009 before any of its payload is kept;
* streaming: with ``stream=True`` the pieces are handed to the caller as
  `TextChunk` / `BinaryChunk` events and never accumulated.

Reassembly appends each piece to one bytearray (amortised O(1) per byte, about
one byte of memory per byte received, however small the fragments) and makes
the message once at the end: linear, never quadratic. A whole,
unfragmented message (the common case) skips all of that and is decoded
straight from its frame.

After a Close frame the parser stops reading (state CLOSED): anything the peer
sends after its Close is discarded without events or errors (RFC 6455 5.5.1;
Autobahn 7.1.3-7.1.5).

`MessageWriter` is the sending side: messages and control frames in, bytes out,
masked with a fresh key per frame for the client role (section 5.3).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from .checks import check_count, check_extensions, check_role
from .close_codes import CloseCode
from .errors import ProtocolError, Violation
from .frames import Frame, build_close, build_frame, parse_close_payload
from .opcodes import Opcode
from .parser import FrameParser, _as_bytes, _Part, _then_raise
from .roles import Role
from .utf8 import Utf8Decoder, Utf8Error

if TYPE_CHECKING:
    from .extensions.base import Extension, IncomingMessage

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FOLLOW_MESSAGE_LIMIT",
    "BinaryChunk",
    "BinaryMessage",
    "CloseReceived",
    "Event",
    "MessageReader",
    "MessageWriter",
    "Ping",
    "Pong",
    "TextChunk",
    "TextMessage",
]

#: Default limit on a reassembled message: 1 MiB (like websockets' max_size).
DEFAULT_MAX_MESSAGE_SIZE = 2**20


class _FollowMessageLimit:
    """The type of `FOLLOW_MESSAGE_LIMIT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FOLLOW_MESSAGE_LIMIT"


#: `MessageReader`'s default ``max_frame_size``: whatever ``max_message_size``
#: allows, since a frame never carries more than its message.
FOLLOW_MESSAGE_LIMIT = _FollowMessageLimit()


def _frame_limit(message_limit: int | None, compressed: bool) -> int | None:
    """The frame limit that follows a message limit.

    Uncompressed, a frame carries at most its message. A compressing
    extension may make a frame a little larger than the message it carries
    (DEFLATE stores incompressible data in blocks with a 5-byte header, plus
    a few bytes of flush): this allows zlib's own worst-case bound on top.
    """
    if message_limit is None or not compressed:
        return message_limit
    n = message_limit
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 18


# -- events ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (its UTF-8 already validated and decoded)."""

    text: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    """A complete binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Streaming mode: the next piece of a text message, as it arrived.

    ``final`` is True on the message's last piece. The pieces of one message
    concatenate to its text; a piece may be empty (e.g. the end of a message
    whose last frame was empty).
    """

    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class BinaryChunk:
    """Streaming mode: the next piece of a binary message, as it arrived."""

    data: bytes
    final: bool


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping control frame; answer it with ``MessageWriter.pong(payload)`` (5.5.2)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong control frame (5.5.3)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's Close frame (5.5.1): ``code`` is None when it sent no code.

    Send ``MessageWriter.close_reply(event)`` back (unless you sent a Close
    first), then close the TCP connection. The reader ignores all later bytes.
    """

    code: int | None
    reason: str


Event: TypeAlias = (
    TextMessage | BinaryMessage | TextChunk | BinaryChunk | Ping | Pong | CloseReceived)


# -- reading --------------------------------------------------------------------

class MessageReader:
    """Turn received bytes into messages and control events, enforcing RFC 6455.

    Args:
        role: `Role.SERVER` or `Role.CLIENT` (which frames must be masked).
        max_message_size: the largest reassembled message accepted, in bytes
            (after decompression when an extension compresses); exceeding it
            fails with 1009 at the frame that crosses it, before that frame's
            payload is kept. None: no limit.
        max_frame_size: the largest frame payload accepted (1009). By default
            it follows ``max_message_size`` (a frame never carries more than
            its message; with a compressing extension, zlib's worst-case
            growth is allowed on top), so raising the message limit alone is
            enough to accept a large message sent as one frame, as browsers
            send it. None: no limit.
        stream: if True, data messages are delivered piece by piece as
            `TextChunk` / `BinaryChunk` events as soon as bytes arrive, with
            the same validation; memory stays bounded by what one `feed`
            call brings, whatever the message size.
        extensions: negotiated extensions (e.g. permessage-deflate) in the
            order of the ``Sec-WebSocket-Extensions`` response.

    `feed` has the same contract as `FrameParser.feed`: events in wire order,
    events before a violation are delivered, then `ProtocolError`; terminal
    afterwards; identical results however the stream is split.
    """

    def __init__(self, role: Role, *, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 max_frame_size: int | _FollowMessageLimit | None = FOLLOW_MESSAGE_LIMIT,
                 stream: bool = False, extensions: Iterable[Extension] = ()) -> None:
        check_role(role)
        check_count("max_message_size", max_message_size)
        self._extensions = check_extensions(extensions)
        if isinstance(max_frame_size, _FollowMessageLimit):
            max_frame_size = _frame_limit(max_message_size, bool(self._extensions))
            # Uncompressed, the message limit is checked from each frame's
            # declared length, before its payload is kept; that check alone
            # reports the right rule (MESSAGE_TOO_BIG).
            parser_limit = max_frame_size if self._extensions else None
        else:
            parser_limit = check_count("max_frame_size", max_frame_size)
        rsv = 0
        for extension in self._extensions:
            rsv |= extension.rsv_bits
        self._parser = FrameParser(role, max_frame_size=parser_limit, extension_rsv=rsv)
        self._parser._parts = True           # same package: parts mode
        self._parser._stop_at_close = True
        if not stream:
            self._parser._whole_message = self._whole_message
        self.role = role
        self.max_message_size = max_message_size
        self.max_frame_size = max_frame_size
        self.stream = stream
        self._error: ProtocolError | None = None
        self._closed = False
        # The data message in progress (fragmented, or a frame still arriving).
        self._opcode: Opcode | None = None   # TEXT or BINARY while in progress
        self._size = 0                       # payload bytes so far (after inflating)
        # The payload so far, in one bytearray: ~1 byte of memory per byte
        # received however small the fragments (a list of pieces would cost
        # ~40 bytes per piece, an amplification a peer could use).
        self._buffer = bytearray()
        self._utf8: Utf8Decoder | None = None
        self._incoming: IncomingMessage | None = None   # an extension's transform

    @property
    def closed(self) -> bool:
        """True once a Close frame was received; later bytes are ignored."""
        return self._closed

    @property
    def error(self) -> ProtocolError | None:
        """The violation that made this reader terminal, or None."""
        return self._error

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[Event]:
        """Add received bytes; return an iterator over the events now complete."""
        if self._error is not None:
            raise self._error
        items: list[Any] = []
        parse_error = None
        try:
            self._parser._consume(_as_bytes(data), items)
        except ProtocolError as exc:
            parse_error = exc
        events: list[Event] = []
        try:
            self._handle(items, events)
        except ProtocolError as exc:
            # A message-level violation in an earlier frame than the parser's.
            parse_error = exc
        if parse_error is not None:
            self._error = parse_error
            self._parser._error = parse_error
            return _then_raise(events, parse_error)
        return iter(events)

    def _whole_message(self, opcode: Opcode, payload: bytes, offset: int) -> Event:
        """A whole, unfragmented, uncompressed message: the common case.

        Called by the parser's fast path for a small frame with FIN set that
        starts a message (so no message is in progress), RSV bits clear.
        """
        limit = self.max_message_size
        if limit is not None and len(payload) > limit:
            raise self._too_big(len(payload), offset)
        if opcode is Opcode.TEXT:
            try:
                return TextMessage(payload.decode())
            except UnicodeDecodeError as exc:
                raise ProtocolError(Violation.TEXT_NOT_UTF8,
                                    f"text message is not UTF-8 (byte {exc.start})",
                                    offset) from None
        return BinaryMessage(payload)

    def _handle(self, items: list[Any], events: list[Event]) -> None:
        """Turn the parser's frames and parts into events (in wire order)."""
        append = events.append
        # ``idle``: no message in progress and not streaming, so a data frame
        # with FIN set is a whole message. Only _data changes that.
        stream = self.stream
        idle = not stream and self._opcode is None
        for item in items:
            if item.__class__ is Frame:
                frame = item
                opcode = frame.opcode
                if opcode >= 0x8:
                    self._control(frame, append)
                elif idle and frame.fin and not frame.rsv1:
                    append(self._whole_message(opcode, frame.payload, frame.offset))
                else:
                    self._data(opcode, frame.rsv1, frame.offset, frame.payload,
                               len(frame.payload), frame.fin, events)
                    idle = not stream and self._opcode is None
            elif item.__class__ is _Part:
                part: _Part = item
                header = part.frame
                self._data(header.opcode, header.rsv1, header.offset, part.payload,
                           part.length if part.first else 0, False, events)
                idle = not stream and self._opcode is None
            else:
                append(item)        # an event built by _whole_message

    def _control(self, frame: Frame, append: Callable[[Event], None]) -> None:
        """A control frame: delivered at once, even between fragments (5.5)."""
        opcode = frame.opcode
        if opcode is Opcode.PING:
            append(Ping(frame.payload))
        elif opcode is Opcode.PONG:
            append(Pong(frame.payload))
        else:
            code, reason = parse_close_payload(frame.payload, frame.offset)
            self._closed = True
            append(CloseReceived(code, reason))

    def _too_big(self, size: int, offset: int) -> ProtocolError:
        return ProtocolError(Violation.MESSAGE_TOO_BIG,
                             f"message of at least {size} bytes exceeds the limit of "
                             f"{self.max_message_size}", offset)

    def _data(self, opcode: Opcode, rsv1: bool, offset: int, payload: bytes, declared: int,
              message_end: bool, events: list[Event]) -> None:
        """The general path: a piece of a data message.

        ``declared`` is the length of a frame whose header just arrived (0 for
        later pieces of that frame); ``message_end`` says whether this piece
        ends its message.
        """
        if self._opcode is None:                       # first piece of a message
            self._opcode = opcode                      # TEXT or BINARY (5.4)
            self._size = 0
            self._buffer = bytearray()
            self._utf8 = Utf8Decoder() if opcode is Opcode.TEXT else None
            self._incoming = None
            if rsv1 or self._extensions:
                self._incoming = self._start_incoming(opcode, rsv1)
        incoming = self._incoming
        limit = self.max_message_size
        if incoming is None:
            # Uncompressed: the declared frame length is known before the
            # payload, so the limit is checked before anything is kept.
            if declared and limit is not None and self._size + declared > limit:
                raise self._too_big(self._size + declared, offset)
            data = payload
        else:
            # Compressed: the limit applies to the inflated size, enforced by
            # the extension while inflating (it never inflates past it).
            room = None if limit is None else limit - self._size
            try:
                data = incoming.feed(payload, message_end, room)
            except ProtocolError as exc:
                raise ProtocolError(exc.violation, exc.reason, offset) from None
            if room is not None and len(data) > room:
                raise self._too_big(self._size + len(data), offset)
        self._size += len(data)
        if self._utf8 is not None:
            try:
                text = self._utf8.decode(data, message_end)
            except Utf8Error as exc:
                if self.stream and exc.valid_text:
                    # Deliver what was valid before the bad byte, as a split
                    # stream would have: same events however bytes arrive.
                    events.append(TextChunk(exc.valid_text, False))
                raise ProtocolError(Violation.TEXT_NOT_UTF8,
                                    f"text message is not UTF-8 (byte {exc.position})",
                                    offset) from None
            if self.stream:
                if text or message_end:
                    events.append(TextChunk(text, message_end))
            else:
                # Validated as it arrived; decoded once, whole, at the end.
                self._buffer += data
                if message_end:
                    events.append(TextMessage(self._buffer.decode("utf-8")))
        elif self.stream:
            if data or message_end:
                events.append(BinaryChunk(data, message_end))
        else:
            self._buffer += data
            if message_end:
                events.append(BinaryMessage(bytes(self._buffer)))
        if message_end:
            self._opcode = None
            self._buffer = bytearray()
            self._utf8 = None
            self._incoming = None

    def _start_incoming(self, opcode: Opcode, rsv1: bool) -> IncomingMessage | None:
        """Ask the extensions whether they transform this message."""
        for extension in self._extensions:
            incoming = extension.incoming(opcode, rsv1)
            if incoming is not None:
                return incoming
        return None


# -- writing --------------------------------------------------------------------

class MessageWriter:
    """Turn messages and control frames into bytes to send.

    Args:
        role: `Role.CLIENT` masks every frame with a fresh key from
            ``mask_source`` (RFC 6455 5.3); `Role.SERVER` never masks.
        mask_source: returns ``n`` random bytes; ``os.urandom`` by default
            (inject a deterministic one in tests).
        extensions: negotiated extensions (e.g. permessage-deflate).

    After `close` the writer refuses data frames (RFC 6455 5.5.1: no data
    after a Close frame).
    """

    def __init__(self, role: Role, *, mask_source: Callable[[int], bytes] = os.urandom,
                 extensions: Iterable[Extension] = ()) -> None:
        check_role(role)
        if not callable(mask_source):
            raise TypeError(f"mask_source must be a callable returning n random bytes (like "
                            f"os.urandom), not {mask_source!r}")
        self.role = role
        self._mask_source = mask_source
        self._extensions = check_extensions(extensions)
        self._close_sent = False

    @property
    def close_sent(self) -> bool:
        """True once this writer produced a Close frame."""
        return self._close_sent

    def _key(self) -> bytes | None:
        if self.role is Role.SERVER:
            return None
        key = self._mask_source(4)
        if len(key) != 4:
            raise ValueError(f"mask_source returned {len(key)} bytes, not 4")
        return key

    def _check_open(self, what: str) -> None:
        if self._close_sent:
            raise RuntimeError(f"cannot send {what} after a Close frame (RFC 6455 5.5.1)")

    def _message(self, opcode: Opcode, payload: bytes, fragment_size: int | None) -> bytes:
        if fragment_size is not None and (isinstance(fragment_size, bool) or not isinstance(
                fragment_size, int) or fragment_size < 1):
            raise ValueError(f"fragment_size must be a positive int or None, not "
                             f"{fragment_size!r}")
        rsv1 = False
        for extension in self._extensions:
            transformed = extension.outgoing(opcode, payload)
            if transformed is not None:
                payload, rsv1 = transformed, True
                break
        if fragment_size is None or len(payload) <= fragment_size:
            return build_frame(opcode, payload, rsv1=rsv1, mask=self._key())
        frames = []
        last = len(payload) - fragment_size
        for start in range(0, len(payload), fragment_size):
            frames.append(build_frame(
                opcode if start == 0 else Opcode.CONTINUATION,
                payload[start:start + fragment_size], fin=start >= last,
                rsv1=rsv1 and start == 0, mask=self._key()))
        return b"".join(frames)

    def text(self, text: str, *, fragment_size: int | None = None) -> bytes:
        """A text message; ``fragment_size`` splits it into frames of at most that
        many payload bytes (a fragment may end inside a character, 5.6)."""
        if not isinstance(text, str):
            raise TypeError(f"text() takes str, not {type(text).__name__}")
        self._check_open("a text message")
        return self._message(Opcode.TEXT, text.encode("utf-8"), fragment_size)

    def binary(self, data: bytes | bytearray | memoryview, *,
               fragment_size: int | None = None) -> bytes:
        """A binary message, optionally fragmented (see `text`)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"binary() takes bytes, not {type(data).__name__}")
        self._check_open("a binary message")
        return self._message(Opcode.BINARY, bytes(data), fragment_size)

    def ping(self, payload: bytes = b"") -> bytes:
        """A Ping frame (at most 125 bytes of payload, 5.5.2)."""
        return build_frame(Opcode.PING, payload, mask=self._key())

    def pong(self, payload: bytes = b"") -> bytes:
        """A Pong frame; echo a Ping's payload to answer it (5.5.3)."""
        return build_frame(Opcode.PONG, payload, mask=self._key())

    def close(self, code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
        """A Close frame (see `build_close` for what is refused)."""
        self._check_open("a second Close frame")
        frame = build_close(code, reason, mask=self._key())
        self._close_sent = True
        return frame

    def close_reply(self, received: CloseReceived) -> bytes:
        """The Close frame to send back after `CloseReceived` (5.5.1).

        Echoes the peer's status code, or sends the empty Close frame if the
        peer sent none. Returns b"" if this side already sent a Close frame:
        the closing handshake is then complete.
        """
        if not isinstance(received, CloseReceived):
            raise TypeError(f"received must be the CloseReceived event, not {received!r}")
        if self._close_sent:
            return b""
        return self.close(received.code)

    def send(self, event: Event) -> bytes:
        """Encode an event object (TextMessage, BinaryMessage, Ping, Pong, CloseReceived)."""
        if isinstance(event, TextMessage):
            return self.text(event.text)
        if isinstance(event, BinaryMessage):
            return self.binary(event.data)
        if isinstance(event, Ping):
            return self.ping(event.payload)
        if isinstance(event, Pong):
            return self.pong(event.payload)
        if isinstance(event, CloseReceived):
            return self.close(event.code, event.reason)
        raise TypeError(f"cannot send {event!r}")
