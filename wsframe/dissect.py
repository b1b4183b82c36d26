"""The dissector: the parser with a narrator (behind ``wsframe dissect``).

Strategy: decisions come from the library itself. A `MessageReader` reads
the stream as a correct endpoint would (messages, the violation and its
close code); a `FrameParser` lists the frames. The narrator only *describes*
what those decided: it lays each frame's header bytes out on the RFC 6455
section 5.2 diagram bit by bit, shows the payload before and after
unmasking, says which message each frame belongs to, and for a violation
shows the offending bytes, the rule, and the exact close frame to send back.

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

import textwrap
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .builders import build_close, parse_close_payload
from .close_codes import explain
from .decoder import FrameDecoder, FrameHeader
from .errors import ProtocolError, Violation
from .frame import Frame
from .header_bits import OPCODES, FirstByte
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
from .parser import DEFAULT_MAX_FRAME_SIZE, FrameParser
from .roles import Role

__all__ = ["CAPTURE_KEEP", "CAPTURE_MAX_CONNECTIONS", "CAPTURE_MAX_MESSAGE_SIZE",
           "EXAMPLE_CLIENT_KEY", "INFLATE_SLICE",
           "Dissection", "Dissector",
           "FrameView", "Verdict", "dissect", "frame_json", "header_fields", "plural",
           "render_diagram", "render_frame", "render_frame_line", "render_text",
           "render_verdict", "to_json", "verdict_json"]

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


def plural(count: int, word: str) -> str:
    """``1 byte``, ``2 bytes``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def header_length(raw: bytes) -> int:
    """Length of the header that starts ``raw`` (needs its first 2 bytes)."""
    length7 = raw[1] & 0x7F
    size = 2 + (2 if length7 == 126 else 8 if length7 == 127 else 0)
    return size + (4 if raw[1] & 0x80 else 0)


def header_fields(raw: bytes) -> list[tuple[str, int, int]]:
    """The RFC 6455 5.2 header fields present in ``raw``: (name, bits, value).

    ``raw`` may be a header cut short (a violation found early): only the
    fields whose bits are all present are returned.
    """
    fields = [("FIN", 1), ("RSV1", 1), ("RSV2", 1), ("RSV3", 1), ("opcode", 4), ("MASK", 1),
              ("Payload len", 7)]
    if len(raw) >= 2:
        length7 = raw[1] & 0x7F
        if length7 == 126:
            fields.append(("Extended payload length", 16))
        elif length7 == 127:
            fields.append(("Extended payload length", 64))
        if raw[1] & 0x80:
            fields.append(("Masking-key", 32))
    value = int.from_bytes(raw, "big")
    available = len(raw) * 8
    out = []
    position = 0
    for name, bits in fields:
        if position + bits > available:
            break
        out.append((name, bits, (value >> (available - position - bits)) & ((1 << bits) - 1)))
        position += bits
    return out


def render_diagram(raw: bytes) -> list[str]:
    """Draw the header bytes in ``raw`` on the RFC 6455 5.2 diagram, bit by bit."""
    fields = header_fields(raw)
    bits: list[str] = []
    edges: set[int] = set()
    for _name, width, value in fields:
        bits.extend(format(value, f"0{width}b"))
        edges.add(len(bits))
    lines = [" 0                   1                   2                   3",
             " 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1"]
    for start in range(0, len(bits), 32):
        row = bits[start:start + 32]
        border, cells = "+", "|"
        for j, bit in enumerate(row):
            edge = (start + j + 1) in edges or j == len(row) - 1
            cells += bit + ("|" if edge else " ")
            border += "-" + ("+" if edge else "-")
        if start == 0:
            lines.append(border)
        lines += [cells, border]
    return lines


