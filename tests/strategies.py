"""Hypothesis strategies: valid frame streams, mutations of them, and cuts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from wsframe import Opcode, Role, build_close, build_frame

ROLES = st.sampled_from([Role.SERVER, Role.CLIENT])

TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@st.composite
def valid_streams(draw: Any, role: Role) -> bytes:
    """A stream of valid frames as ``role`` receives them (masked for a server)."""
    out = []
    in_message = False
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.binary(min_size=4, max_size=4)) if role is Role.SERVER else None
        kind = draw(st.sampled_from(["data", "data", "control", "close"]))
        if kind == "control":
            out.append(build_frame(draw(st.sampled_from([Opcode.PING, Opcode.PONG])),
                                   draw(st.binary(max_size=125)), mask=key))
        elif kind == "close":
            code = draw(st.sampled_from([None, 1000, 1001, 1002, 1013, 4000]))
            out.append(build_close(code, "" if code is None else draw(TEXTS), mask=key))
        else:
            opcode = Opcode.CONTINUATION if in_message else draw(
                st.sampled_from([Opcode.TEXT, Opcode.BINARY]))
            payload = draw(TEXTS).encode() if draw(st.booleans()) else draw(
                st.binary(max_size=300))
            fin = draw(st.booleans())
            in_message = not fin
            # Frame-level valid; a TEXT payload need not be UTF-8 here.
            out.append(build_frame(opcode, payload, fin=fin, mask=key, validate=False))
    return b"".join(out)


@st.composite
def mutated(draw: Any, stream: bytes) -> bytes:
    """``stream`` with a few random edits: bit flips, insertions, deletions, cuts."""
    data = bytearray(stream)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "byte"]))
        position = draw(st.integers(0, len(data)))
        if action == "flip" and data:
            position = min(position, len(data) - 1)
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete" and data:
            del data[position:position + draw(st.integers(1, 4))]
        elif action == "truncate":
            del data[position:]
        elif action == "byte" and data:
            data[min(position, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def streams(draw: Any, role: Role) -> bytes:
    """Arbitrary bytes, valid streams, or mutated valid streams."""
    kind = draw(st.sampled_from(["random", "valid", "mutated", "mutated"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    valid = draw(valid_streams(role))
    return valid if kind == "valid" else draw(mutated(valid))


@st.composite
def cut(draw: Any, data: bytes) -> list[bytes]:
    """``data`` cut at random positions (possibly into empty pieces)."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces
