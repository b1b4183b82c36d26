"""Run one received byte stream through wsframe, wsproto and websockets, and
explain any disagreement by the RFC (see docs/divergences.md).

Each implementation is read as a *server* (frames must be masked), without
size limits, and its result is normalized to an `Outcome`: the messages and
control frames it delivered up to the first Close frame (text as str, binary
as bytes) and the close code it fails the connection with (None if it did
not). Anything after a Close frame is ignored, as RFC 6455 5.5.1 says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import websockets.frames as ws_frames
from websockets.protocol import Protocol as WebsocketsProtocol
from websockets.protocol import Side
from wsproto.frame_protocol import FrameProtocol, ParseFailed
from wsproto.frame_protocol import Opcode as WsprotoOpcode

from wsframe import (
    BinaryMessage,
    CloseReceived,
    MessageReader,
    Ping,
    Pong,
    ProtocolError,
    Role,
    TextMessage,
    Violation,
)

Event = tuple[Any, ...]


@dataclass
class Outcome:
    """What an implementation made of a stream."""

    events: list[Event] = field(default_factory=list)
    code: int | None = None                   # close code it fails with
    detail: str = ""                          # its own words for the failure

    def key(self) -> tuple[list[Event], int | None]:
        return self.events, self.code


def run_wsframe(stream: bytes) -> tuple[Outcome, ProtocolError | None]:
    outcome = Outcome()
    reader = MessageReader(Role.SERVER, max_message_size=None, max_frame_size=None)
    try:
        for event in reader.feed(stream):
            if isinstance(event, TextMessage):
                outcome.events.append(("text", event.text))
            elif isinstance(event, BinaryMessage):
                outcome.events.append(("binary", event.data))
            elif isinstance(event, Ping):
                outcome.events.append(("ping", event.payload))
            elif isinstance(event, Pong):
                outcome.events.append(("pong", event.payload))
            elif isinstance(event, CloseReceived):
                outcome.events.append(("close", event.code, event.reason))
    except ProtocolError as exc:
        outcome.code, outcome.detail = exc.code, exc.reason
        return outcome, exc
    return outcome, None


def run_wsproto(stream: bytes) -> Outcome:
    outcome = Outcome()
    protocol = FrameProtocol(client=False, extensions=[])
    protocol.receive_bytes(stream)
    text: list[str] = []
    data: list[bytes] = []
    try:
        for frame in protocol.received_frames():
            opcode = frame.opcode
            if opcode is WsprotoOpcode.PING:
                outcome.events.append(("ping", bytes(frame.payload)))
            elif opcode is WsprotoOpcode.PONG:
                outcome.events.append(("pong", bytes(frame.payload)))
            elif opcode is WsprotoOpcode.CLOSE:
                code, reason = frame.payload      # 1005 for "no status code", as ours
                outcome.events.append(("close", int(code), reason))
                return outcome
            elif isinstance(frame.payload, str):
                text.append(frame.payload)
                if frame.message_finished:
                    outcome.events.append(("text", "".join(text)))
                    text = []
            else:
                data.append(bytes(frame.payload))
                if frame.message_finished:
                    outcome.events.append(("binary", b"".join(data)))
                    data = []
    except ParseFailed as exc:
        outcome.code, outcome.detail = int(exc.code), str(exc)
    return outcome


def run_websockets(stream: bytes) -> Outcome:
    assert WebsocketsProtocol is not None
    outcome = Outcome()
    protocol = WebsocketsProtocol(Side.SERVER, max_size=None)
    protocol.receive_data(stream)
    pieces: list[bytes] = []
    kind = None
    for frame in protocol.events_received():
        opcode = frame.opcode
        if opcode is ws_frames.Opcode.PING:
            outcome.events.append(("ping", frame.data))
        elif opcode is ws_frames.Opcode.PONG:
            outcome.events.append(("pong", frame.data))
        elif opcode is ws_frames.Opcode.CLOSE:
            close = ws_frames.Close.parse(frame.data)     # 1005 for "no status code"
            outcome.events.append(("close", close.code, close.reason))
            break
        else:
            if opcode is not ws_frames.Opcode.CONT:
                kind = opcode
            pieces.append(frame.data)
            if frame.fin:
                payload = b"".join(pieces)
                pieces = []
                if kind is not ws_frames.Opcode.TEXT:
                    outcome.events.append(("binary", payload))
                    continue
                # websockets' sans-I/O Protocol does not look at UTF-8; its I/O
                # layer decodes a whole text message when the application
                # receives it (asyncio.messages.Assembler.get) and fails with
                # 1007. Do the same here.
                try:
                    outcome.events.append(("text", payload.decode()))
                except UnicodeDecodeError as exc:
                    outcome.code, outcome.detail = 1007, f"UnicodeDecodeError: {exc.reason}"
                    return outcome
    if protocol.parser_exc is not None and protocol.close_sent is not None:
        outcome.code = protocol.close_sent.code
        outcome.detail = f"{type(protocol.parser_exc).__name__}: {protocol.parser_exc}"
    return outcome


# -- the known, deliberate divergences (docs/divergences.md) -------------------------

def explain(peer: str, stream: bytes, ours: Outcome, error: ProtocolError | None,
            theirs: Outcome) -> str | None:
    """Name the divergence (a key of DIVERGENCES) that explains a disagreement,
    or None if it is unexplained.

    A divergence in how a rule is checked explains everything the peer does
    *after* the point where wsframe failed, provided both agree exactly on
    the stream up to that point and the peer delivered the same events first.
    """
    violation = error.violation if error is not None else None
    if error is not None:
        if not (same_prefix(peer, stream[:error.offset])
                and theirs.events[:len(ours.events)] == ours.events):
            return None
        declared = declared_length(stream, error.offset)
        if peer == "websockets":
            if violation is Violation.NON_MINIMAL_LENGTH or (
                    violation is Violation.CONTROL_FRAME_TOO_LONG and declared is not None
                    and declared <= 125):
                return "websockets-non-minimal-length"
            if violation is Violation.TEXT_NOT_UTF8:
                return "websockets-utf8-at-message-end"
            if theirs.code is None and frame_is_incomplete(stream, error.offset):
                return "websockets-checks-after-payload"
            if violation is Violation.CLOSE_CODE_NOT_ALLOWED and theirs.code == 1007:
                return "websockets-close-reason-checked-first"
        if peer == "wsproto" and theirs.code is None and \
                frame_is_incomplete(stream, error.offset):
            return "wsproto-checks-after-header"
        if peer == "wsproto" and theirs.code == 1002 and close_code_at(stream, error.offset) \
                == 1014:
            return "wsproto-rejects-1014"
        if peer == "wsproto" and violation is Violation.TEXT_NOT_UTF8 and \
                cpython_decoder_still_waits(stream, error.offset):
            return "wsproto-utf8-pending-prefix"
        return None
    if peer == "websockets" and theirs.code == 1002 and close_interrupts_message(ours, theirs):
        return "websockets-close-inside-message"
    if peer == "wsproto" and theirs.code == 1002 and closes_with(ours, 1014):
        return "wsproto-rejects-1014"
    return None


def same_prefix(peer: str, prefix: bytes) -> bool:
    """Do wsframe and ``peer`` agree exactly on the stream up to wsframe's error?"""
    ours, _error = run_wsframe(prefix)
    theirs = run_websockets(prefix) if peer == "websockets" else run_wsproto(prefix)
    return ours.key() == theirs.key()


