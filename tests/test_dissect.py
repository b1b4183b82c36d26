"""The dissector's diagram and field decoding (the library side of `wsframe dissect`)."""

from __future__ import annotations

import gc
import zlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import ROLES, cut, mutated, streams

from wsframe import Opcode, Role, TextMessage, build_frame
from wsframe.decoder import FrameDecoder
from wsframe.dissect import Dissector, dissect
from wsframe.extensions.permessage_deflate import PerMessageDeflate
from wsframe.messages import MessageReader
from wsframe.render import header_fields, render_diagram


def test_diagram_of_a_64_bit_length_header() -> None:
    wire = build_frame(Opcode.BINARY, bytes(70000))
    fields = header_fields(wire[:10])
    assert [(name, bits) for name, bits, _ in fields] == [
        ("FIN", 1), ("RSV1", 1), ("RSV2", 1), ("RSV3", 1), ("opcode", 4), ("MASK", 1),
        ("Payload len", 7), ("Extended payload length", 64)]
    assert fields[-1][2] == 70000
    lines = render_diagram(wire[:10])
    # 80 bits: two full 32-bit rows and a 16-bit row.
    assert len(lines) == 2 + 1 + 3 * 2
    # Row 1: 0x82 0x7f, then the first 16 of the 64 length bits (all zero).
    assert lines[3] == "|1|0|0|0|0 0 1 0|0|1 1 1 1 1 1 1|" + "0 " * 15 + "0|"
    # Row 3: the last 16 bits of the length, 70000 = 0x11170.
    assert lines[7] == "|" + " ".join(format(70000 & 0xFFFF, "016b")) + "|"


def test_partial_header_shows_only_complete_fields() -> None:
    assert [name for name, _, _ in header_fields(b"\x83")] == [
        "FIN", "RSV1", "RSV2", "RSV3", "opcode"]
    assert render_diagram(b"\x83")[3] == "|1|0|0|0|0 0 1 1|"


def test_dissect_marks_frames_after_close_as_ignored() -> None:
    key = b"\x01\x02\x03\x04"
    data = build_frame(Opcode.CLOSE, b"\x03\xe8", mask=key) + build_frame(
        Opcode.TEXT, b"late", mask=key)
    result = dissect(data, Role.SERVER)
    assert result.valid
    assert [view.frame.opcode for view in result.frames] == [Opcode.CLOSE, Opcode.TEXT]
    assert result.frames[1].note.startswith("after the Close frame")
    assert result.verdict is not None and result.verdict.ignored == 10


# -- keep: a prefix of each frame and message, the same verdicts --------------------------

