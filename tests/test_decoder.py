"""The receive path: one FrameDecoder, its four hooks, and both layers on it."""

from __future__ import annotations

import random

import pytest
from splitting import SPLIT_MODES, chunks, run

from wsframe import (
    BinaryChunk,
    BinaryMessage,
    Frame,
    FrameParser,
    MessageReader,
    MessageWriter,
    Opcode,
    ProtocolError,
    Role,
    TextChunk,
    TextMessage,
    Violation,
    build_frame,
)
from wsframe.decoder import FrameDecoder, FrameHeader
from wsframe.header_bits import RSV2, FirstByte

KEY = bytes.fromhex("a1b2c3d4")


def masked(opcode: Opcode, payload: bytes, fin: bool = True, **kwargs: bool) -> bytes:
    return build_frame(opcode, payload, fin=fin, mask=KEY, validate=False, **kwargs)


# -- the 290-of-300 case: a frame fed in three pieces ---------------------------------------

THREE_PIECES = [(0, 105), (105, 210), (210, None)]   # header + payload, cut twice


@pytest.mark.parametrize("kind", ["frames", "binary", "text", "binary stream", "text stream"])
def test_a_300_byte_frame_fed_in_three_pieces_comes_out_whole(kind: str) -> None:
    """The old FrameParser.feed shortcut ignored parts mode and lost 10 bytes."""
    payload = bytes(random.Random(300).choice(b"abcdefgh") for _ in range(300))
    opcode = Opcode.TEXT if kind.startswith("text") else Opcode.BINARY
    wire = masked(opcode, payload)
    pieces = [wire[a:b] for a, b in THREE_PIECES]
    if kind == "frames":
        assert FrameParser(Role.SERVER).feed_all(pieces) == [Frame(opcode, payload)]
        return
    reader = MessageReader(Role.SERVER, stream=kind.endswith("stream"))
    events = reader.feed_all(pieces)
    if kind == "binary":
        assert events == [BinaryMessage(payload)]
    elif kind == "text":
        assert events == [TextMessage(payload.decode())]
    elif kind == "binary stream":
        assert b"".join(e.data for e in events if isinstance(e, BinaryChunk)) == payload
        assert events[-1] == BinaryChunk(payload[210 - 8:], True)
    else:
        assert "".join(e.text for e in events if isinstance(e, TextChunk)) == payload.decode()
    assert reader.at_frame_boundary


# -- how the message layer takes frames ----------------------------------------------------

def test_binary_frames_are_kept_masked_and_text_frames_checked_as_they_arrive() -> None:
    binary = masked(Opcode.BINARY, b"\xff" * 1000)
    reader = MessageReader(Role.SERVER)
    assert list(reader.feed(binary[:500])) == []
    assert reader.buffered == 500 - 8          # the masked payload so far, in the decoder
    assert list(reader.feed(binary[500:])) == [BinaryMessage(b"\xff" * 1000)]
    # A text frame is validated piece by piece: a bad byte fails before the end.
    text = masked(Opcode.TEXT, b"a" * 500 + b"\xff" + b"a" * 499)
    reader = MessageReader(Role.SERVER)
    assert list(reader.feed(text[:400])) == []
    assert reader.buffered == 400 - 8           # validated and kept by the reader
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(text[400:600]))
    assert (info.value.code, info.value.offset) == (1007, 0)
    assert info.value.reason == "text message is not UTF-8 (byte 500)"


@pytest.mark.parametrize("mode", SPLIT_MODES)
@pytest.mark.parametrize("stream", [False, True])
def test_fast_path_inside_a_payload_matches_the_general_path(mode: str, stream: bool) -> None:
    """bytes take feed's fast path inside a payload; bytearray takes the state machine."""
    rng = random.Random(7)
    frames = [
        masked(Opcode.TEXT, "κόσμε ".encode() * 400, fin=False),
        masked(Opcode.PING, b"ping"),
        masked(Opcode.CONTINUATION, b"end"),
        masked(Opcode.BINARY, rng.randbytes(70_000)),
        masked(Opcode.TEXT, b"x" * 3000),
    ]
    wire = b"".join(frames)
    pieces = chunks(wire, mode, seed=3)
    fast = run(MessageReader(Role.SERVER, stream=stream).feed, pieces)
    general = run(MessageReader(Role.SERVER, stream=stream).feed, map(bytearray, pieces))
    assert fast[1] is None and general[1] is None
    assert fast[0] == general[0]
    frames_fast = FrameParser(Role.SERVER).feed_all(pieces)
    assert frames_fast == FrameParser(Role.SERVER).feed_all(map(bytearray, pieces))
    starts = [sum(map(len, frames[:i])) for i in range(len(frames))]
    assert [f.offset for f in frames_fast] == starts


# -- the hooks, as a third layer would use them ----------------------------------------------