def frame_extent(stream: bytes, offset: int) -> tuple[int, int] | None:
    """``(header_size, payload_length)`` of the frame at ``offset``, read from the
    raw bytes (the masking key counts in the header size even if it has not
    arrived); None if the stream ends before the length field does."""
    raw = stream[offset:]
    if len(raw) < 2:
        return None
    length = raw[1] & 0x7F
    extra = {126: 2, 127: 8}.get(length, 0)
    if len(raw) < 2 + extra:
        return None
    if extra:
        length = int.from_bytes(raw[2:2 + extra], "big")
    return 2 + extra + (4 if raw[1] & 0x80 else 0), length


def declared_length(stream: bytes, offset: int) -> int | None:
    """The payload length the header at ``offset`` declares (None if cut short)."""
    extent = frame_extent(stream, offset)
    return None if extent is None else extent[1]


def close_code_at(stream: bytes, offset: int) -> int | None:
    """The status code of a complete, masked, 7-bit-length Close frame at ``offset``."""
    raw = stream[offset:]
    if len(raw) < 8 or raw[0] & 0x0F != 0x8 or raw[1] & 0x7F > 125 or not raw[1] & 0x80:
        return None
    key = raw[2:6]
    return ((raw[6] ^ key[0]) << 8) | (raw[7] ^ key[1])