def _seen(dissector: Dissector, pieces: list[bytes], keep: int | None) -> tuple[object, ...]:
    views = [view for piece in pieces for view in dissector.feed(piece)]
    verdict = dissector.finish()
    error = verdict.error
    shown = []
    for view in views:
        message = view.message
        kept: object = None
        if isinstance(message, TextMessage):    # (a character cut at the end is left out)
            kept = message.text.encode()[:keep].decode(errors="ignore")
        elif message is not None:
            kept = message.data[:keep]
        size = view.message_size if message is not None else None
        shown.append((view.offset, view.frame.opcode, view.frame.fin, view.frame.rsv1,
                      view.length, view.size, view.header, view.note, view.ends_message,
                      view.frame.payload if view.frame.opcode.is_control
                      else view.frame.payload[:keep], kept, size))
    return (shown, verdict.length, verdict.frames, verdict.messages, verdict.pending,
            verdict.ignored, verdict.error_header,
            None if error is None else (error.code, error.offset, error.reason))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_keeping_a_prefix_changes_nothing_but_what_is_kept(data: st.DataObject) -> None:
    """Dissector(keep=N) (captures, the proxy: streaming reader, frames in
    pieces) shows the same frames, sizes and verdict as the whole reading, for
    the same cuts; only payloads and messages are cut to N bytes."""
    role = data.draw(ROLES)
    stream = data.draw(streams(role))
    keep = data.draw(st.sampled_from([0, 1, 7, 100, 10_000]))
    pieces = data.draw(cut(stream))
    assert _seen(Dissector(role, keep=keep), pieces, keep) == _seen(Dissector(role), pieces,
                                                                      keep)
    for view in Dissector(role, keep=keep).feed(stream):
        kept = view.length if view.frame.opcode.is_control else min(view.length, keep)
        assert len(view.frame.payload) == kept


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_keeping_a_prefix_of_compressed_messages(data: st.DataObject) -> None:
    role = data.draw(ROLES)
    key = b"abcd" if role is Role.SERVER else None
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    frames = []
    for _ in range(data.draw(st.integers(1, 4))):
        text = data.draw(st.text(max_size=3000)).encode() * data.draw(st.integers(1, 30))
        body = (compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        parts = data.draw(st.integers(1, 3))
        step = -(-len(body) // parts) or 1
        chunks = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
        for i, chunk in enumerate(chunks):
            frames.append(build_frame(Opcode.TEXT if i == 0 else Opcode.CONTINUATION, chunk,
                                      fin=i == len(chunks) - 1, rsv1=i == 0, mask=key,
                                      validate=False))
    stream = data.draw(mutated(b"".join(frames))) if data.draw(st.booleans()) \
        else b"".join(frames)
    keep = data.draw(st.sampled_from([0, 5, 1000, 100_000]))
    limit = data.draw(st.sampled_from([None, 50_000]))
    pieces = data.draw(cut(stream))
    whole = _seen(Dissector(role, max_message_size=limit,
                            extensions=[PerMessageDeflate(role)]), pieces, keep)
    kept = _seen(Dissector(role, max_message_size=limit, extensions=[PerMessageDeflate(role)],
                           keep=keep), pieces, keep)
    assert kept == whole


def test_a_header_cut_between_pieces_is_shown_whole() -> None:
    """Was: a frame whose header began in an earlier piece showed only the bytes
    of that piece as its header (and, with the C helper, failed on a 1-byte key)."""
    wire = build_frame(Opcode.TEXT, b"hi", mask=b"abcd")
    for at in range(1, 6):
        dissector = Dissector(Role.SERVER)
        assert dissector.feed(wire[:at]) == []
        (view,) = dissector.feed(wire[at:])
        assert view.header == wire[:6]
        assert view.wire_preview == wire[6:]
        assert view.frame.payload == b"hi"


# -- one pass: the dissector is the reader with a narrator ------------------------------

def _decoders(root: object) -> list[FrameDecoder[object]]:
    """The frame decoders reachable from ``root`` (its object graph)."""
    found: list[FrameDecoder[object]] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, (type, ModuleType)):
            continue
        seen.add(id(item))
        if isinstance(item, FrameDecoder):
            found.append(item)
        todo.extend(gc.get_referents(item))
    return found


@pytest.mark.parametrize("keep", [None, 100])
def test_a_dissector_reads_the_stream_once_with_one_decoder(keep: int | None) -> None:
    """Was: a MessageReader for the verdicts and a FrameParser (or a frame lister)
    for the frames, both fed every byte. Now one reader, which reports the frames,
    also after the Close (the frames a receiver ignores)."""
    key = b"abcd"
    wire = (build_frame(Opcode.TEXT, "héllo".encode(), fin=False, mask=key)
            + build_frame(Opcode.PING, b"p", mask=key)
            + build_frame(Opcode.CONTINUATION, b"!" * 300, mask=key)
            + build_frame(Opcode.BINARY, bytes(70000), mask=key)
            + build_frame(Opcode.CLOSE, b"\x03\xe8", mask=key)
            + build_frame(Opcode.TEXT, b"late", mask=key))
    dissector = Dissector(Role.SERVER, keep=keep)
    (reader,) = _decoders(dissector)
    assert isinstance(reader, MessageReader)
    views = [view for at in range(0, len(wire), 1000)
             for view in dissector.feed(wire[at:at + 1000])]
    assert _decoders(dissector) == [reader]
    assert [view.frame.opcode for view in views] == [
        Opcode.TEXT, Opcode.PING, Opcode.CONTINUATION, Opcode.BINARY, Opcode.CLOSE, Opcode.TEXT]
    text = "héllo" + "!" * 300
    assert views[2].message == TextMessage(text if keep is None else text[:keep - 1])
    assert views[2].message_size == len(text.encode())
    verdict = dissector.finish()
    assert verdict.valid and verdict.messages == 2 and verdict.ignored == 10
