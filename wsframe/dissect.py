"""The dissector: the reader with a narrator (behind ``wsframe dissect``).

Strategy: decisions come from the library itself, and the stream is read
once. `_NarratedReader` is a `MessageReader` (messages, limits, UTF-8, the
violation and its close code, exactly as a correct endpoint reads them) that
also reports each frame its hooks accept as it passes: the frame, its
payload as the reader received it (unmasked once, in the hook) and the data
message it completes. A frame the reader rejects is never reported, so the
frames shown end where the violation starts. The `Dissector` turns each
report into a `FrameView`: the header bytes (sliced from the stream it was
fed), the payload as it travelled, and which message the frame belongs to
(`_Narrator`); `wsframe.render` puts views and verdicts into words.

After a Close frame a receiver reads nothing more (RFC 6455 5.5.1); the
dissector still lists the frames that follow, for the reader of its output:
the same decoder goes on reading (`MessageReader._read_after_close`) with
the frame rules only, while the frames stay within the frame limit. Its
first violation there ends the list and is not a violation of the stream.

It streams: `Dissector.feed` takes the bytes as they come and returns the
frames they complete, so a caller can print each frame and forget it. What it
keeps between calls is bounded by the limits (the frame in progress, at most
``max_frame_size``) plus the first 14 bytes of that frame's header, which it
shows if the frame turns out to break a rule. `dissect` is the whole-input
convenience on top.

With ``keep`` (what captures and the live proxy use, `CAPTURE_KEEP`), it
keeps at most that many bytes of each frame's payload and of each message,
whatever their size: the reader runs in streaming mode (a message is
checked piece by piece and never reassembled), frames are taken in pieces,
and compressed data is inflated in slices of `INFLATE_SLICE` bytes, so that
one slice inflates to about a MiB at most (DEFLATE expands 1,032:1 at most).
A frame or message shows its first ``keep`` bytes and counts the rest
(`FrameView.length`, `FrameView.message_size`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .builders import build_close, parse_close_payload
from .close_codes import explain
from .decoder import FrameHeader
from .errors import ProtocolError, Violation
from .frame import Frame
from .header_bits import FirstByte
from .masking import apply_mask
from .messages import (
    FOLLOW_MESSAGE_LIMIT,
    BinaryChunk,
    BinaryMessage,
    Event,
    MessageReader,
    TextChunk,
    TextMessage,
)
from .opcodes import Opcode
from .parser import DEFAULT_MAX_FRAME_SIZE

# The words moved to wsframe.render; these three stay importable from here
# (tests/test_capture_hostile.py, wsframe/tools/pcap.py and tcp.py use them).
from .render import frame_json, plural, render_frame_line
from .roles import Role

__all__ = ["CAPTURE_KEEP", "CAPTURE_MAX_CONNECTIONS", "CAPTURE_MAX_MESSAGE_SIZE",
           "EXAMPLE_CLIENT_KEY", "INFLATE_SLICE",
           "Dissection", "Dissector", "FrameView", "Verdict", "dissect",
           "frame_json", "plural", "render_frame_line"]

#: A client masks its Close frame with a fresh random key; the dissector
#: shows the reply with this fixed key so that its output is reproducible.
EXAMPLE_CLIENT_KEY = bytes.fromhex("1a2b3c4d")

#: The message (and frame) limit for reading captures and the live proxy
#: (wsframe.tools): high, since the endpoints' own limits are unknown, and it
#: bounds the memory a connection can take.
CAPTURE_MAX_MESSAGE_SIZE = 64 * 2**20

#: Bytes of each frame's payload and of each message that captures and the
#: proxy keep to show (the rest is read, checked and counted, not kept).
CAPTURE_KEEP = 64 * 2**10
#: With ``keep``, compressed data goes to the inflater this many bytes at a time.
INFLATE_SLICE = 1024

#: Connections a capture dissection follows at once (wsframe.tools.tcp): past
#: it, the least recently active one is dropped and counted. Each keeps about
#: 520 KiB at most (docs/captures.md): about 260 MiB for all of them.
CAPTURE_MAX_CONNECTIONS = 500

#: Bytes of a frame kept for showing its header (the longest header is 14).
_HEAD = 14
#: Payload bytes shown before and after unmasking.
_PREVIEW = 24


@dataclass
class FrameView:
    """One frame as the dissector shows it.

    ``wire_preview`` is the first bytes of the payload as they travelled
    (masked, for a client's frame); ``frame.payload`` is the payload,
    unmasked: all of it, or its first ``keep`` bytes when the `Dissector`
    keeps a prefix (``length`` is the payload's real length). ``message`` is
    set on the frame that completes a data message: the message as the reader
    delivered it (inflated when compressed), or its first ``keep`` bytes
    (``message_size`` is its real size in bytes).
    """

    index: int
    offset: int
    frame: Frame
    header: bytes
    wire_preview: bytes
    note: str
    message_number: int = 0        # the data message it belongs to (0: none)
    is_text: bool = False          # part of a text message
    compressed: bool = False       # part of a compressed message (RSV1 on its first frame)
    ends_message: int = 0          # fragments in the data message this frame ends
    message: TextMessage | BinaryMessage | None = None
    length: int = -1               # the payload's length (-1: len(frame.payload))
    message_size: int = 0          # the message's size in bytes (inflated)

    def __post_init__(self) -> None:
        if self.length < 0:
            self.length = len(self.frame.payload)

    @property
    def size(self) -> int:
        """Bytes the frame takes on the wire."""
        return len(self.header) + self.length

    @property
    def truncated(self) -> bool:
        """Only the start of the payload was kept."""
        return self.length > len(self.frame.payload)


@dataclass
class Verdict:
    """What a dissection concluded once its input ended (or broke a rule)."""

    role: Role
    length: int               # bytes read
    frames: int               # frames shown
    messages: int             # complete data messages
    error: ProtocolError | None = None
    error_header: bytes = b""   # the first bytes of the frame that broke the rule
    reply: bytes | None = None  # the Close frame a correct endpoint sends back
    pending: int = 0          # bytes at the end that are not a complete frame
    ignored: int = 0          # bytes after a Close frame
    hint: str = ""            # e.g. "try --role client"

    @property
    def valid(self) -> bool:
        """True if the stream breaks no rule."""
        return self.error is None


class _Narrator:
    """Follows fragmentation (RFC 6455 5.4) to say which message a frame is in."""

    def __init__(self) -> None:
        self.message = 0        # number of the current (or last) data message
        self.fragments = 0      # frames of it so far
        self.text = False
        self.compressed = False
        self.open = False       # a fragmented message is in progress
        self.closed = False

    def describe(self, view: FrameView) -> None:
        frame = view.frame
        opcode = frame.opcode
        if self.closed:
            view.note = "after the Close frame: a receiver ignores it (RFC 6455 5.5.1)"
            return
        if opcode.is_control:
            if opcode is Opcode.CLOSE:
                self.closed = True
                code, reason = parse_close_payload(frame.payload)
                said = f", reason {reason!r}" if reason else ""
                if code is None:
                    view.note = "control frame: Close without a status code"
                else:
                    info = explain(code)
                    view.note = (f"control frame: Close {code} ({info.name}){said}\n"
                                 f"  reconnect? {info.reconnect} (wsframe explain {code})")
            else:
                between = f" (between fragments of message #{self.message})" \
                    if self.open else ""
                view.note = f"control frame: {opcode.name}{between}"
            return
        if opcode is not Opcode.CONTINUATION:
            self.message += 1
            self.fragments = 0
            self.text = opcode is Opcode.TEXT
            self.compressed = frame.rsv1
        self.fragments += 1
        self.open = not frame.fin
        view.message_number = self.message
        view.is_text = self.text and not self.compressed
        view.compressed = self.compressed
        kind = ("text" if self.text else "binary") + (", compressed" if self.compressed else "")
        if frame.fin:
            view.ends_message = self.fragments
        if frame.fin and self.fragments == 1:
            view.note = f"message #{self.message} ({kind}), complete in this frame"
            return
        position = "first" if self.fragments == 1 else "last" if frame.fin else "next"
        view.note = f"message #{self.message} ({kind}), {position} fragment ({self.fragments})"


class _Passed(NamedTuple):
    """One frame the reader accepted, as `_NarratedReader` reports it."""

    frame: Frame            # its payload whole, or its first ``keep`` bytes
    length: int             # the payload's length
    message: TextMessage | BinaryMessage | None     # the data message it completed
    message_size: int       # that message's size in bytes (it may be cut to ``keep``)


class _NarratedReader(MessageReader):
    """A `MessageReader` that also reports each frame it accepts, in `passed`.

    Every hook lets the reader answer first (messages, limits, UTF-8, the
    violation); only a frame whose hooks all return is reported, with the
    message it completed (the events its last hook added). Pieces are
    unmasked here, once, and handed to the reader as plain bytes. After the
    first Close frame the reader's rules are over (a receiver ignores the
    rest): the hooks only list frames, up to the first one over the frame
    limit (as a frame parser with that limit would).
    """

    _read_after_close = True

    def __init__(self, role: Role, *, max_frame_size: Any, max_message_size: int | None,
                 extensions: tuple[Any, ...], keep: int | None) -> None:
        super().__init__(role, max_message_size=max_message_size,
                         max_frame_size=max_frame_size, extensions=extensions,
                         stream=keep is not None)
        self.keep = keep
        self.passed: list[_Passed] = []     # reported since the caller last took them
        self.messages = 0                   # complete data messages
        self.close_seen = False
        self._listing = True                # after the Close: still listing frames
        self._started: FrameHeader | None = None    # the frame taken in pieces
        self._kept = bytearray()            # its payload so far (its first keep bytes)
        # keep: the message in progress, its first bytes and its size so far
        self._kept_text: list[str] = []
        self._kept_text_size = 0
        self._binary = bytearray()
        self._message_size = 0
        self._done: tuple[TextMessage | BinaryMessage, int] | None = None

    # -- the decoder's hooks: the reader's answer first, then the report ---------------

    def _frame(self, first: FirstByte, payload: bytes, offset: int, out: list[Event]) -> None:
        if not self.close_seen:
            before = len(out)
            super()._frame(first, payload, offset, out)
            self._note(out, before)
        elif not self._listed(len(payload)):
            return
        keep = self.keep
        kept = payload if keep is None or first[0].is_control else payload[:keep]
        self._pass(Frame(first[0], kept, first[1], first[2], first[3], first[4], offset),
                   len(payload))

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[Event]) -> None:
        if not self.close_seen:
            super()._close(code, reason, payload, offset, out)
            self.close_seen = True
        elif not self._listing:
            return
        self._pass(Frame(Opcode.CLOSE, payload, True, False, False, False, offset),
                   len(payload))

    def _start(self, header: FrameHeader, out: list[Event]) -> bool:
        if not self.close_seen:
            pieces = super()._start(header, out)
        elif self._listed(header.length):
            pieces = self.keep is not None      # listed: whole, or its first keep bytes
        else:
            return True                         # read past in pieces, nothing kept
        if pieces:
            self._started = header
            self._kept = bytearray()
        return pieces

    def _piece(self, data: bytes, key: bytes | None, left: int, out: list[Event]) -> None:
        keep = self.keep
        room = None if keep is None else max(keep - len(self._kept), 0)
        if not self.close_seen:
            data = self._unmasked(data, key)    # once, here: the reader gets plain bytes
            before = len(out)
            super()._piece(data, None, left, out)
            self._note(out, before)
            self._kept += data[:room]
        elif self._started is None:
            return                              # a frame past the list
        else:
            self._kept += self._unmasked(data[:room], key)   # (the key is lined up with data[0])
        if not left:
            header = self._started
            assert header is not None
            first = header.first
            self._pass(Frame(first[0], bytes(self._kept), first[1], first[2], first[3],
                             first[4], header.offset), header.length)
            self._started = None
            self._kept = bytearray()

    # -- the report ---------------------------------------------------------------------

    def _listed(self, length: int) -> bool:
        """After the Close: is a frame of ``length`` payload bytes listed? The
        first frame over the frame limit ends the list."""
        if self._listing:
            limit = self.max_frame_size
            self._listing = limit is None or length <= limit
        return self._listing

    def _pass(self, frame: Frame, length: int) -> None:
        done = self._done
        self._done = None
        self.passed.append(_Passed(frame, length, None, 0) if done is None
                           else _Passed(frame, length, done[0], done[1]))

    def _note(self, out: list[Event], before: int) -> None:
        """The events the reader added to ``out`` after ``before``: a message
        this frame completes (or, streaming, the pieces of one)."""
        for index in range(before, len(out)):
            event = out[index]
            if isinstance(event, TextMessage):
                self._message_done(event, len(event.text.encode()))
            elif isinstance(event, BinaryMessage):
                self._message_done(event, len(event.data))
            elif isinstance(event, TextChunk):
                # keep: the first `keep` bytes of the message, the size of all of it
                keep = self.keep
                assert keep is not None
                text = event.text
                size = len(text) if text.isascii() else len(text.encode())
                room = keep - self._kept_text_size
                if room > 0:
                    self._kept_text.append(text if size <= room else
                                           text.encode()[:room].decode(errors="ignore"))
                    self._kept_text_size += size
                self._message_size += size
                if event.final:
                    self._message_done(TextMessage("".join(self._kept_text)),
                                       self._message_size)
            elif isinstance(event, BinaryChunk):
                keep = self.keep
                assert keep is not None
                room = keep - len(self._binary)
                if room > 0:
                    self._binary += event.data[:room]
                self._message_size += len(event.data)
                if event.final:
                    self._message_done(BinaryMessage(bytes(self._binary)), self._message_size)

    def _message_done(self, message: TextMessage | BinaryMessage, size: int) -> None:
        self._done = (message, size)
        self.messages += 1
        self._kept_text = []
        self._kept_text_size = 0
        self._binary = bytearray()
        self._message_size = 0



class Dissector:
    """Dissect a stream of bytes as ``role`` receives them, piece by piece.

    Args:
        role: the receiving side (`Role.SERVER` reads a client's masked frames).
        max_frame_size, max_message_size: the limits a receiver applies, as
            in `MessageReader` (same defaults); a frame or message over them
            is a 1009 violation.
        extensions: negotiated extensions (e.g. a `PerMessageDeflate` for
            this role), so that RSV1 is allowed and messages are inflated.
        keep: None (the default) keeps every frame and message whole. A
            number: only that many bytes of each frame's payload and of each
            message are kept (the rest is checked and counted), so memory is
            bounded whatever the sizes (see the module documentation).

    `feed` returns the frames each piece completes; after a violation it
    returns nothing more. `finish` gives the `Verdict`.
    """

    def __init__(self, role: Role, *, max_frame_size: Any = FOLLOW_MESSAGE_LIMIT,
                 max_message_size: int | None = DEFAULT_MAX_FRAME_SIZE,
                 extensions: Iterable[Any] = (), keep: int | None = None) -> None:
        self.role = role
        extensions = tuple(extensions)
        self.keep = keep
        # The one reader, and the one pass over the stream.
        self._reader = _NarratedReader(role, max_frame_size=max_frame_size,
                                       max_message_size=max_message_size,
                                       extensions=extensions, keep=keep)
        rsv = 0
        for extension in extensions:
            rsv |= extension.rsv_bits
        # keep: compressed data is inflated a slice at a time (see INFLATE_SLICE)
        self._slice = INFLATE_SLICE if keep is not None and rsv else 0
        self._narrator = _Narrator()
        self._received = 0         # bytes fed so far
        self._frame_start = 0      # stream offset of the frame in progress
        self._head = b""           # its first bytes (up to _HEAD), for a violation
        self._frames = 0
        self._error: ProtocolError | None = None
        self._error_header = b""
        self._closed_at: int | None = None   # end offset of the Close frame
        self._listed_all = False   # the list after the Close ended (its first violation)

    @property
    def error(self) -> ProtocolError | None:
        """The violation found so far, or None."""
        return self._error

    def feed(self, data: bytes) -> list[FrameView]:
        """Dissect the next piece of the stream; return the frames it completes."""
        if self._error is not None or not data:
            return []
        base = self._received
        self._received += len(data)
        if self._listed_all:
            return []
        reader = self._reader
        try:
            step = self._slice
            if step and len(data) > step:
                for at in range(0, len(data), step):
                    for _event in reader.feed(data[at:at + step]):
                        pass        # (the reader's events were noted as its hooks ran)
            else:
                for _event in reader.feed(data):
                    pass
        except ProtocolError as exc:
            if reader.close_seen:   # after the Close: the end of the list, no violation
                self._listed_all = True
            else:
                self._error = exc
        passed, reader.passed = reader.passed, []
        views = [self._view(item, data, base) for item in passed]
        self._capture_head(data, base)
        if self._error is not None:
            start = self._error.offset
            if start == self._frame_start:
                self._error_header = self._head
            else:   # a frame completed in this piece broke a message-level rule
                self._error_header = data[start - base:start - base + _HEAD]
        return views

    def _view(self, passed: _Passed, data: bytes, base: int) -> FrameView:
        """Describe a frame the reader passed in ``data`` (stream offset ``base``)."""
        frame = passed.frame
        masked = self.role is Role.SERVER
        n = passed.length
        # (lengths are in their minimal form: the decoder is strict, RFC 6455 5.2)
        size = 2 + (0 if n < 126 else 2 if n < 65536 else 8) + (4 if masked else 0)
        start = frame.offset - base
        # The header is in this piece, or the frame began in an earlier one: then
        # _head holds its first bytes (all of them up to this piece, when fewer
        # than 14), and the rest of its header starts this piece.
        header = data[start:start + size] if start >= 0 else \
            (self._head + data[:max(size - len(self._head), 0)])[:size]
        key = header[-4:] if masked else None
        shown = frame.payload[:_PREVIEW]
        wire = apply_mask(shown, key) if key is not None else shown
        self._frames += 1
        view = FrameView(self._frames, frame.offset, frame, header, wire, "", length=n,
                         message=passed.message, message_size=passed.message_size)
        already_closed = self._narrator.closed
        self._narrator.describe(view)
        end = frame.offset + size + n
        if self._narrator.closed and not already_closed:
            self._closed_at = end
        self._frame_start = end
        self._head = b""
        return view

    def _capture_head(self, data: bytes, base: int) -> None:
        """Keep the first bytes of the frame in progress (it may break a rule later)."""
        have = len(self._head)
        if have >= _HEAD:
            return
        want_from = self._frame_start + have
        end = base + len(data)
        if want_from < end:
            start = max(want_from - base, 0)
            self._head += data[start:start + _HEAD - have]

    def finish(self) -> Verdict:
        """The verdict on everything fed so far."""
        error = self._error
        verdict = Verdict(self.role, self._received, self._frames, self._reader.messages,
                          error, self._error_header)
        if error is not None:
            verdict.reply = build_close(
                error.code, error.reason,
                mask=EXAMPLE_CLIENT_KEY if self.role is Role.CLIENT else None)
            verdict.hint = _role_hint(error, self.role)
        elif self._closed_at is not None:
            verdict.ignored = self._received - self._closed_at
        else:
            verdict.pending = self._received - self._frame_start
        return verdict

def _role_hint(error: ProtocolError, role: Role) -> str:
    """A first frame with the other side's masking: the role is probably wrong."""
    if error.offset != 0:
        return ""
    if error.violation is Violation.UNMASKED_CLIENT_FRAME:
        return ("the first frame is not masked, as a server's frames are: if these bytes "
                "come from a server, dissect them with --role client")
    if error.violation is Violation.MASKED_SERVER_FRAME:
        return ("the first frame is masked, as a client's frames are: if these bytes come "
                "from a client, dissect them with --role server")
    return ""


@dataclass
class Dissection:
    """The result of `dissect`: every frame, the events a correct endpoint got, the verdict."""

    role: Role
    data: bytes
    frames: list[FrameView] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    verdict: Verdict | None = None

    @property
    def error(self) -> ProtocolError | None:
        """The violation, or None."""
        return self.verdict.error if self.verdict else None

    @property
    def valid(self) -> bool:
        """True if the stream breaks no rule."""
        return self.error is None


def dissect(data: bytes, role: Role, *, max_frame_size: Any = FOLLOW_MESSAGE_LIMIT,
            max_message_size: int | None = DEFAULT_MAX_FRAME_SIZE,
            extensions: Iterable[Any] = ()) -> Dissection:
    """Read all of ``data`` as ``role`` would, and describe every frame in it."""
    extensions = tuple(extensions)
    dissector = Dissector(role, max_frame_size=max_frame_size,
                          max_message_size=max_message_size, extensions=extensions)
    result = Dissection(role, data)
    result.frames = dissector.feed(data)
    result.events = [view.message for view in result.frames if view.message is not None]
    result.verdict = dissector.finish()
    return result