def cpython_decoder_still_waits(stream: bytes, offset: int) -> bool:
    """Would CPython's incremental UTF-8 decoder (wsproto's validator) accept the
    text message's bytes up to the end of the frame at ``offset``, waiting for
    more, although they cannot be valid? (e.g. a fragment ending in ED A0)."""
    import codecs

    message = bytearray()
    position = 0
    while position <= offset and position < len(stream):
        raw = stream[position:]
        extent = frame_extent(stream, position)
        if extent is None:
            return False
        header, length = extent
        payload = raw[header:header + length]
        if raw[1] & 0x80:
            key = raw[header - 4:header]
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        opcode = raw[0] & 0x0F
        if opcode == 0x1:
            message = bytearray(payload)
        elif opcode == 0x0:
            message += payload
        position += header + length
    try:
        codecs.getincrementaldecoder("utf-8")().decode(bytes(message), False)
    except UnicodeDecodeError:
        return False
    try:
        bytes(message).decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason != "unexpected end of data"     # impossible, yet pending
    return False


def frame_is_incomplete(stream: bytes, offset: int) -> bool:
    """Does the stream end before the frame at ``offset`` is complete?"""
    extent = frame_extent(stream, offset)
    return extent is None or len(stream) - offset < extent[0] + extent[1]


def close_interrupts_message(ours: Outcome, theirs: Outcome) -> bool:
    """wsframe closed cleanly while a fragmented message was open, and the peer
    delivered the same events before it."""
    return bool(ours.events) and ours.events[-1][0] == "close" and \
        theirs.events == ours.events[:-1]


def closes_with(ours: Outcome, code: int) -> bool:
    return bool(ours.events) and ours.events[-1][:2] == ("close", code)


#: Every deliberate divergence, with the RFC text that decides it.
DIVERGENCES = {
    "websockets-non-minimal-length": "websockets accepts payload lengths that are not in "
        "their minimal encoding; RFC 6455 5.2: 'the minimal number of bytes MUST be used to "
        "encode the length'. wsframe fails with 1002 (strict=False accepts them).",
    "websockets-checks-after-payload": "websockets checks a frame (reserved bits, UTF-8) only "
        "once its whole payload has arrived, so a stream that ends inside a bad frame is not "
        "failed yet; wsframe fails at the byte that proves the violation.",
    "websockets-close-inside-message": "websockets fails with 1002 when a Close frame arrives "
        "between the fragments of a message; RFC 6455 5.4 allows control frames between "
        "fragments and 5.5.1 makes the Close end the connection (Autobahn 7.1.5 expects a "
        "clean close). wsframe closes cleanly.",
    "websockets-utf8-at-message-end": "websockets validates UTF-8 only when a whole text "
        "message is handed to the application, so control frames after the bad bytes are "
        "still delivered and a stream that stops before the message ends is not failed; "
        "RFC 6455 8.1 fails the connection when the bytes are not UTF-8, and Autobahn 6.4.x "
        "expect that as soon as they cannot be. wsframe fails at the first impossible byte.",
    "websockets-close-reason-checked-first": "For a Close frame with both a code that may "
        "not be sent and a reason that is not UTF-8, websockets reports the reason (1007), "
        "wsframe and wsproto the code (1002). RFC 6455 does not rank the two; wsframe checks "
        "the code first because it comes first on the wire.",
    "wsproto-checks-after-header": "wsproto checks the fragmentation rules and the opcode "
        "only once a frame's header is complete, so a stream that ends inside the bad "
        "frame's header is not failed yet; wsframe fails at the first byte that proves it.",
    "wsproto-utf8-pending-prefix": "wsproto validates text with CPython's incremental "
        "decoder, which keeps an impossible prefix such as ED A0 (the start of a UTF-16 "
        "surrogate) pending until the next bytes; wsframe fails at that byte (RFC 6455 8.1, "
        "Autobahn fail-fast), so wsproto reports whatever comes next instead.",
    "wsproto-rejects-1014": "wsproto fails with 1002 on close code 1014; 1014 (Bad Gateway) "
        "is assigned in the IANA registry that RFC 6455 7.4.2 delegates 1000-2999 to, so "
        "wsframe accepts it.",
}


