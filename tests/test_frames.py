"""build_frame, build_close, parse_close_payload, and the RFC 6455 5.7 examples."""

from __future__ import annotations

import pytest

from wsframe import (
    CloseCode,
    Frame,
    FrameParser,
    Opcode,
    ProtocolError,
    Role,
    Violation,
    build_close,
    build_frame,
    may_be_sent,
    parse_close_payload,
)
from wsframe.masking import apply_mask

KEY = bytes.fromhex("37fa213d")  # the masking key of RFC 6455 section 5.7

# RFC 6455 section 5.7, byte for byte: (description, role that receives it,
# bytes on the wire, frames they carry, masking key used to build them).
RFC_EXAMPLES = [
    ("single-frame unmasked text", Role.CLIENT,
     bytes.fromhex("810548656c6c6f"), [Frame(Opcode.TEXT, b"Hello")], None),
    ("single-frame masked text", Role.SERVER,
     bytes.fromhex("818537fa213d7f9f4d5158"), [Frame(Opcode.TEXT, b"Hello")], KEY),
    ("fragmented unmasked text", Role.CLIENT,
     bytes.fromhex("010348656c80026c6f"),
     [Frame(Opcode.TEXT, b"Hel", fin=False), Frame(Opcode.CONTINUATION, b"lo")], None),
    ("unmasked ping", Role.CLIENT,
     bytes.fromhex("890548656c6c6f"), [Frame(Opcode.PING, b"Hello")], None),
    ("masked pong", Role.SERVER,
     bytes.fromhex("8a8537fa213d7f9f4d5158"), [Frame(Opcode.PONG, b"Hello")], KEY),
    ("256 bytes binary, unmasked", Role.CLIENT,
     bytes.fromhex("827e0100") + bytes(range(256)),
     [Frame(Opcode.BINARY, bytes(range(256)))], None),
    ("64 KiB binary, unmasked", Role.CLIENT,
     bytes.fromhex("827f0000000000010000") + b"\xab" * 65536,
     [Frame(Opcode.BINARY, b"\xab" * 65536)], None),
]


@pytest.mark.parametrize(("name", "role", "wire", "frames", "key"), RFC_EXAMPLES,
                         ids=[e[0] for e in RFC_EXAMPLES])
def test_rfc_5_7_examples_parse(name: str, role: Role, wire: bytes, frames: list[Frame],
                                key: bytes | None) -> None:
    assert list(FrameParser(role).feed(wire)) == frames


@pytest.mark.parametrize(("name", "role", "wire", "frames", "key"), RFC_EXAMPLES,
                         ids=[e[0] for e in RFC_EXAMPLES])
def test_rfc_5_7_examples_build(name: str, role: Role, wire: bytes, frames: list[Frame],
                                key: bytes | None) -> None:
    built = b"".join(build_frame(f.opcode, f.payload, fin=f.fin, mask=key) for f in frames)
    assert built == wire


# -- build_frame -------------------------------------------------------------

LENGTH_ENCODINGS = [
    (0, b"\x00"), (1, b"\x01"), (125, b"\x7d"),
    (126, b"\x7e\x00\x7e"), (65535, b"\x7e\xff\xff"),
    (65536, b"\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
]


@pytest.mark.parametrize(("length", "encoded"), LENGTH_ENCODINGS)
@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION])
@pytest.mark.parametrize("key", [None, KEY])
def test_data_frame_round_trip_at_length_boundaries(
        length: int, encoded: bytes, opcode: Opcode, key: bytes | None) -> None:
    payload = bytes(i % 251 for i in range(length))
    fin = opcode is not Opcode.CONTINUATION or length % 2 == 0
    # The payload is not UTF-8: validate=False, this test is about the framing.
    wire = build_frame(opcode, payload, fin=fin, mask=key, validate=False)
    # Minimal length encoding, MASK bit, key and masked payload, byte for byte.
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if key else 0
    expected = bytes((first, encoded[0] | mask_bit)) + encoded[1:]
    expected += (key + apply_mask(payload, key)) if key else payload
    assert wire == expected
    # A continuation frame needs a message in progress before it.
    prefix = build_frame(Opcode.TEXT, b"", fin=False, mask=key) if opcode is \
        Opcode.CONTINUATION else b""
    parser = FrameParser(Role.SERVER if key else Role.CLIENT, max_frame_size=None)
    frames = list(parser.feed(prefix + wire))
    assert frames[-1] == Frame(opcode, payload, fin=fin)
    assert frames[-1].offset == len(prefix)


