"""FrameParser: every rule of issue 2's table with exact bytes, split invariance,
fail-fast, terminal state, and fast path vs general path."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from splitting import SPLIT_MODES, chunks, run

from wsframe import (
    Frame,
    FrameParser,
    Opcode,
    ProtocolError,
    Role,
    Violation,
    build_close,
    build_frame,
)

KEY = bytes.fromhex("01020304")


def masked(opcode: int, payload: bytes = b"", fin: bool = True, first: int | None = None,
           ) -> bytes:
    """A masked frame as a client sends it; ``first`` overrides the first byte."""
    # validate=False: these frames break rules on purpose.
    wire = build_frame(opcode, payload, fin=fin, mask=KEY, validate=False)
    if first is not None:
        wire = bytes((first,)) + wire[1:]
    return wire


def masked_header(first: int, length_bytes: bytes) -> bytes:
    """A masked frame header written by hand (to produce bad length encodings)."""
    return bytes((first, 0x80 | length_bytes[0])) + length_bytes[1:] + KEY


PING = masked(0x9, b"ok")                 # a valid frame to put before a violation


@dataclass
class Case:
    """A stream that breaks one rule: it must fail with ``violation`` at the
    frame starting at ``offset``, once ``proof`` bytes have arrived."""

    name: str
    stream: bytes
    violation: Violation
    proof: int
    role: Role = Role.SERVER
    offset: int = 0
    kwargs: dict[str, object] = field(default_factory=dict)
    before: list[Frame] = field(default_factory=list)  # valid frames ahead of it


CASES = [
    # RSV1/2/3 without an extension (5.2): proven by the first byte.
    Case("rsv1", masked(0x1, b"hi", first=0xC1), Violation.RESERVED_BITS, 1),
    Case("rsv2", masked(0x1, b"hi", first=0xA1), Violation.RESERVED_BITS, 1),
    Case("rsv3", masked(0x1, b"hi", first=0x91), Violation.RESERVED_BITS, 1),
    Case("rsv-all-on-ping", masked(0x9, b"", first=0xF9), Violation.RESERVED_BITS, 1),
    # Reserved opcodes (5.2): proven by the first byte.
    *[Case(f"opcode-0x{op:x}", masked(op, b"x"), Violation.RESERVED_OPCODE, 1)
      for op in (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF)],
    # Control frame with FIN=0 (5.5).
    Case("ping-fin0", masked(0x9, b"", first=0x09), Violation.FRAGMENTED_CONTROL_FRAME, 1),
    Case("close-fin0", masked(0x8, b"", first=0x08), Violation.FRAGMENTED_CONTROL_FRAME, 1),
    Case("pong-fin0", masked(0xA, b"", first=0x0A), Violation.FRAGMENTED_CONTROL_FRAME, 1),
    # Control frame payload > 125 (5.5): the 7-bit field cannot say it.
    Case("ping-126", masked_header(0x89, b"\x7e\x00\x7e") + b"x" * 126,
         Violation.CONTROL_FRAME_TOO_LONG, 2),
    Case("close-64bit", masked_header(0x88, b"\x7f" + (200).to_bytes(8, "big")),
         Violation.CONTROL_FRAME_TOO_LONG, 2),
    # Masking (5.1).
    Case("server-gets-unmasked", b"\x81\x02hi", Violation.UNMASKED_CLIENT_FRAME, 2),
    Case("client-gets-masked", masked(0x1, b"hi"), Violation.MASKED_SERVER_FRAME, 2,
         role=Role.CLIENT),
    # 64-bit length with the most significant bit set (5.2): proven at byte 3.
    Case("length-msb", masked_header(0x82, b"\x7f\x80" + bytes(7)),
         Violation.LENGTH_HIGH_BIT, 3),
    Case("length-msb-all-ones", masked_header(0x82, b"\x7f" + b"\xff" * 8),
         Violation.LENGTH_HIGH_BIT, 3),
    # Non-minimal length encodings (5.2), strict mode.
    Case("16bit-for-5", masked_header(0x81, b"\x7e\x00\x05") + b"hello",
         Violation.NON_MINIMAL_LENGTH, 4),
    Case("16bit-for-125", masked_header(0x82, b"\x7e\x00\x7d") + b"x" * 125,
         Violation.NON_MINIMAL_LENGTH, 4),
    Case("64bit-for-256", masked_header(0x82, b"\x7f" + (256).to_bytes(8, "big")) + bytes(256),
         Violation.NON_MINIMAL_LENGTH, 10),
    Case("64bit-for-65535", masked_header(0x82, b"\x7f" + (65535).to_bytes(8, "big")),
         Violation.NON_MINIMAL_LENGTH, 10),
    Case("64bit-for-0", masked_header(0x82, b"\x7f" + bytes(8)),
         Violation.NON_MINIMAL_LENGTH, 10),
    # Fragmentation (5.4).
    Case("continuation-first", masked(0x0, b"x"), Violation.UNEXPECTED_CONTINUATION, 1),
    Case("continuation-after-complete", masked(0x1, b"a") + masked(0x0, b"b"),
         Violation.UNEXPECTED_CONTINUATION, 8, offset=7,
         before=[Frame(Opcode.TEXT, b"a")]),
    Case("text-inside-message", masked(0x1, b"a", fin=False) + masked(0x1, b"b"),
         Violation.EXPECTED_CONTINUATION, 8, offset=7,
         before=[Frame(Opcode.TEXT, b"a", fin=False)]),
    Case("binary-inside-message", masked(0x2, b"a", fin=False) + PING + masked(0x2, b"b"),
         Violation.EXPECTED_CONTINUATION, 7 + 8 + 1, offset=15,
         before=[Frame(Opcode.BINARY, b"a", fin=False), Frame(Opcode.PING, b"ok")]),
    # Close frames (5.5.1, 7.4).
    Case("close-1-byte", masked(0x8, b"\x03"), Violation.CLOSE_PAYLOAD_TOO_SHORT, 7),
    *[Case(f"close-code-{code}", masked(0x8, code.to_bytes(2, "big")),
           Violation.CLOSE_CODE_NOT_ALLOWED, 8)
      for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)],
    Case("close-reason-not-utf8", masked(0x8, b"\x03\xe8\xce\xba\xe1\xbd"),
         Violation.CLOSE_REASON_NOT_UTF8, 12),
    # Frame larger than max_frame_size (10.4): before the masking key arrives.
    Case("frame-over-limit-16bit", masked_header(0x82, b"\x7e\x00\xc9") + bytes(201),
         Violation.FRAME_TOO_BIG, 4, kwargs={"max_frame_size": 200}),
    Case("frame-over-limit-7bit", masked(0x2, bytes(11)), Violation.FRAME_TOO_BIG, 2,
         kwargs={"max_frame_size": 10}),
    Case("frame-2**40", masked_header(0x82, b"\x7f" + (2**40).to_bytes(8, "big")),
         Violation.FRAME_TOO_BIG, 10),
    Case("frame-1MiB-plus-1", masked_header(0x82, b"\x7f" + (2**20 + 1).to_bytes(8, "big")),
         Violation.FRAME_TOO_BIG, 10),
]

CODES = {
    Violation.CLOSE_REASON_NOT_UTF8: 1007,
    Violation.FRAME_TOO_BIG: 1009,
}


def with_prefix(case: Case) -> Case:
    """The same case after a valid ping: offsets and proof shift by its length."""
    return Case(case.name + "+prefix", PING + case.stream, case.violation,
                case.proof + len(PING), case.role, case.offset + len(PING), case.kwargs,
                [Frame(Opcode.PING, b"ok"), *case.before])


ALL_CASES = [c for case in CASES for c in (case, with_prefix(case))
             if case.role is Role.SERVER or c is case]


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_violation(case: Case, mode: str) -> None:
    parser = FrameParser(case.role, **case.kwargs)  # type: ignore[arg-type]
    frames, error = run(parser.feed, chunks(case.stream, mode, seed=len(case.name)))
    assert error is not None, "the stream must be rejected"
    assert error.violation is case.violation
    assert error.code == CODES.get(case.violation, 1002)
    assert error.offset == case.offset
    assert error.section == case.violation.section
    assert len(error.reason.encode()) <= 123
    # Frames before the violation are delivered, none after it.
    assert frames == case.before


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_violation_fails_at_the_byte_that_proves_it(case: Case) -> None:
    """Checks happen as soon as the bytes that prove the violation arrive."""
    parser = FrameParser(case.role, **case.kwargs)  # type: ignore[arg-type]
    list(parser.feed(case.stream[:case.proof - 1]))   # one byte short: no error yet
    with pytest.raises(ProtocolError) as info:
        list(parser.feed(case.stream[case.proof - 1:case.proof]))
    assert info.value.violation is case.violation


def test_every_frame_rule_has_a_case() -> None:
    """Each rule of the violation table that the frame parser enforces is tested."""
    message_layer = {Violation.TEXT_NOT_UTF8, Violation.MESSAGE_TOO_BIG,
                     Violation.EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION,
                     Violation.INVALID_COMPRESSED_DATA}
    assert {c.violation for c in CASES} == set(Violation) - message_layer


def test_violation_table_codes_and_sections() -> None:
    for violation in Violation:
        assert violation.code in (1002, 1007, 1009)
        assert violation.rfc in (6455, 7692)
        assert violation.citation == f"RFC {violation.rfc} section {violation.section}"
    assert Violation.RESERVED_OPCODE.code == 1002
    assert Violation.TEXT_NOT_UTF8.code == 1007
    assert Violation.MESSAGE_TOO_BIG.code == 1009


def test_frames_before_an_error_are_delivered_in_order() -> None:
    stream = masked(0x1, b"one") + masked(0x9, b"two") + masked(0x2, b"three") + \
        masked(0x3, b"bad") + masked(0x1, b"never")
    iterator = FrameParser(Role.SERVER).feed(stream)
    assert next(iterator) == Frame(Opcode.TEXT, b"one")
    assert next(iterator) == Frame(Opcode.PING, b"two")
    assert next(iterator) == Frame(Opcode.BINARY, b"three")
    with pytest.raises(ProtocolError) as info:
        next(iterator)
    assert info.value.offset == 9 + 9 + 11
    assert info.value.reason == "reserved opcode 0x3"


def test_parser_is_terminal_after_a_violation() -> None:
    parser = FrameParser(Role.SERVER)
    with pytest.raises(ProtocolError) as first:
        list(parser.feed(b"\x81\x02hi"))
    assert parser.error is first.value
    # Every later feed raises the same error, even with valid data or nothing.
    for data in (b"", masked(0x1, b"fine"), b"\x00"):
        with pytest.raises(ProtocolError) as again:
            parser.feed(data)
        assert again.value is first.value


def test_error_is_raised_even_if_the_first_iterator_was_not_drained() -> None:
    parser = FrameParser(Role.SERVER)
    parser.feed(masked(0x1, b"ok") + b"\x83")       # parsed at once, not iterated
    with pytest.raises(ProtocolError) as info:
        parser.feed(masked(0x1, b"later"))
    assert info.value.violation is Violation.RESERVED_OPCODE


def test_feed_consumes_data_at_once() -> None:
    """Data is buffered by feed() itself, whether or not the iterator is used."""
    parser = FrameParser(Role.SERVER)
    frame = masked(0x1, b"hello")
    parser.feed(frame[:4])            # iterator discarded
    assert list(parser.feed(frame[4:])) == [Frame(Opcode.TEXT, b"hello")]


def test_non_strict_accepts_non_minimal_lengths() -> None:
    stream = masked_header(0x81, b"\x7e\x00\x05") + bytes(
        b ^ KEY[i % 4] for i, b in enumerate(b"hello"))
    stream += masked_header(0x82, b"\x7f" + (3).to_bytes(8, "big")) + bytes(
        b ^ KEY[i % 4] for i, b in enumerate(b"abc"))
    stream += masked_header(0x89, b"\x7e\x00\x02") + bytes(
        b ^ KEY[i % 4] for i, b in enumerate(b"pi"))
    for mode in SPLIT_MODES:
        frames, error = run(FrameParser(Role.SERVER, strict=False).feed, chunks(stream, mode))
        assert error is None
        assert frames == [Frame(Opcode.TEXT, b"hello"), Frame(Opcode.BINARY, b"abc"),
                          Frame(Opcode.PING, b"pi")]
    # Non-strict still enforces the control-frame limit once the length is known.
    parser = FrameParser(Role.SERVER, strict=False)
    with pytest.raises(ProtocolError) as info:
        list(parser.feed(masked_header(0x89, b"\x7e\x00\x7e")))
    assert info.value.violation is Violation.CONTROL_FRAME_TOO_LONG


def test_max_frame_size_none_and_boundary() -> None:
    payload = bytes(2**20)
    stream = masked(0x2, payload)
    assert list(FrameParser(Role.SERVER).feed(stream)) == [Frame(Opcode.BINARY, payload)]
    big = masked(0x2, payload + b"x")
    assert list(FrameParser(Role.SERVER, max_frame_size=None).feed(big)) == \
        [Frame(Opcode.BINARY, payload + b"x")]
    assert list(FrameParser(Role.SERVER, max_frame_size=0).feed(masked(0x1))) == \
        [Frame(Opcode.TEXT, b"")]


def test_role_by_name_and_bad_arguments() -> None:
    assert FrameParser(role=Role.CLIENT).role is Role.CLIENT
    with pytest.raises(TypeError, match=r"Role\.SERVER or Role\.CLIENT"):
        FrameParser("server")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_frame_size"):
        FrameParser(Role.SERVER, max_frame_size=-1)
    with pytest.raises(TypeError, match="data must be bytes, bytearray or memoryview, not str"):
        FrameParser(Role.SERVER).feed("text")  # type: ignore[arg-type]


def test_feed_accepts_bytearray_and_memoryview() -> None:
    frame = masked(0x1, b"hello")
    parser = FrameParser(Role.SERVER)
    buf = bytearray(frame[:5])
    assert list(parser.feed(buf)) == []
    buf[:] = b"\x00" * 5                  # the caller reuses its buffer
    assert list(parser.feed(memoryview(frame)[5:])) == [Frame(Opcode.TEXT, b"hello")]


def _random_valid_stream(rng: random.Random, role: Role, count: int) -> tuple[bytes,
                                                                               list[Frame]]:
    """Random valid frames (all opcodes, fragmentation, all length forms)."""
    frames: list[Frame] = []
    wire = []
    in_message = False
    for _ in range(count):
        size = rng.choice((0, 1, 3, 4, 5, 64, 125, 126, 127, 1000, 65535, 65536, 70000))
        payload = rng.randbytes(size)
        choice = rng.random()
        if choice < 0.25 and size <= 125:
            opcode = rng.choice((Opcode.PING, Opcode.PONG))
            fin = True
        elif choice < 0.3 and size <= 123 and not in_message:
            continue
        else:
            opcode = Opcode.CONTINUATION if in_message else rng.choice(
                (Opcode.TEXT, Opcode.BINARY))
            fin = rng.random() < 0.5
            in_message = not fin
        key = rng.randbytes(4) if role is Role.SERVER else None
        wire.append(build_frame(opcode, payload, fin=fin, mask=key, validate=False))
        frames.append(Frame(opcode, payload, fin))
    key = rng.randbytes(4) if role is Role.SERVER else None
    wire.append(build_close(1000, "bye", mask=key))
    frames.append(Frame(Opcode.CLOSE, b"\x03\xe8bye"))
    return b"".join(wire), frames


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
@pytest.mark.parametrize("seed", range(6))
def test_split_invariance_on_random_valid_streams(role: Role, seed: int) -> None:
    rng = random.Random(seed)
    stream, expected = _random_valid_stream(rng, role, 40)
    results = []
    for mode in ("whole", "random"):
        parser = FrameParser(role, max_frame_size=None)
        frames, error = run(parser.feed, chunks(stream, mode, seed))
        assert error is None
        assert frames == expected
        results.append([f.offset for f in frames])
    assert results[0] == results[1]
    # Offsets are where each frame starts on the wire.
    pos = 0
    for frame, offset in zip(expected, results[0], strict=True):
        assert offset == pos
        header = 2 + (0 if len(frame.payload) < 126 else 2 if len(frame.payload) < 65536
                      else 8) + (4 if role is Role.SERVER else 0)
        pos += header + len(frame.payload)


def test_bytewise_equals_whole_on_small_frames() -> None:
    rng = random.Random(7)
    stream = b"".join(masked(op, rng.randbytes(rng.randrange(0, 126)))
                      for op in (0x1, 0x2, 0x9, 0xA) * 20)
    whole = list(FrameParser(Role.SERVER).feed(stream))
    bytewise = FrameParser(Role.SERVER).feed_all(chunks(stream, "bytewise"))
    assert whole == bytewise
    assert [f.offset for f in whole] == [f.offset for f in bytewise]


class CountingParser(FrameParser):
    """Counts the frame headers that the general path decoded completely."""

    general = 0

    def _decode_header(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        header = super()._decode_header(*args, **kwargs)
        if header is not None:
            CountingParser.general += 1
        return header


def test_fast_path_and_general_path_agree() -> None:
    """The fast path (whole small frame in the buffer) and the general state
    machine give identical frames, and each path really runs."""
    rng = random.Random(3)
    stream = b"".join(masked(op, rng.randbytes(rng.randrange(0, 126)), fin=True)
                      for op in (0x1, 0x2, 0x9, 0xA, 0x8) if op != 0x8) * 30
    CountingParser.general = 0
    fast = list(CountingParser(Role.SERVER).feed(stream))
    assert CountingParser.general == 0, "whole small frames must take the fast path"
    general = CountingParser(Role.SERVER).feed_all(chunks(stream, "bytewise"))
    assert CountingParser.general == len(fast), "bytewise feeding takes the general path"
    assert fast == general
    assert [f.offset for f in fast] == [f.offset for f in general]


def test_close_frame_then_more_frames_are_still_parsed() -> None:
    """The frame layer reports what is on the wire; stopping after Close is the
    message layer's job (RFC 6455 5.5.1)."""
    stream = build_close(1000, mask=KEY) + masked(0x1, b"after")
    assert [f.opcode for f in FrameParser(Role.SERVER).feed(stream)] == [Opcode.CLOSE,
                                                                         Opcode.TEXT]


def test_large_frame_in_chunks_is_buffered_once() -> None:
    payload = random.Random(1).randbytes(300_000)
    stream = masked(0x2, payload)
    parser = FrameParser(Role.SERVER)
    frames = parser.feed_all(chunks(stream, "random", seed=5))
    assert frames == [Frame(Opcode.BINARY, payload)]
    assert parser.at_frame_boundary and parser.buffered == 0


def test_buffered_and_boundary_report_partial_frames() -> None:
    parser = FrameParser(Role.SERVER)
    frame = masked(0x2, b"x" * 200)
    list(parser.feed(frame[:3]))
    assert not parser.at_frame_boundary and parser.buffered == 3
    list(parser.feed(frame[3:100]))
    assert not parser.at_frame_boundary
    assert list(parser.feed(frame[100:])) == [Frame(Opcode.BINARY, b"x" * 200)]
    assert parser.at_frame_boundary and parser.buffered == 0
