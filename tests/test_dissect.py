"""The dissector's diagram and field decoding (the library side of `wsframe dissect`)."""

from __future__ import annotations

from wsframe import Opcode, Role, build_frame
from wsframe.dissect import dissect, header_fields, render_diagram


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