@pytest.mark.parametrize("opcode", [Opcode.CLOSE, Opcode.PING, Opcode.PONG])
@pytest.mark.parametrize("length", [0, 2, 125])
@pytest.mark.parametrize("key", [None, KEY])
def test_control_frame_round_trip(opcode: Opcode, length: int, key: bytes | None) -> None:
    payload = b"\x03\xe8" + b"x" * (length - 2) if opcode is Opcode.CLOSE and length else \
        b"p" * length
    wire = build_frame(opcode, payload, mask=key)
    assert wire[0] == 0x80 | opcode
    assert wire[1] == (0x80 if key else 0) | length
    parser = FrameParser(Role.SERVER if key else Role.CLIENT)
    assert list(parser.feed(wire)) == [Frame(opcode, payload)]


def test_rsv_bits_are_encoded() -> None:
    assert build_frame(Opcode.TEXT, b"", rsv1=True)[0] == 0xC1
    assert build_frame(Opcode.TEXT, b"", rsv2=True)[0] == 0xA1
    assert build_frame(Opcode.TEXT, b"", rsv3=True)[0] == 0x91
    assert build_frame(Opcode.TEXT, b"", fin=False, rsv1=True)[0] == 0x41


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"opcode": Opcode.PING, "payload": b"x" * 126}, "at most 125"),
    ({"opcode": Opcode.CLOSE, "payload": b"x" * 200}, "at most 125"),
    ({"opcode": Opcode.PONG, "fin": False}, r"PONG frame with FIN=0 \(RFC 6455 section 5.5\)"),
    ({"opcode": Opcode.PING, "fin": False}, "PING frame with FIN=0"),
    ({"opcode": 0x3}, r"opcode 0x3 is reserved \(RFC 6455 5.2\)"),
    ({"opcode": 0xB}, "reserved"),
    ({"opcode": 16}, r"opcode must be 0x0-0xF"),
    ({"opcode": -1}, r"opcode must be 0x0-0xF"),
    # Close payloads a receiver rejects (5.5.1, 7.4).
    ({"opcode": Opcode.CLOSE, "payload": b"\x03"}, "close frame payload of 1 byte"),
    ({"opcode": Opcode.CLOSE, "payload": b"\x03\xed"}, "close code 1005 is not allowed"),
    ({"opcode": Opcode.CLOSE, "payload": b"\x03\xe7"}, "close code 999 is not allowed"),
    ({"opcode": Opcode.CLOSE, "payload": b"\x03\xe8\xff"}, "close reason is not UTF-8"),
    # A whole text message must be UTF-8 (8.1).
    ({"opcode": Opcode.TEXT, "payload": b"ok\xc0\xaf"}, "byte 2 is not.*section 8.1"),
    # RSV bits on control and continuation frames (RFC 7692 6).
    ({"opcode": Opcode.PING, "rsv1": True}, r"RSV1 set on a PING frame \(RFC 7692 section 6\)"),
    ({"opcode": Opcode.CONTINUATION, "rsv1": True}, "RSV1 set on a CONTINUATION frame"),
    ({"opcode": Opcode.CLOSE, "rsv3": True}, "RSV3 set on a CLOSE frame"),
    ({"opcode": Opcode.TEXT, "mask": b"abc"}, "4-byte"),
    ({"opcode": Opcode.TEXT, "mask": b"abcde"}, "4-byte"),
    ({"opcode": Opcode.TEXT, "mask": "abcd"}, "4-byte"),
])
def test_build_frame_refuses_violations(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_frame(**kwargs)  # type: ignore[arg-type]


def test_build_frame_validate_false_builds_what_a_receiver_rejects() -> None:
    # The exact bytes the issue found build_frame writing silently, now on request only.
    assert build_frame(Opcode.PING, rsv1=True, validate=False) == b"\xc9\x00"
    assert build_frame(Opcode.CONTINUATION, rsv1=True, validate=False) == b"\xc0\x00"
    assert build_frame(Opcode.CLOSE, b"\x03", validate=False) == b"\x88\x01\x03"
    assert build_frame(0x3, b"", validate=False) == b"\x83\x00"
    assert build_frame(Opcode.PING, b"", fin=False, validate=False) == b"\x09\x00"
    assert build_frame(Opcode.TEXT, b"\xff", validate=False) == b"\x81\x01\xff"
    # Encoding limits stay: 4 bits of opcode, a 4-byte mask.
    with pytest.raises(ValueError, match="0x0-0xF"):
        build_frame(16, validate=False)
    with pytest.raises(ValueError, match="4-byte"):
        build_frame(Opcode.TEXT, mask=b"abc", validate=False)


@pytest.mark.parametrize("opcode", [True, 1.0, "1", None])
def test_build_frame_opcode_must_be_an_int(opcode: object) -> None:
    with pytest.raises(TypeError, match="opcode must be an Opcode or an int"):
        build_frame(opcode)  # type: ignore[arg-type]


def test_build_frame_allows_rsv_bits_on_a_first_data_frame() -> None:
    # They belong to the caller's negotiated extension (e.g. RSV1 for deflate);
    # a compressed text payload is not UTF-8 and is not checked.
    assert build_frame(Opcode.TEXT, b"\xf2\x48", rsv1=True) == b"\xc1\x02\xf2\x48"
    assert build_frame(Opcode.BINARY, b"", fin=False, rsv2=True) == b"\x22\x00"


def test_build_frame_rejects_text_payload_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="payload must be bytes"):
        build_frame(Opcode.TEXT, "hello")  # type: ignore[arg-type]