def describe_fields(raw: bytes, role: Role) -> list[str]:
    """Name each header field with its value, as a reader of RFC 6455 would."""
    out = []
    for name, width, value in header_fields(raw):
        if name == "opcode":
            known = OPCODES.get(value)
            meaning = known.name if known is not None else "reserved"
            out.append(f"opcode={value:04b} (0x{value:X}, {meaning})")
        elif name == "MASK":
            expected = "as a server expects" if role is Role.SERVER else "as a client expects"
            if (value == 1) is not (role is Role.SERVER):
                expected = "NOT " + expected
            out.append(f"MASK={value} ({'masked' if value else 'unmasked'}, {expected})")
        elif name == "Payload len":
            form = {126: "16-bit length follows", 127: "64-bit length follows"}.get(
                value, "7-bit form: the length itself")
            out.append(f"Payload len={value} ({form})")
        elif name == "Extended payload length":
            out.append(f"Extended payload length={value} ({width}-bit)")
        elif name == "Masking-key":
            out.append(f"Masking-key={value:08x}")
        else:
            out.append(f"{name}={value}")
    return out


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


class _FrameLister(FrameDecoder[tuple[Frame, int]]):
    """Frames as `FrameParser` gives them, but with at most ``keep`` bytes of
    each data frame's payload kept (control frames, 125 bytes at most, are
    kept whole): a frame arriving in pieces keeps its first ``keep`` bytes
    (unmasked) and counts the rest. Each item is (frame, payload length)."""

    def __init__(self, role: Role, *, max_frame_size: int | None, extension_rsv: int,
                 keep: int) -> None:
        super().__init__(role, max_frame_size=max_frame_size, extension_rsv=extension_rsv,
                         stop_at_close=False)
        self.keep = keep
        self._started: FrameHeader | None = None
        self._kept = bytearray()

    def _frame(self, first: FirstByte, payload: bytes, offset: int,
               out: list[tuple[Frame, int]]) -> None:
        kept = payload if first[0].is_control else payload[:self.keep]   # (125 bytes at most)
        out.append((Frame(first[0], kept, first[1], first[2], first[3], first[4], offset),
                    len(payload)))

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[tuple[Frame, int]]) -> None:
        out.append((Frame(Opcode.CLOSE, payload, True, False, False, False, offset),
                    len(payload)))

    def _start(self, header: FrameHeader, out: list[tuple[Frame, int]]) -> bool:
        self._started = header
        self._kept = bytearray()
        return True                 # in pieces: only the start is kept

    def _piece(self, data: bytes, key: bytes | None, left: int,
               out: list[tuple[Frame, int]]) -> None:
        room = self.keep - len(self._kept)
        if room > 0:
            # (the key is lined up with data[0], so a cut at the end keeps it so)
            self._kept += self._unmasked(data[:room], key)
        if not left:
            header = self._started
            assert header is not None
            first = header.first
            out.append((Frame(first[0], bytes(self._kept), first[1], first[2], first[3],
                              first[4], header.offset), header.length))
            self._started = None
            self._kept = bytearray()


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
        self._reader = MessageReader(role, max_message_size=max_message_size,
                                     max_frame_size=max_frame_size, extensions=extensions,
                                     stream=keep is not None)
        rsv = 0
        for extension in extensions:
            rsv |= extension.rsv_bits
        self._parser: FrameParser | _FrameLister = (
            FrameParser(role, max_frame_size=self._reader.max_frame_size, extension_rsv=rsv)
            if keep is None else
            _FrameLister(role, max_frame_size=self._reader.max_frame_size, extension_rsv=rsv,
                         keep=keep))
        # keep: compressed data is inflated a slice at a time (see INFLATE_SLICE)
        self._slice = INFLATE_SLICE if keep is not None and rsv else 0
        self._narrator = _Narrator()
        self._received = 0         # bytes fed so far
        self._frame_start = 0      # stream offset of the frame in progress
        self._head = b""           # its first bytes (up to _HEAD), for a violation
        self._frames = 0
        self._messages: deque[tuple[TextMessage | BinaryMessage, int]] = deque()
        self._message_count = 0
        # keep: the message in progress, its first bytes and its size so far
        self._text: list[str] = []
        self._text_kept = 0
        self._binary = bytearray()
        self._message_size = 0
        self._error: ProtocolError | None = None
        self._error_header = b""
        self._closed_at: int | None = None   # end offset of the Close frame

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
        try:
            step = self._slice
            if step and len(data) > step:
                for at in range(0, len(data), step):
                    for event in self._reader.feed(data[at:at + step]):
                        self._note_event(event)
            else:
                for event in self._reader.feed(data):
                    self._note_event(event)
        except ProtocolError as exc:
            self._error = exc
        frames: list[tuple[Frame, int]] = []
        try:
            for item in self._parser.feed(data):
                frames.append(item if isinstance(item, tuple) else (item, len(item.payload)))
        except ProtocolError:
            pass    # the reader's error (same rules, or earlier) is the verdict
        views = []
        for frame, length in frames:
            if self._error is not None and frame.offset >= self._error.offset:
                break
            views.append(self._view(frame, length, data, base))
        if self._error is not None:
            self._capture_head(data, base)
            start = self._error.offset
            if start == self._frame_start:
                self._error_header = self._head
            else:   # a frame completed in this piece broke a message-level rule
                self._error_header = data[start - base:start - base + _HEAD]
        else:
            self._capture_head(data, base)
        return views

    def _note_event(self, event: Event) -> None:
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
            if self._text_kept < keep:
                self._text.append(text if size <= keep - self._text_kept
                                  else text.encode()[:keep - self._text_kept]
                                  .decode(errors="ignore"))
                self._text_kept += size
            self._message_size += size
            if event.final:
                self._message_done(TextMessage("".join(self._text)), self._message_size)
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
        self._messages.append((message, size))
        self._message_count += 1
        self._text = []
        self._text_kept = 0
        self._binary = bytearray()
        self._message_size = 0

    def _view(self, frame: Frame, length: int, data: bytes, base: int) -> FrameView:
        """Describe a frame the parser completed in ``data`` (stream offset ``base``);
        ``length``: its payload's length (``frame.payload`` may be its start)."""
        masked = self.role is Role.SERVER
        n = length
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
        view = FrameView(self._frames, frame.offset, frame, header, wire, "", length=length)
        already_closed = self._narrator.closed
        self._narrator.describe(view)
        if view.ends_message and self._messages:
            view.message, view.message_size = self._messages.popleft()
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
        verdict = Verdict(self.role, self._received, self._frames, self._message_count, error,
                          self._error_header)
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


