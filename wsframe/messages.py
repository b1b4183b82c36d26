"""Messages: reassembly, UTF-8, size limits, the close handshake (RFC 6455 5.4-5.6, 8.1).

Strategy
--------
`MessageReader` is the `FrameDecoder` state machine (see decoder.py) with
message-level answers to its hooks. The decoder owns the wire; the reader
owns the message in progress. For each data frame that is not complete in
the bytes at hand, the reader chooses how to receive it:

* binary, not streaming, not compressed: whole. Nothing needs the bytes
  before the frame ends, so the decoder gathers them its own fastest way
  (see decoder.py: into the final bytes object with the C helper, masked and
  unmasked once at the end in pure Python) and hands up the payload.
* text: in pieces, each checked as UTF-8 the moment it arrives, so a bad byte
  fails with 1007 even in the middle of a frame whose end has not arrived
  (Autobahn 6.4.3/6.4.4); a `TextBuffer` (text.py) keeps the message and
  decodes each byte once.
* compressed (an extension claims the message): in pieces, inflated as they
  arrive within the size budget, so memory is bounded by the limit.
* streaming (``stream=True``): in pieces, handed to the caller at once as
  `TextChunk` / `BinaryChunk` events and never accumulated.

Size limits come before buffering: a frame's declared length is checked
against ``max_message_size`` as soon as its header is complete (before its
payload is kept), and the inflated size while inflating.

Reassembly of a fragmented message appends each piece to one bytearray
(amortised O(1) per byte, about one byte of memory per byte received,
however small the fragments) and makes the message once at the end. A
whole, unfragmented message (the common case) skips all of that and is
decoded straight from its frame.

After a Close frame the decoder stops reading (state CLOSED): anything the
peer sends after its Close is discarded without events or errors (RFC 6455
5.5.1; Autobahn 7.1.3-7.1.5).

The events are in events.py; the sending side, `MessageWriter`, in writer.py.
Both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Final, SupportsIndex

from .checks import Flag, check_count, check_extensions, check_role
from .close_codes import CloseCode
from .decoder import FrameDecoder, FrameHeader
from .errors import ProtocolError, Violation
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
from .extensions.base import TransformError
from .header_bits import RSV1, RSV2, RSV3, FirstByte, FrameKind
from .mypyc_support import mypyc_attr
from .opcodes import Opcode
from .roles import Role
from .text import TextBuffer
from .utf8 import Utf8Decoder, Utf8Error
from .writer import MessageWriter

if TYPE_CHECKING:
    from .extensions.base import Extension, IncomingMessage
    from .text import _TextBuffer

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
DEFAULT_MAX_MESSAGE_SIZE: Final = 2**20


class _FollowMessageLimit:
    """The type of `FOLLOW_MESSAGE_LIMIT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "FOLLOW_MESSAGE_LIMIT"


#: `MessageReader`'s default ``max_frame_size``: whatever ``max_message_size``
#: allows, since a frame never carries more than its message.
FOLLOW_MESSAGE_LIMIT: Final = _FollowMessageLimit()


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


# -- reading --------------------------------------------------------------------

# Opcodes the hot paths compare with (module constants: one load, compiled or not).
_TEXT: Final = Opcode.TEXT
_PING: Final = Opcode.PING


def _not_utf8(position: int, offset: int) -> ProtocolError:
    """The 1007 for a text message whose byte ``position`` cannot be UTF-8 (8.1)."""
    return ProtocolError(Violation.TEXT_NOT_UTF8,
                         f"text message is not UTF-8 (byte {position})", offset)


@mypyc_attr(allow_interpreted_subclasses=True)
class MessageReader(FrameDecoder[Event]):
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

    __slots__ = ("_buffer", "_extensions", "_incoming", "_opcode", "_piece_fin",
                 "_piece_offset", "_plain_text", "_quick", "_streamed", "_text", "_utf8",
                 "_frames_up_to", "max_message_size", "stream")

    # Declared for subclasses, read once when the reader is built: a reader
    # stops at a Close frame (RFC 6455 5.5.1: nothing after it is read). The
    # dissector (dissect.py), which also lists the frames a receiver ignores,
    # sets it True and answers the hooks itself for the frames after the Close.
    _read_after_close: ClassVar[bool] = False

    def __init__(self, role: Role, *,
                 max_message_size: SupportsIndex | None = DEFAULT_MAX_MESSAGE_SIZE,
                 max_frame_size: SupportsIndex | _FollowMessageLimit | None
                 = FOLLOW_MESSAGE_LIMIT,
                 stream: Flag = False, extensions: Iterable[Extension] = ()) -> None:
        check_role(role)
        message_limit = check_count("max_message_size", max_message_size)
        self._extensions = check_extensions(extensions)
        if isinstance(max_frame_size, _FollowMessageLimit):
            frame_limit = _frame_limit(message_limit, bool(self._extensions))
            # Uncompressed, the message limit is checked from each frame's
            # declared length, before its payload is kept; that check alone
            # reports the right rule (MESSAGE_TOO_BIG).
            decoder_limit = frame_limit if self._extensions else None
        else:
            frame_limit = decoder_limit = check_count("max_frame_size", max_frame_size)
        rsv = 0
        for extension in self._extensions:
            rsv |= extension.rsv_bits
        super().__init__(role, max_frame_size=decoder_limit, extension_rsv=rsv,
                         stop_at_close=not self._read_after_close)
        self.max_message_size = message_limit
        self._frames_up_to = frame_limit
        self.stream = bool(stream)
        # A whole frame with FIN set and no message in progress is a whole
        # message, decoded straight from its frame, unless streaming or an
        # extension may transform it.
        self._quick = not self.stream and not self._extensions
        # The data message in progress (fragmented, or a frame still arriving).
        self._opcode: Opcode | None = None   # TEXT or BINARY while in progress
        self._streamed = 0                   # stream=True: payload bytes delivered so far
        # A binary message so far, in one bytearray: ~1 byte of memory per
        # byte received however small the fragments (a list of pieces would
        # cost ~40 bytes per piece, an amplification a peer could use).
        self._buffer = bytearray()
        # A text message: kept and checked by a TextBuffer, or (streaming)
        # checked by a Utf8Decoder and handed out.
        self._text: _TextBuffer | None = None
        self._utf8: Utf8Decoder | None = None
        self._incoming: IncomingMessage | None = None   # an extension's transform
        # The frame being taken in pieces.
        self._piece_offset = 0
        self._piece_fin = False
        self._plain_text = False    # an uncompressed text frame, not streamed

    @property
    def max_frame_size(self) -> int | None:
        """The largest frame payload accepted, in bytes (None: no limit).

        Read-only, fixed when the reader is built. Following the message
        limit (the default), an uncompressed frame over it fails as the
        message over ``max_message_size`` it starts (1009, RFC 6455 10.4),
        before its payload is kept; so the limit always holds.
        """
        return self._frames_up_to

    @property
    def buffered(self) -> int:
        """Received bytes held for the message in progress: the frame being
        received plus what is reassembled so far (a server can bound the sum
        over its connections)."""
        return super().buffered + self._so_far()

    # -- the decoder's hooks ----------------------------------------------------------

    def _frame(self, first: FirstByte, payload: bytes, offset: int, out: list[Event]) -> None:
        if first[5] == FrameKind.CONTROL:       # delivered at once, even between fragments
            out.append(Ping(payload) if first[0] is _PING else Pong(payload))
            return
        if self._opcode is None:
            if self._quick and first[1]:
                # The common case: a whole, unfragmented, uncompressed message.
                limit = self.max_message_size
                if limit is not None and len(payload) > limit:
                    raise self._too_big(len(payload), offset)
                if first[0] is _TEXT:
                    try:
                        out.append(TextMessage(payload.decode()))
                    except UnicodeDecodeError as exc:
                        raise _not_utf8(exc.start, offset) from None
                else:
                    out.append(BinaryMessage(payload))
                return
            self._begin(first, offset)
        self._data(payload, len(payload), first[1], offset, out)

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[Event]) -> None:
        out.append(CloseReceived(CloseCode.NO_STATUS_RCVD if code is None else code, reason))

    def _start(self, header: FrameHeader, out: list[Event]) -> bool:
        first = header.first
        if self._opcode is None:
            self._begin(first, header.offset)
        self._piece_offset = header.offset
        self._piece_fin = first.fin
        self._plain_text = False
        if self._incoming is not None:
            return True         # inflated as it arrives, within the size budget
        # Uncompressed: the declared length is known before the payload, so
        # the limit is checked before anything is kept.
        limit = self.max_message_size
        if limit is not None and self._so_far() + header.length > limit:
            raise self._too_big(self._so_far() + header.length, header.offset)
        self._plain_text = self._text is not None
        return self.stream or self._opcode is _TEXT

    def _piece(self, data: bytes, key: bytes | None, left: int, out: list[Event]) -> None:
        kept = self._text
        if left and kept is not None and self._plain_text:
            # Fast path (a text frame arriving in many reads): the piece goes,
            # masked, with its key, to the message's TextBuffer, which unmasks
            # and checks it in one pass (one call where the C helper is built).
            bad = kept.append(data, key, len(data) + left)
            if bad >= 0:
                raise _not_utf8(bad, self._piece_offset)
            return
        self._data(self._unmasked(data, key), 0, not left and self._piece_fin,
                   self._piece_offset, out)

    # -- messages ------------------------------------------------------------------------

    def _begin(self, first: FirstByte, offset: int) -> None:
        """The first frame of a data message (TEXT or BINARY, 5.4)."""
        opcode = first.opcode
        self._opcode = opcode
        self._streamed = 0
        self._buffer = bytearray()
        text = opcode is Opcode.TEXT
        self._text = TextBuffer() if text and not self.stream else None
        self._utf8 = Utf8Decoder() if text and self.stream else None
        self._incoming = None
        rsv = (first.rsv1 and RSV1) | (first.rsv2 and RSV2) | (first.rsv3 and RSV3)
        for extension in self._extensions:
            incoming = extension.incoming(opcode, rsv & extension.rsv_bits)
            if incoming is not None:
                self._incoming = incoming
                break

    def _so_far(self) -> int:
        """Bytes of the message in progress so far (inflated, when compressed)."""
        if self.stream:
            return self._streamed
        text = self._text
        return len(self._buffer) if text is None else len(text)

    def _too_big(self, size: int, offset: int) -> ProtocolError:
        return ProtocolError(Violation.MESSAGE_TOO_BIG,
                             f"message of at least {size} bytes exceeds the limit of "
                             f"{self.max_message_size}", offset)

    def _data(self, payload: bytes, declared: int, message_end: bool, offset: int,
              out: list[Event]) -> None:
        """A piece of the data message in progress.

        ``declared`` is the length of a frame about to be kept whole (0 for a
        piece whose frame was checked at its header); ``message_end`` says
        whether this piece ends the message.
        """
        incoming = self._incoming
        limit = self.max_message_size
        so_far = self._so_far()
        if incoming is None:
            if declared and limit is not None and so_far + declared > limit:
                raise self._too_big(so_far + declared, offset)
            self._deliver(payload, message_end, so_far, offset, out)
            return
        # Compressed: the limit applies to the inflated size, enforced by the
        # extension while inflating (it never inflates past it).
        room = None if limit is None else limit - so_far
        error: ProtocolError | None = None
        try:
            data = incoming.feed(payload, message_end, room)
        except TransformError as exc:
            # Data that inflated before the bytes that do not: it is checked
            # (and streamed) first, as a split stream would have it.
            data, error = exc.output, exc.at(offset)
        except ProtocolError as exc:
            raise exc.at(offset) from None
        if room is not None and len(data) > room:
            # The message crosses the limit inside this output: the bytes
            # within it come first (a bad UTF-8 byte there is a 1007), then 1009.
            data, error = data[:room], self._too_big(so_far + len(data), offset)
        if error is None:
            self._deliver(data, message_end, so_far, offset, out)
            return
        self._deliver(data, False, so_far, offset, out)
        raise error

    def _deliver(self, data: bytes, message_end: bool, so_far: int, offset: int,
                 out: list[Event]) -> None:
        """Payload bytes of the message in progress (inflated if compressed):
        validated, then streamed or kept; ``so_far`` bytes came before them."""
        utf8 = self._utf8
        if self.stream:
            if utf8 is not None:
                try:
                    text = utf8.decode(data, message_end)
                except Utf8Error as exc:
                    if exc.valid_text:
                        # Deliver what was valid before the bad byte, as a split
                        # stream would have: same events however bytes arrive.
                        out.append(TextChunk(exc.valid_text, False))
                    raise _not_utf8(so_far + exc.position, offset) from None
                if text or message_end:
                    out.append(TextChunk(text, message_end))
            elif data or message_end:
                out.append(BinaryChunk(data, message_end))
            self._streamed += len(data)
        elif self._text is not None:
            kept = self._text
            bad = kept.append(data, None, len(data))
            if bad < 0 and message_end:
                bad = kept.end()
            if bad >= 0:
                raise _not_utf8(bad, offset)
            if message_end:
                out.append(TextMessage(kept.text()))
        elif not message_end:
            self._buffer += data
        else:
            buffer = self._buffer
            if buffer:
                buffer += data
                out.append(BinaryMessage(bytes(buffer)))
            else:
                out.append(BinaryMessage(data))     # one frame, or one piece: no copy
        if message_end:
            self._opcode = None
            self._buffer = bytearray()
            self._text = None
            self._utf8 = None
            self._incoming = None