class Recorder(FrameDecoder[tuple[str, object]]):
    """Takes every data frame in pieces and records what the hooks receive."""

    def _frame(self, first: FirstByte, payload: bytes, offset: int,
               out: list[tuple[str, object]]) -> None:
        out.append(("frame", (first.opcode, payload, offset)))

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[tuple[str, object]]) -> None:
        out.append(("close", (code, reason, offset)))

    def _start(self, header: FrameHeader, out: list[tuple[str, object]]) -> bool:
        out.append(("start", (header.opcode, header.length, header.key, header.offset,
                              header.size, header.fin)))
        return True

    def _piece(self, data: bytes, key: bytes | None, left: int,
               out: list[tuple[str, object]]) -> None:
        out.append(("piece", (self._unmasked(data, key), left)))


@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_hooks_see_headers_and_unmasked_pieces(mode: str) -> None:
    payload = bytes(range(256)) * 3
    wire = masked(Opcode.BINARY, payload, fin=False) + masked(Opcode.CONTINUATION, b"") + \
        build_frame(Opcode.CLOSE, b"\x03\xe8ok", mask=KEY)
    items = Recorder(Role.SERVER).feed_all(chunks(wire, mode, seed=1))
    pieces = [value for kind, value in items if kind == "piece"]
    if mode == "whole":         # complete in the bytes at hand: one _frame call
        assert items[0] == ("frame", (Opcode.BINARY, payload, 0))
    else:
        assert items[0] == ("start", (Opcode.BINARY, 768, KEY, 0, 8, False))
        assert b"".join(p for p, _ in pieces) == payload       # unmasked at every phase
        # ``left`` counts down what follows each piece, to 0 on the last.
        received = 0
        for piece, left in pieces:
            received += len(piece)
            assert left == len(payload) - received
    assert items[-2] == ("frame", (Opcode.CONTINUATION, b"", 776))
    assert items[-1] == ("close", (1000, "ok", 782))


def test_frame_header_record() -> None:
    items = Recorder(Role.SERVER).feed_all([masked(Opcode.TEXT, b"x" * 200)[:12]])
    assert items == [("start", (Opcode.TEXT, 200, KEY, 0, 8, True)),
                     ("piece", (b"xxxx", 196))]
    header = FrameHeader(FirstByte(Opcode.TEXT, True, False, False, False, 0), 200, KEY, 0, 8)
    assert repr(header) == "<FrameHeader TEXT fin masked length=200 offset=0>"


# -- extensions may claim any RSV bit -------------------------------------------------------

class Reverse:
    """A toy extension on RSV2: reverses each message's payload both ways."""

    rsv_bits = RSV2

    def __init__(self) -> None:
        self.seen: list[int] = []

    def incoming(self, opcode: Opcode, rsv: int) -> Reverse.Incoming | None:
        self.seen.append(rsv)
        return Reverse.Incoming() if rsv & RSV2 else None

    def outgoing(self, opcode: Opcode, payload: bytes) -> bytes:
        return payload[::-1]

    class Incoming:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        def feed(self, data: bytes, final: bool, limit: int | None) -> bytes:
            self.parts.append(data)
            return b"".join(self.parts)[::-1] if final else b""


def test_an_extension_on_rsv2_is_asked_and_its_bit_is_set() -> None:
    """Only RSV1 used to work: an RSV2 extension never had incoming called."""
    extension = Reverse()
    writer = MessageWriter(Role.CLIENT, extensions=[extension], mask_source=lambda n: KEY)
    wire = writer.text("Hello") + writer.binary(b"abc", fragment_size=2)
    assert wire[0] == 0x80 | RSV2 | Opcode.TEXT
    reader = MessageReader(Role.SERVER, extensions=[extension])
    assert list(reader.feed(wire)) == [TextMessage("Hello"), BinaryMessage(b"abc")]
    assert extension.seen == [RSV2, RSV2]
    # Without the extension, the same bytes are a 1002 at the first frame.
    with pytest.raises(ProtocolError) as info:
        list(MessageReader(Role.SERVER).feed(wire))
    assert info.value.violation is Violation.RESERVED_BITS
    assert info.value.reason == "RSV2 set with no extension for it"


@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.CONTINUATION])
def test_an_extensions_rsv2_on_a_control_or_continuation_frame_is_named_as_such(
        opcode: Opcode) -> None:
    """Issue 25: the rule was named for RSV1 (Per-Message Compressed) alone."""
    wire = build_frame(Opcode.TEXT, b"a", fin=False, mask=KEY) if opcode is Opcode.CONTINUATION \
        else b""
    wire += bytes((0x80 | RSV2 | opcode, 0x80)) + KEY
    with pytest.raises(ProtocolError) as info:
        list(MessageReader(Role.SERVER, extensions=[Reverse()]).feed(wire))
    assert info.value.violation is Violation.EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION
    assert info.value.reason == f"RSV2 set on a {opcode.name} frame"
    assert Violation.COMPRESSED_CONTROL_OR_CONTINUATION is info.value.violation   # old name


def test_protocol_error_offset_is_attached_by_the_layer_that_knows_it() -> None:
    error = ProtocolError(Violation.INVALID_COMPRESSED_DATA, "does not inflate")
    assert error.offset == -1 and "frame at offset" not in str(error)
    assert error.at(42) is error and error.offset == 42
    assert error.at(7).offset == 42             # attached once
    assert str(error).endswith("(close code 1007, RFC 7692 section 6.2, frame at offset 42)")
