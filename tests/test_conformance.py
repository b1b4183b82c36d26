"""The conformance vectors (tests/vectors/conformance.json) against MessageReader,
whole, byte by byte, in random chunks, and in streaming mode."""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from splitting import SPLIT_MODES, chunks, run

from wsframe import ProtocolError, Role
from wsframe.messages import (
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Event,
    MessageReader,
    Ping,
    Pong,
    TextChunk,
    TextMessage,
)

VECTORS_DIR = Path(__file__).parent / "vectors"
DOCUMENT = json.loads((VECTORS_DIR / "conformance.json").read_text(encoding="utf-8"))
VECTORS = DOCUMENT["vectors"]


def encode(spec: dict[str, Any]) -> bytes:
    """Encode a frame spec (an encoder independent of wsframe's build_frame)."""
    if "payload_repeat" in spec:
        pattern, count = spec["payload_repeat"]
        payload = bytes.fromhex(pattern) * count
    else:
        payload = bytes.fromhex(spec["payload"])
    n = len(payload)
    form = spec.get("length_form") or ("7" if n < 126 else "16" if n < 65536 else "64")
    first = (0x80 if spec["fin"] else 0) | spec["rsv"] << 4 | spec["opcode"]
    mask = bytes.fromhex(spec["mask"]) if spec.get("mask") else None
    mask_bit = 0x80 if mask else 0
    if form == "7":
        head = bytes((first, mask_bit | n))
    elif form == "16":
        head = bytes((first, mask_bit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, mask_bit | 127)) + n.to_bytes(8, "big")
    if mask is None:
        return head + payload
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    body = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
    return head + mask + body


def stream_of(vector: dict[str, Any]) -> bytes:
    return b"".join(encode(spec) for spec in vector["frames"])


def expected(vector: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for spec in vector["events"]:
        ((kind, value),) = spec.items()
        if kind == "text":
            events.append(TextMessage(value))
        elif kind == "text_repeat":
            events.append(TextMessage(value[0] * value[1]))
        elif kind == "binary":
            events.append(BinaryMessage(bytes.fromhex(value)))
        elif kind == "binary_repeat":
            events.append(BinaryMessage(bytes.fromhex(value[0]) * value[1]))
        elif kind == "ping":
            events.append(Ping(bytes.fromhex(value)))
        elif kind == "pong":
            events.append(Pong(bytes.fromhex(value)))
        elif kind == "close":
            # null: the Close frame had no status code; wsframe reports 1005 then.
            events.append(CloseReceived(1005 if value[0] is None else value[0], value[1]))
        else:
            raise AssertionError(f"unknown event kind {kind}")
    return events


def assemble(events: list[Event]) -> list[Event]:
    """Join streaming chunks back into whole messages."""
    out: list[Event] = []
    text: list[str] = []
    data: list[bytes] = []
    for event in events:
        if isinstance(event, TextChunk):
            text.append(event.text)
            if event.final:
                out.append(TextMessage("".join(text)))
                text = []
        elif isinstance(event, BinaryChunk):
            data.append(event.data)
            if event.final:
                out.append(BinaryMessage(b"".join(data)))
                data = []
        else:
            out.append(event)
    return out


def check(vector: dict[str, Any], events: list[Event], error: ProtocolError | None) -> None:
    assert events == expected(vector)
    spec = vector.get("error")
    if spec is None:
        assert error is None, f"unexpected {error!r}"
    else:
        assert error is not None, "the stream must be rejected"
        assert error.code == spec["code"]
        assert error.offset == spec["offset"]


IDS = [v["id"] for v in VECTORS]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_vector(vector: dict[str, Any], mode: str) -> None:
    stream = stream_of(vector)
    reader = MessageReader(Role.SERVER)
    events, error = run(reader.feed, chunks(stream, mode, seed=zlib.crc32(vector["id"].encode())))
    check(vector, events, error)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
@pytest.mark.parametrize("mode", ["whole", "random"])
def test_vector_streaming(vector: dict[str, Any], mode: str) -> None:
    stream = stream_of(vector)
    reader = MessageReader(Role.SERVER, stream=True)
    events, error = run(reader.feed, chunks(stream, mode, seed=7))
    check(vector, assemble(events), error)


FAIL_FAST = [v for v in VECTORS if "fail_at" in v.get("error", {})]


@pytest.mark.parametrize("vector", FAIL_FAST, ids=[v["id"] for v in FAIL_FAST])
@pytest.mark.parametrize("stream_mode", [False, True])
def test_vector_fails_as_soon_as_proven(vector: dict[str, Any], stream_mode: bool) -> None:
    """The failure comes with the byte that proves it, not later."""
    stream = stream_of(vector)
    fail_at = vector["error"]["fail_at"]
    reader = MessageReader(Role.SERVER, stream=stream_mode)
    list(reader.feed(stream[:fail_at - 1]))          # one byte short: no failure yet
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(stream[fail_at - 1:fail_at]))
    assert info.value.code == vector["error"]["code"]


def test_every_autobahn_section_is_covered() -> None:
    sections = {v["id"].split(".")[0] for v in VECTORS}
    assert sections == {"1", "2", "3", "4", "5", "6", "7", "10"}
    assert len(VECTORS) >= 200


def test_vectors_file_is_what_the_generator_writes() -> None:
    sys.path.insert(0, str(VECTORS_DIR))
    try:
        import generate
    finally:
        sys.path.remove(str(VECTORS_DIR))
    assert generate.VECTORS == VECTORS, "run: python tests/vectors/generate.py"


def test_encoder_matches_the_rfc_example() -> None:
    """The independent test encoder reproduces RFC 6455 5.7's masked frame."""
    spec = {"opcode": 1, "fin": True, "rsv": 0, "mask": "37fa213d",
            "payload": b"Hello".hex()}
    assert encode(spec).hex() == "818537fa213d7f9f4d5158"