# -- build_close ---------------------------------------------------------------

def test_build_close_1002_unmasked() -> None:
    assert build_close(1002) == bytes.fromhex("880203ea")
    assert build_close(CloseCode.PROTOCOL_ERROR, "bad opcode") == \
        bytes.fromhex("880c03ea") + b"bad opcode"


def test_build_close_1002_masked() -> None:
    payload = b"\x03\xea"
    expected = bytes.fromhex("8882") + KEY + bytes(
        b ^ KEY[i % 4] for i, b in enumerate(payload))
    assert build_close(1002, mask=KEY) == expected
    assert expected.hex() == "888237fa213d3410"


def test_build_close_1013_unmasked_and_masked() -> None:
    reason = "Try Again Later"
    payload = b"\x03\xf5" + reason.encode()
    assert build_close(1013, reason) == bytes((0x88, len(payload))) + payload
    assert build_close(CloseCode.TRY_AGAIN_LATER, reason) == \
        bytes.fromhex("881103f5") + b"Try Again Later"
    masked = build_close(1013, reason, mask=KEY)
    assert masked[:2] == bytes((0x88, 0x80 | len(payload)))
    assert masked[2:6] == KEY
    assert bytes(b ^ KEY[i % 4] for i, b in enumerate(masked[6:])) == payload


def test_build_close_default_and_empty() -> None:
    assert build_close() == bytes.fromhex("880203e8")
    assert build_close(None) == b"\x88\x00"
    assert build_close(None, mask=KEY) == b"\x88\x80" + KEY


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                                  2999, 5000, 65535, -1])
def test_build_close_refuses_codes_that_must_not_be_sent(code: int) -> None:
    with pytest.raises(ValueError, match="must not be sent"):
        build_close(code)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                  1012, 1013, 1014, 3000, 3999, 4000, 4999])
def test_build_close_accepts_every_sendable_code(code: int) -> None:
    wire = build_close(code, "ok")
    assert wire == bytes((0x88, 4)) + code.to_bytes(2, "big") + b"ok"
    assert parse_close_payload(wire[2:]) == (code, "ok")


