"""The dissector: the parser with a narrator (behind ``wsframe dissect``).

Strategy: decisions come from the library itself. A `MessageReader` reads
the stream as a correct endpoint would (messages, the violation and its
close code); a `FrameParser` lists the frames. The narrator only *describes*
what those decided: it lays each frame's header bytes out on the RFC 6455
section 5.2 diagram bit by bit, shows the payload before and after
unmasking, says which message each frame belongs to, and for a violation
shows the offending bytes, the rule, and the exact close frame to send back.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from .close_codes import explain
from .errors import ProtocolError
from .frames import Frame, build_close, parse_close_payload
from .messages import BinaryMessage, Event, MessageReader, TextMessage
from .opcodes import Opcode
from .parser import FrameParser
from .roles import Role

__all__ = ["EXAMPLE_CLIENT_KEY", "Dissection", "FrameView", "dissect", "header_fields",
           "render_diagram", "render_text", "to_json"]

#: A client masks its Close frame with a fresh random key; the dissector
#: shows the reply with this fixed key so that its output is reproducible.
EXAMPLE_CLIENT_KEY = bytes.fromhex("1a2b3c4d")

_OPCODE_NAMES = {op.value: op.name for op in Opcode}


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
            meaning = _OPCODE_NAMES.get(value, "reserved")
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
    """One frame as the dissector shows it."""

    index: int
    offset: int
    frame: Frame
    header: bytes
    wire_payload: bytes
    note: str
    message: int = 0               # the data message it belongs to (0: none)
    is_text: bool = False          # part of a text message
    ends_message: int = 0          # fragments in the data message this frame ends

    @property
    def size(self) -> int:
        """Bytes the frame takes on the wire."""
        return len(self.header) + len(self.wire_payload)


@dataclass
class Dissection:
    """The result of `dissect`: frames, what a correct endpoint received, the verdict."""

    role: Role
    data: bytes
    frames: list[FrameView] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: ProtocolError | None = None
    reply: bytes | None = None
    pending: int = 0          # bytes at the end that are not a complete frame
    ignored: int = 0          # bytes after a Close frame

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
        self.open = False       # a fragmented message is in progress
        self.closed = False

    def describe(self, view: FrameView) -> None:
        frame = view.frame
        opcode = frame.opcode
        if self.closed:
            view.note = "after the Close frame: a receiver ignores it (RFC 6455 5.5.1)"
            return
        if opcode >= 0x8:
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
        self.fragments += 1
        self.open = not frame.fin
        view.message = self.message
        view.is_text = self.text
        kind = "text" if self.text else "binary"
        if frame.fin:
            view.ends_message = self.fragments
        if frame.fin and self.fragments == 1:
            view.note = f"message #{self.message} ({kind}), complete in this frame"
            return
        position = "first" if self.fragments == 1 else "last" if frame.fin else "next"
        view.note = f"message #{self.message} ({kind}), {position} fragment ({self.fragments})"


def dissect(data: bytes, role: Role, *, max_frame_size: int | None = None,
            max_message_size: int | None = None) -> Dissection:
    """Read ``data`` as ``role`` would, and describe every frame in it."""
    result = Dissection(role, data)
    reader = MessageReader(role, max_message_size=max_message_size,
                           max_frame_size=max_frame_size)
    try:
        result.events = []
        for event in reader.feed(data):
            result.events.append(event)
    except ProtocolError as exc:
        result.error = exc
    frames: list[Frame] = []
    try:
        for frame in FrameParser(role, max_frame_size=max_frame_size).feed(data):
            frames.append(frame)
    except ProtocolError:
        pass    # the reader's error (same rules, or earlier) is the verdict
    narrator = _Narrator()
    end = 0
    for index, frame in enumerate(frames, 1):
        if result.error is not None and frame.offset >= result.error.offset:
            break
        raw = data[frame.offset:]
        header = raw[:header_length(raw)]
        view = FrameView(index, frame.offset, frame, header,
                         raw[len(header):len(header) + len(frame.payload)], "")
        already_closed = narrator.closed
        narrator.describe(view)
        result.frames.append(view)
        end = frame.offset + view.size
        if narrator.closed and not already_closed:
            result.ignored = len(data) - end
    if result.error is not None:
        result.reply = build_close(result.error.code, result.error.reason,
                                   mask=EXAMPLE_CLIENT_KEY if role is Role.CLIENT else None)
    elif not narrator.closed:
        result.pending = len(data) - end
    return result


def _preview(payload: bytes, text: bool, limit: int = 48) -> str:
    if text:
        try:
            shown = payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return repr(shown if len(shown) <= limit else shown[:limit]) + (
                f"... ({len(shown)} characters)" if len(shown) > limit else "")
    hexed = payload[:limit // 2].hex(" ")
    return hexed + (f" ... ({len(payload)} bytes)" if len(payload) > limit // 2 else "")


def _field_lines(header: bytes, role: Role) -> list[str]:
    """The header fields, named, a few per line."""
    fields = describe_fields(header, role)
    flags = [f for f in fields if f.split("=")[0] in ("FIN", "RSV1", "RSV2", "RSV3")]
    rest = [f for f in fields if f not in flags]
    return ["  " + "  ".join(flags + rest[:1])] + ["  " + f for f in rest[1:]]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_text(result: Dissection) -> str:
    """The human-readable dissection, as ``wsframe dissect`` prints it."""
    lines: list[str] = []
    side = "server (receiving masked frames from a client)" if result.role is Role.SERVER \
        else "client (receiving unmasked frames from a server)"
    lines.append(f"Reading {len(result.data)} bytes as the {side}.")
    messages = iter([e for e in result.events if isinstance(e, (TextMessage, BinaryMessage))])
    for view in result.frames:
        frame = view.frame
        lines.append("")
        lines.append(f"frame #{view.index} at offset {view.offset}: {frame.opcode.name}, "
                     f"{view.size} bytes ({len(view.header)}-byte header + "
                     f"{len(frame.payload)}-byte payload)")
        lines += ["  " + line for line in render_diagram(view.header)]
        lines += _field_lines(view.header, result.role)
        if frame.opcode is Opcode.CLOSE and len(frame.payload) >= 2:
            code = int.from_bytes(frame.payload[:2], "big")
            reason = frame.payload[2:]
            if view.wire_payload != frame.payload:
                lines.append(f"  payload on the wire (masked): "
                             f"{_preview(view.wire_payload, False)}")
            lines.append(f"  payload: {frame.payload[:2].hex(' ')} = status code {code}"
                         + (f", then a {len(reason)}-byte reason: "
                            f"{_preview(reason, True)}" if reason else ", no reason"))
        elif frame.payload:
            if view.wire_payload != frame.payload:
                lines.append(f"  payload on the wire (masked): "
                             f"{_preview(view.wire_payload, False)}")
                lines.append(f"  payload unmasked:             "
                             f"{_preview(frame.payload, view.is_text)}")
            else:
                lines.append(f"  payload: {_preview(frame.payload, view.is_text)}")
            if frame.opcode in (Opcode.PING, Opcode.PONG) and frame.payload.isascii() \
                    and frame.payload.decode().isprintable():
                lines.append(f"  (as text: {frame.payload.decode()!r})")
        else:
            lines.append("  payload: (empty)")
        for note in view.note.split("\n"):
            lines += textwrap.wrap(note.strip(), 78, initial_indent="  ",
                                   subsequent_indent="    ")
        if view.ends_message:
            message = next(messages, None)
            if message is not None and view.ends_message > 1:
                shown = _preview(message.text.encode(), True) if isinstance(
                    message, TextMessage) else _preview(message.data, False)
                lines.append(f"  -> message #{view.message} reassembled from "
                             f"{view.ends_message} fragments: {shown}")
    lines.append("")
    error = result.error
    if error is None:
        count = sum(isinstance(e, (TextMessage, BinaryMessage)) for e in result.events)
        lines.append(f"VALID: {_plural(len(result.frames), 'frame')}, "
                     f"{_plural(count, 'complete message')}.")
        if result.ignored:
            lines.append(f"{result.ignored} bytes after the Close frame are ignored "
                         "(RFC 6455 5.5.1).")
        if result.pending:
            lines.append(f"The stream ends inside a frame: {result.pending} bytes wait for "
                         "more data.")
        return "\n".join(lines)
    raw = result.data[error.offset:error.offset + 14]
    lines.append(f"VIOLATION in the frame at byte offset {error.offset}: {error.reason}")
    bad_header = raw[:header_length(raw)] if len(raw) >= 2 else raw
    lines += ["  " + line for line in render_diagram(bad_header)]
    lines += _field_lines(bad_header, result.role)
    lines += textwrap.wrap(f"rule broken: {error.violation.rule}", 78, initial_indent="  ",
                           subsequent_indent="    ")
    lines.append(f"  source: {error.violation.citation}")
    info = explain(error.code)
    lines.append(f"  close code: {error.code} ({info.name})")
    assert result.reply is not None
    masked = " (masked; a client uses a fresh random key, shown here with "\
        f"{EXAMPLE_CLIENT_KEY.hex()})" if result.role is Role.CLIENT else ""
    lines.append(f"  a correct endpoint sends back this Close frame{masked}, then closes "
                 "the connection:")
    lines.append(f"    {result.reply.hex(' ')}")
    return "\n".join(lines)


def to_json(result: Dissection) -> dict[str, Any]:
    """The dissection as plain data (``wsframe dissect --json``)."""
    frames = []
    for view in result.frames:
        frame = view.frame
        entry: dict[str, Any] = {
            "index": view.index, "offset": view.offset, "size": view.size,
            "header_hex": view.header.hex(),
            "fields": {name: value for name, _bits, value in header_fields(view.header)},
            "opcode": frame.opcode.name, "fin": frame.fin,
            "payload_length": len(frame.payload), "payload_hex": frame.payload.hex(),
            "note": view.note,
        }
        if frame.opcode is Opcode.CLOSE:
            code, reason = parse_close_payload(frame.payload)
            entry["close"] = {"code": code, "reason": reason}
        frames.append(entry)
    out: dict[str, Any] = {
        "role": result.role.value, "length": len(result.data), "valid": result.valid,
        "frames": frames, "ignored_after_close": result.ignored,
        "pending": result.pending,
    }
    if result.error is not None:
        error = result.error
        out["violation"] = {
            "offset": error.offset, "reason": error.reason, "code": error.code,
            "code_name": explain(error.code).name, "rule": error.violation.rule,
            "name": error.violation.name, "rfc": error.rfc, "section": error.section,
            "reply_hex": result.reply.hex() if result.reply else None,
        }
    return out
