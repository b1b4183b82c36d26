"""Property tests (Hypothesis): no exception but ProtocolError, split invariance,
round trips, terminal state."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from splitting import run
from strategies import ROLES, TEXTS, cut, streams

from wsframe import (
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Frame,
    FrameParser,
    MessageReader,
    MessageWriter,
    Opcode,
    Ping,
    Pong,
    ProtocolError,
    Role,
    TextChunk,
    TextMessage,
    build_frame,
)

CODES = {1002, 1007, 1009}


def merge_chunks(events: list[Any]) -> list[Any]:
    """Streaming chunks follow the feed boundaries by design: merge neighbours
    of one message so that only the content and its order are compared."""
    out: list[Any] = []
    for event in events:
        previous = out[-1] if out else None
        if isinstance(event, TextChunk) and isinstance(previous, TextChunk) \
                and not previous.final:
            out[-1] = TextChunk(previous.text + event.text, event.final)
        elif isinstance(event, BinaryChunk) and isinstance(previous, BinaryChunk) \
                and not previous.final:
            out[-1] = BinaryChunk(previous.data + event.data, event.final)
        else:
            out.append(event)
    return out


def outcome(feed: Any, pieces: list[bytes]) -> tuple[list[Any], tuple[int, int] | None]:
    """Events (frames with their offsets) and the error's (code, offset)."""
    events, error = run(feed, pieces)
    marks = [(e, e.offset) if isinstance(e, Frame) else e for e in merge_chunks(events)]
    return marks, None if error is None else (error.code, error.offset)


def readers(role: Role, limits: int | None) -> list[Any]:
    return [FrameParser(role, max_frame_size=limits),
            MessageReader(role, max_message_size=limits, max_frame_size=limits),
            MessageReader(role, max_message_size=limits, max_frame_size=limits, stream=True)]


@given(role=ROLES, data=st.data(), limit=st.sampled_from([None, 0, 50, 1000]))
def test_only_protocol_error_ever_escapes(role: Role, data: Any, limit: int | None) -> None:
    stream = data.draw(streams(role))
    pieces = data.draw(cut(stream))
    for reader in readers(role, limit):
        try:
            for piece in pieces:
                for _event in reader.feed(piece):
                    pass
        except ProtocolError as exc:
            assert exc.code in CODES
            assert 0 <= exc.offset < len(stream)
            assert len(exc.reason.encode()) <= 123


@given(role=ROLES, data=st.data(), limit=st.sampled_from([None, 60]))
def test_split_invariance(role: Role, data: Any, limit: int | None) -> None:
    stream = data.draw(streams(role))
    one, other = data.draw(cut(stream)), data.draw(cut(stream))
    for make in range(3):
        whole = outcome(readers(role, limit)[make].feed, [stream])
        assert outcome(readers(role, limit)[make].feed, one) == whole
        assert outcome(readers(role, limit)[make].feed, other) == whole


@given(role=ROLES, data=st.data())
def test_terminal_after_an_error(role: Role, data: Any) -> None:
    stream = data.draw(streams(role))
    for reader in readers(role, None):
        _events, error = run(reader.feed, [stream])
        if error is None:
            continue
        for later in (b"", stream, b"\x81\x00"):
            try:
                reader.feed(later)
            except ProtocolError as again:
                assert again is error
            else:
                raise AssertionError("a reader must stay terminal after an error")


@given(role=ROLES, seed=st.integers(0, 2**32 - 1),
       frames=st.lists(st.tuples(st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.PING,
                                                  Opcode.PONG]),
                                 st.binary(max_size=200), st.integers(1, 70000)),
                       max_size=6))
def test_frame_round_trip(role: Role, seed: int, frames: list[tuple[Opcode, bytes, int]]
                          ) -> None:
    rng = random.Random(seed)
    sender_masks = role is Role.SERVER            # a server receives masked frames
    expected, wire = [], []
    for opcode, payload, size in frames:
        body = payload * (size // max(1, len(payload))) if opcode < 8 and payload else payload
        fragments = [body] if opcode >= 8 else [body[i:i + rng.randint(1, 200)]
                                                for i in range(0, max(1, len(body)), 200)]
        for index, fragment in enumerate(fragments):
            op = opcode if index == 0 else Opcode.CONTINUATION
            fin = index == len(fragments) - 1
            key = rng.randbytes(4) if sender_masks else None
            wire.append(build_frame(op, fragment, fin=fin, mask=key, validate=False))
            expected.append(Frame(op, fragment, fin))
    stream = b"".join(wire)
    parsed, error = run(FrameParser(role, max_frame_size=None).feed, [stream])
    assert error is None and parsed == expected


@given(role=ROLES, seed=st.integers(0, 2**32 - 1), fragment=st.sampled_from([None, 1, 3, 64]),
       messages=st.lists(st.one_of(TEXTS.map(TextMessage), st.binary(max_size=500).map(
           BinaryMessage), st.binary(max_size=125).map(Ping), st.binary(max_size=125).map(
           Pong)), max_size=8), code=st.sampled_from([None, 1000, 1013, 4999]))
def test_message_round_trip(role: Role, seed: int, fragment: int | None,
                            messages: list[Any], code: int | None) -> None:
    rng = random.Random(seed)
    writer = MessageWriter(role, mask_source=rng.randbytes)
    peer = Role.CLIENT if role is Role.SERVER else Role.SERVER
    wire = b"".join(
        writer.text(m.text, fragment_size=fragment) if isinstance(m, TextMessage) else
        writer.binary(m.data, fragment_size=fragment) if isinstance(m, BinaryMessage) else
        writer.send(m) for m in messages) + writer.close(code)
    points = sorted(rng.randint(0, len(wire)) for _ in range(rng.randint(0, 20)))
    pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
    assert b"".join(pieces) == wire
    events, error = run(MessageReader(peer).feed, pieces)
    assert error is None
    assert events == [*messages, CloseReceived(1005 if code is None else code, "")]