def test_build_close_reason_length_limit_counts_utf8_bytes() -> None:
    assert len(build_close(1000, "x" * 123)) == 2 + 125
    assert len(build_close(1000, "é" * 61 + "x")) == 2 + 2 + 123  # 61*2+1 bytes
    with pytest.raises(ValueError, match="124 UTF-8 bytes"):
        build_close(1000, "x" * 124)
    with pytest.raises(ValueError, match="124 UTF-8 bytes"):
        build_close(1000, "é" * 62)


def test_build_close_bad_types_and_reason_without_code() -> None:
    with pytest.raises(ValueError, match="needs a status code"):
        build_close(None, "why")
    with pytest.raises(TypeError):
        build_close("1000")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_close(1000, b"bytes")  # type: ignore[arg-type]


# -- parse_close_payload -----------------------------------------------------------

def test_parse_close_payload_valid() -> None:
    assert parse_close_payload(b"") == (None, "")
    assert parse_close_payload(b"\x03\xe8") == (1000, "")
    assert parse_close_payload(b"\x03\xf5busy") == (1013, "busy")
    assert parse_close_payload(b"\x0f\xa0" + "κόσμε".encode()) == (4000, "κόσμε")


def test_parse_close_payload_one_byte_is_1002() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(b"\x03", offset=40)
    assert info.value.code == 1002
    assert info.value.violation is Violation.CLOSE_PAYLOAD_TOO_SHORT
    assert info.value.offset == 40
    assert info.value.section == "5.5.1"


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_parse_close_payload_code_not_allowed_is_1002(code: int) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(code.to_bytes(2, "big"))
    assert info.value.code == 1002
    assert info.value.violation is Violation.CLOSE_CODE_NOT_ALLOWED
    assert str(code) in info.value.reason


@pytest.mark.parametrize("reason", [b"\xff", b"ok\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                    b"trunc\xe2\x82"])
def test_parse_close_payload_bad_utf8_is_1007(reason: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(b"\x03\xe8" + reason)
    assert info.value.code == 1007
    assert info.value.violation is Violation.CLOSE_REASON_NOT_UTF8


def test_sendable_codes_match_rfc_6455_section_7_4() -> None:
    sendable = [code for code in range(0, 6000) if may_be_sent(code)]
    expected = [*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)]
    assert sendable == expected


def test_close_code_enum_is_the_iana_registry() -> None:
    assert {c.value: c.name for c in CloseCode} == {
        1000: "NORMAL_CLOSURE", 1001: "GOING_AWAY", 1002: "PROTOCOL_ERROR",
        1003: "UNSUPPORTED_DATA", 1004: "RESERVED", 1005: "NO_STATUS_RCVD",
        1006: "ABNORMAL_CLOSURE", 1007: "INVALID_FRAME_PAYLOAD_DATA",
        1008: "POLICY_VIOLATION", 1009: "MESSAGE_TOO_BIG", 1010: "MANDATORY_EXTENSION",
        1011: "INTERNAL_ERROR", 1012: "SERVICE_RESTART", 1013: "TRY_AGAIN_LATER",
        1014: "BAD_GATEWAY", 1015: "TLS_HANDSHAKE",
    }


def test_opcode_values() -> None:
    assert [(o.name, o.value, o.is_control) for o in Opcode] == [
        ("CONTINUATION", 0, False), ("TEXT", 1, False), ("BINARY", 2, False),
        ("CLOSE", 8, True), ("PING", 9, True), ("PONG", 10, True)]


def test_frame_equality_ignores_offset_and_repr_is_readable() -> None:
    a = Frame(Opcode.TEXT, b"hi", offset=0)
    b = Frame(Opcode.TEXT, b"hi", offset=99)
    assert a == b and hash(a) == hash(b)
    assert a != Frame(Opcode.TEXT, b"hi", fin=False)
    assert a != Frame(Opcode.BINARY, b"hi")
    assert repr(b) == "<Frame TEXT fin payload=b'hi' offset=99>"
    assert "(200 bytes)" in repr(Frame(Opcode.BINARY, b"x" * 200))