# -- stream generation ----------------------------------------------------------------

def _frame(rng: Any, opcode: int, payload: bytes, fin: bool = True, rsv: int = 0,
           length_form: str | None = None) -> bytes:
    """A masked frame written by hand (so it can be wrong on purpose)."""
    key = rng.randbytes(4)
    n = len(payload)
    form = length_form or ("7" if n < 126 else "16" if n < 65536 else "64")
    head = bytes(((0x80 if fin else 0) | rsv << 4 | opcode,))
    if form == "7":
        head += bytes((0x80 | n,))
    elif form == "16":
        head += bytes((0x80 | 126,)) + n.to_bytes(2, "big")
    else:
        head += bytes((0x80 | 127,)) + n.to_bytes(8, "big")
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


TEXTS = ["", "hello", "κόσμε", "😀 emoji", "a" * 130, "mixed ✓ 中文"]
BAD_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xe2\x82"]
CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
               3000, 4999, 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 5000]


def random_stream(seed: int) -> bytes:
    """A stream of mostly valid frames with occasional deliberate faults,
    sometimes mutated or truncated afterwards."""
    import random

    rng = random.Random(seed)
    out = []
    in_message = False
    for _ in range(rng.randint(1, 7)):
        roll = rng.random()
        if roll < 0.15:
            out.append(_frame(rng, rng.choice([0x9, 0xA]), rng.randbytes(rng.randint(0, 20))))
        elif roll < 0.22:
            code = rng.choice(CLOSE_CODES)
            reason = rng.choice([b"", b"bye", "κόσμε".encode(), b"\xff"])
            out.append(_frame(rng, 0x8, code.to_bytes(2, "big") + reason
                              if rng.random() < 0.9 else b""))
        else:
            opcode = 0x0 if in_message else rng.choice([0x1, 0x2])
            if opcode == 0x2 or (opcode == 0x0 and rng.random() < 0.5):
                payload = rng.randbytes(rng.choice([0, 3, 50, 200]))
            else:
                payload = rng.choice(TEXTS).encode()
                if rng.random() < 0.1:
                    payload += rng.choice(BAD_UTF8)
            fin = rng.random() < 0.6
            in_message = not fin
            cut = rng.randint(0, len(payload)) if rng.random() < 0.3 and payload else None
            if cut is not None and opcode == 0x1:      # split a text message anywhere
                out.append(_frame(rng, opcode, payload[:cut], fin=False))
                opcode, payload = 0x0, payload[cut:]
            fault = rng.random()
            if fault < 0.05:
                out.append(_frame(rng, opcode, payload, fin, rsv=rng.randint(1, 7)))
            elif fault < 0.10:
                out.append(_frame(rng, opcode, payload, fin, length_form=rng.choice(["16",
                                                                                   "64"])))
            elif fault < 0.13:
                out.append(_frame(rng, rng.choice([3, 4, 5, 11, 15]), payload, fin))
            else:
                out.append(_frame(rng, opcode, payload, fin))
    stream = bytearray(b"".join(out))
    if rng.random() < 0.3 and stream:                  # mutate a few bytes
        for _ in range(rng.randint(1, 3)):
            stream[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
    if rng.random() < 0.15 and stream:                 # end the stream early
        del stream[rng.randrange(len(stream)):]
    return bytes(stream)
