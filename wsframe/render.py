"""The dissector's words: what `wsframe.dissect` found, as text and as JSON.

Strategy: `wsframe.dissect` reads (a `MessageReader` that narrates each frame
as it passes) and decides; this module only *shows* what it decided. It lays
each frame's header bytes out on the RFC 6455 section 5.2 diagram bit by bit,
shows the payload before and after unmasking, and for a violation the
offending bytes, the rule, and the exact Close frame to send back. The same
words serve ``wsframe dissect`` (a frame's block, or one line per frame for
captures and the live proxy) and its ``--json`` output. Nothing here reads a
stream: every function takes a `FrameView`, a `Verdict` or a `Dissection`
(or raw header bytes, for the diagram) and returns lines or plain data.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from .builders import parse_close_payload
from .close_codes import explain
from .events import BinaryMessage, TextMessage
from .header_bits import OPCODES
from .opcodes import Opcode
from .roles import Role

if TYPE_CHECKING:
    from .dissect import Dissection, FrameView, Verdict

__all__ = ["describe_fields", "frame_json", "header_fields", "header_length", "plural",
           "reading_line", "render_diagram", "render_frame", "render_frame_line",
           "render_text", "render_verdict", "to_json", "verdict_json"]


def plural(count: int, word: str) -> str:
    """``1 byte``, ``2 bytes``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


# -- the header, bit by bit -------------------------------------------------------------

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
    masked = view.wire_preview != frame.payload[:len(view.wire_preview)]
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
    # (a Close payload fits the 7-bit length: a masked reply's key is its bytes 2 to 5)
    masked = " (masked; a client uses a fresh random key, shown here with "\
        f"{verdict.reply[2:6].hex()})" if verdict.role is Role.CLIENT else ""
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