# -- text -------------------------------------------------------------------------------

def _preview(payload: bytes, text: bool, total: int | None = None, limit: int = 48) -> str:
    """The start of a payload: as text when it is UTF-8 text, else as hex."""
    total = len(payload) if total is None else total
    if text:
        # Decode only the start (a payload may be megabytes); a character cut
        # at the end of that start is dropped, an invalid byte shows as hex.
        start = payload[:limit * 4]
        for cut in range(4 if len(start) < total else 1):
            try:
                shown = start[:len(start) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(shown) <= limit and len(start) == total:
                return repr(shown)
            return repr(shown[:limit]) + f"... ({plural(total, 'byte')})"
    hexed = payload[:limit // 2].hex(" ")
    return hexed + (f" ... ({plural(total, 'byte')})" if total > limit // 2 else "")


def _field_lines(header: bytes, role: Role) -> list[str]:
    """The header fields, named, a few per line."""
    fields = describe_fields(header, role)
    flags = [f for f in fields if f.split("=")[0] in ("FIN", "RSV1", "RSV2", "RSV3")]
    rest = [f for f in fields if f not in flags]
    return ["  " + "  ".join(flags + rest[:1])] + ["  " + f for f in rest[1:]]


def _message_preview(message: TextMessage | BinaryMessage, size: int = 0) -> str:
    """The start of a message; ``size``: its real size, if only its start was kept."""
    if isinstance(message, TextMessage):
        data = message.text.encode()
        return _preview(data, True, max(size, len(data)))
    return _preview(message.data, False, max(size, len(message.data)))


def render_frame(view: FrameView, role: Role) -> list[str]:
    """The lines ``wsframe dissect`` prints for one frame."""
    frame = view.frame
    n = view.length
    lines = ["", f"frame #{view.index} at offset {view.offset}: {frame.opcode.name}, "
             f"{plural(view.size, 'byte')} ({len(view.header)}-byte header + "
             f"{n}-byte payload)"]
    lines += ["  " + line for line in render_diagram(view.header)]
    lines += _field_lines(view.header, role)
    masked = view.wire_preview != frame.payload[:_PREVIEW]
    if frame.opcode is Opcode.CLOSE and n >= 2:
        code = int.from_bytes(frame.payload[:2], "big")
        reason = frame.payload[2:]
        if masked:
            lines.append(f"  payload on the wire (masked): "
                         f"{_preview(view.wire_preview, False, n)}")
        lines.append(f"  payload: {frame.payload[:2].hex(' ')} = status code {code}"
                     + (f", then a {len(reason)}-byte reason: "
                        f"{_preview(reason, True)}" if reason else ", no reason"))
    elif n:
        if masked:
            lines.append(f"  payload on the wire (masked): "
                         f"{_preview(view.wire_preview, False, n)}")
            lines.append(f"  payload unmasked:             "
                         f"{_preview(frame.payload, view.is_text, n)}")
        else:
            lines.append(f"  payload: {_preview(frame.payload, view.is_text, n)}")
        if frame.opcode in (Opcode.PING, Opcode.PONG) and frame.payload.isascii() \
                and frame.payload.decode().isprintable():
            lines.append(f"  (as text: {frame.payload.decode()!r})")
    else:
        lines.append("  payload: (empty)")
    for note in view.note.split("\n"):
        lines += textwrap.wrap(note.strip(), 78, initial_indent="  ",
                               subsequent_indent="    ")
    if view.message is not None and view.compressed:
        lines.append(f"  -> message #{view.message_number} inflated"
                     + (f" from {view.ends_message} fragments" if view.ends_message > 1 else "")
                     + f": {_message_preview(view.message, view.message_size)}")
    elif view.message is not None and view.ends_message > 1:
        lines.append(f"  -> message #{view.message_number} reassembled from "
                     f"{view.ends_message} fragments: "
                     f"{_message_preview(view.message, view.message_size)}")
    return lines


def render_frame_line(view: FrameView) -> str:
    """One frame on one line: opcode, flags, mask, length, a payload preview and
    what it is (the short form that ``wsframe proxy`` and capture dissection print)."""
    frame = view.frame
    header = view.header
    rsv = "".join("1" if header[0] & bit else "0" for bit in (0x40, 0x20, 0x10))
    key = header[-4:].hex() if header[1] & 0x80 else None
    n = view.length
    if frame.opcode is Opcode.CLOSE and n >= 2:
        code, reason = parse_close_payload(frame.payload)
        payload = f"code {code}" + (f" {reason!r}" if reason else "")
    elif n and not view.compressed:
        payload = _preview(frame.payload, view.is_text or frame.opcode.is_control, n,
                           limit=32)
    elif n:
        payload = f"({plural(n, 'compressed byte')})"
    else:
        payload = "(empty)"
    note = view.note.split("\n")[0]
    if view.message is not None and view.compressed:
        note += f" -> inflated: {_message_preview(view.message, view.message_size)}"
    return (f"{frame.opcode.name:<12} {'FIN' if frame.fin else 'fin=0'} rsv={rsv} "
            f"{'mask=' + key if key else 'unmasked':<13} len={n:<6} {payload}  [{note}]")


def render_verdict(verdict: Verdict) -> list[str]:
    """The lines that end ``wsframe dissect``'s output."""
    lines = [""]
    error = verdict.error
    if error is None:
        lines.append(f"VALID: {plural(verdict.frames, 'frame')}, "
                     f"{plural(verdict.messages, 'complete message')}.")
        if verdict.ignored:
            lines.append(f"{plural(verdict.ignored, 'byte')} after the Close frame "
                         f"{'is' if verdict.ignored == 1 else 'are'} ignored (RFC 6455 5.5.1).")
        if verdict.pending:
            lines.append(f"The stream ends inside a frame: {plural(verdict.pending, 'byte')} "
                         f"{'waits' if verdict.pending == 1 else 'wait'} for more data.")
        return lines
    raw = verdict.error_header
    lines.append(f"VIOLATION in the frame at byte offset {error.offset}: {error.reason}")
    bad_header = raw[:header_length(raw)] if len(raw) >= 2 else raw
    lines += ["  " + line for line in render_diagram(bad_header)]
    lines += _field_lines(bad_header, verdict.role)
    lines += textwrap.wrap(f"rule broken: {error.violation.rule}", 78, initial_indent="  ",
                           subsequent_indent="    ")
    lines.append(f"  source: {error.violation.citation}")
    info = explain(error.code)
    lines.append(f"  close code: {error.code} ({info.name})")
    assert verdict.reply is not None
    masked = " (masked; a client uses a fresh random key, shown here with "\
        f"{EXAMPLE_CLIENT_KEY.hex()})" if verdict.role is Role.CLIENT else ""
    lines.append(f"  a correct endpoint sends back this Close frame{masked}, then closes "
                 "the connection:")
    lines.append(f"    {verdict.reply.hex(' ')}")
    if verdict.hint:
        lines += textwrap.wrap(f"hint: {verdict.hint}", 78, subsequent_indent="  ")
    return lines


def reading_line(role: Role) -> str:
    """The first line of ``wsframe dissect``'s output."""
    side = "server (receiving masked frames from a client)" if role is Role.SERVER \
        else "client (receiving unmasked frames from a server)"
    return f"Reading the stream as the {side}."


def render_text(result: Dissection) -> str:
    """The human-readable dissection of a whole `Dissection`."""
    assert result.verdict is not None
    lines = [reading_line(result.role)]
    for view in result.frames:
        lines += render_frame(view, result.role)
    lines += render_verdict(result.verdict)
    return "\n".join(lines)


# -- JSON -------------------------------------------------------------------------------

def frame_json(view: FrameView) -> dict[str, Any]:
    """One frame as plain data (an element of ``frames`` in ``--json`` output)."""
    frame = view.frame
    entry: dict[str, Any] = {
        "index": view.index, "offset": view.offset, "size": view.size,
        "header_hex": view.header.hex(),
        "fields": {name: value for name, _bits, value in header_fields(view.header)},
        "masking_key": view.header[-4:].hex() if view.header[1] & 0x80 else None,
        "opcode": frame.opcode.name, "fin": frame.fin, "rsv1": frame.rsv1,
        "payload_length": view.length, "payload_hex": frame.payload.hex(),
        "note": view.note,
    }
    if view.truncated:      # only the start was kept (Dissector's keep)
        entry["payload_kept"] = len(frame.payload)
    if frame.opcode is Opcode.CLOSE:
        code, reason = parse_close_payload(frame.payload)
        entry["close"] = {"code": code, "reason": reason}
    if view.message is not None:
        message = view.message
        entry["message"] = ({"type": "text", "text": message.text}
                            if isinstance(message, TextMessage)
                            else {"type": "binary", "data_hex": message.data.hex()})
        kept = (len(message.text.encode()) if isinstance(message, TextMessage)
                else len(message.data))
        if view.message_size > kept:    # only the start was kept
            entry["message"].update(size=view.message_size, kept=kept)
    return entry


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The verdict as plain data (the keys after ``frames`` in ``--json`` output)."""
    out: dict[str, Any] = {
        "role": verdict.role.value, "length": verdict.length, "valid": verdict.valid,
        "frame_count": verdict.frames, "message_count": verdict.messages,
        "ignored_after_close": verdict.ignored, "pending": verdict.pending,
    }
    error = verdict.error
    if error is not None:
        out["violation"] = {
            "offset": error.offset, "reason": error.reason, "code": error.code,
            "code_name": explain(error.code).name, "rule": error.violation.rule,
            "name": error.violation.name, "rfc": error.rfc, "section": error.section,
            "reply_hex": verdict.reply.hex() if verdict.reply else None,
            "hint": verdict.hint or None,
        }
    return out


def to_json(result: Dissection) -> dict[str, Any]:
    """A whole `Dissection` as plain data."""
    assert result.verdict is not None
    out = {"frames": [frame_json(view) for view in result.frames]}
    out.update(verdict_json(result.verdict))
    return out
