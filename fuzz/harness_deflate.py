"""permessage-deflate streams (RFC 7692) through `MessageReader`: the oracle
of fuzz/fuzz_deflate.py.

Input: a control byte, cut points, then a payload:

    control bit 0     role: 1 = SERVER (reads a client's masked frames), 0 = CLIENT
    control bits 1-2  max_message_size: 0, 64, 4096 or 65536
    control bit 3     streaming
    control bits 4-5  parameters: the defaults, no context takeover, 9-bit
                      windows, an 8-bit window for the peer
    control bit 6     what the payload is: 0 = the peer's bytes as received;
                      1 = messages (cut at the cut points) that a peer's
                      `MessageWriter` compresses, read back
    control bit 7     (round trip) send each message in two pieces
                      (``final=False``, then True), in frames of 7 bytes

Checks:

* only `ProtocolError` leaves `MessageReader.feed`, with a close code of
  1002, 1007 or 1009 and an offset inside the stream;
* split independence, the codec's contract: the bytes fed whole and cut at
  the fuzzer's points give the same events (streamed chunks compared by
  content) and the same error code, offset and reason;
* streaming (``stream=True``) changes how messages arrive, not which: the
  other mode gives the same complete messages and the same error code and
  offset;
* memory: no message over the limit, and a run's peak within a budget
  proportional to the limit, the window and the input (decompression bombs);
* round trip: what a peer's writer compressed (every third message
  uncompressed, optionally in pieces and fragments) reads back as the same
  messages, whole, split at frames and split at the fuzzer's points.
"""

from __future__ import annotations

from typing import Any

from contract import Input, KiB, check_memory, merge_chunks, only, peak_memory, pieces

from wsframe import (
    BinaryChunk,
    BinaryMessage,
    MessageReader,
    MessageWriter,
    ProtocolError,
    Role,
    TextChunk,
    TextMessage,
)
from wsframe.extensions.permessage_deflate import DeflateParams, PerMessageDeflate

LIMITS = (0, 64, 4096, 65536)
PARAMS = (DeflateParams(),
          DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
          DeflateParams(server_max_window_bits=9, client_max_window_bits=9))
Outcome = tuple[list[Any], tuple[int, int, str] | None]


def _other(role: Role) -> Role:
    return Role.CLIENT if role is Role.SERVER else Role.SERVER


def _params(choice: int, role: Role) -> DeflateParams:
    if choice < 3:
        return PARAMS[choice]
    # The peer compresses with an 8-bit window (this side inflates it fine;
    # wsframe itself never compresses with 8 bits): only for raw streams.
    return DeflateParams(server_max_window_bits=8) if role is Role.CLIENT else \
        DeflateParams(client_max_window_bits=8)


def _read(role: Role, params: DeflateParams, limit: int | None, streaming: bool,
          data: list[bytes]) -> Outcome:
    reader = MessageReader(role, max_message_size=limit, stream=streaming,
                           extensions=[PerMessageDeflate(role, params)])
    events: list[Any] = []
    for piece in data:
        try:
            with only((ProtocolError,), "MessageReader.feed with permessage-deflate"):
                events.extend(reader.feed(piece))
        except ProtocolError as exc:
            assert exc.code in (1002, 1007, 1009), exc
            assert len(exc.reason.encode()) <= 123, exc
            return merge_chunks(events), (exc.code, exc.offset, exc.reason)
    return merge_chunks(events), None


def _size(event: Any) -> int:
    if isinstance(event, (TextMessage, TextChunk)):
        return len(event.text.encode())
    if isinstance(event, (BinaryMessage, BinaryChunk)):
        return len(event.data)
    return 0


def check(data: bytes) -> None:
    """Raise AssertionError (or the escaped exception) if ``data`` breaks a property."""
    source = Input(data)
    control = source.byte()
    role = Role.SERVER if control & 1 else Role.CLIENT
    limit = LIMITS[(control >> 1) & 3]
    streaming = bool(control & 8)
    choice = (control >> 4) & 3
    cuts = source.cuts()
    payload = source.rest()
    if control & 0x40:
        _round_trip(role, PARAMS[choice % 3], streaming, bool(control & 0x80), payload, cuts)
        return
    params = _params(choice, role)
    whole, peak = peak_memory(lambda: _read(role, params, limit, streaming, [payload]))
    # The window (up to 32 KiB), zlib's state, the limit, a few copies of the input.
    check_memory(peak, 4 * limit + 64 * len(payload) + 512 * KiB, "permessage-deflate")
    for event in whole[0]:
        assert _size(event) <= limit, f"{_size(event)} bytes over the limit {limit}"
    split = _read(role, params, limit, streaming, pieces(payload, cuts))
    assert whole == split, f"split invariance: {whole!r} != {split!r}"
    if whole[1] is not None:
        assert 0 <= whole[1][1] < len(payload), f"offset {whole[1][1]} outside the stream"
    # Streaming changes how messages are delivered, not which: the other mode
    # gives the same complete messages and the same error (code and offset).
    other = _read(role, params, limit, not streaming, [payload])
    chunked, messages = (whole, other) if streaming else (other, whole)
    assert _whole(chunked[0], finished_only=True) == messages[0], \
        f"streaming changes the messages: {chunked[0]!r} != {messages[0]!r}"
    assert (chunked[1] or (0, 0))[:2] == (messages[1] or (0, 0))[:2], \
        f"streaming changes the error: {chunked[1]!r} != {messages[1]!r}"


def _round_trip(role: Role, params: DeflateParams, streaming: bool, fragmented: bool,
                payload: bytes, cuts: list[int]) -> None:
    """Messages a peer's writer compressed read back unchanged."""
    writer = MessageWriter(_other(role), extensions=[PerMessageDeflate(_other(role), params)],
                           mask_source=lambda n: b"\x37\xfa\x21\x3d"[:n])
    fragment = 7 if fragmented else None
    wire: list[bytes] = []
    expected: list[Any] = []
    for number, message in enumerate(pieces(payload, cuts)):
        try:
            text = message.decode()
        except UnicodeDecodeError:
            text = None
        compress = number % 3 != 2          # every third message uncompressed (RSV1 clear)
        # Fragmented: each message also sent in two pieces (final=False, then True).
        if text is not None and number % 2:
            halves_text = [text[:len(text) // 2], text[len(text) // 2:]] if fragmented \
                else [text]
            for last, part in enumerate(halves_text, 1 - len(halves_text)):
                wire.append(writer.text(part, fragment_size=fragment, compress=compress,
                                        final=last == 0))
            expected.append(TextMessage(text))
        else:
            halves = [message[:len(message) // 2], message[len(message) // 2:]] \
                if fragmented else [message]
            for last, data in enumerate(halves, 1 - len(halves)):
                wire.append(writer.binary(data, fragment_size=fragment, compress=compress,
                                          final=last == 0))
            expected.append(BinaryMessage(message))
    stream = b"".join(wire)
    at_frames = pieces(stream, _offsets([len(part) for part in wire]))
    for split in ([stream], at_frames, pieces(stream, cuts)):
        events, error = _read(role, params, None, streaming, split)
        assert error is None, f"a peer's compressed messages refused: {error}"
        assert _whole(events) == expected, f"round trip: {events!r} != {expected!r}"


def _offsets(lengths: list[int]) -> list[int]:
    out, at = [], 0
    for length in lengths:
        at += length
        out.append(at)
    return out


def _whole(events: list[Any], *, finished_only: bool = False) -> list[Any]:
    """Merged streaming chunks as the messages they make up (``finished_only``:
    leave out a message whose last chunk has not come; else it is an error)."""
    out: list[Any] = []
    for event in events:
        if isinstance(event, (TextChunk, BinaryChunk)) and not event.final:
            assert finished_only, f"an unfinished message: {event!r}"
        elif isinstance(event, TextChunk):
            out.append(TextMessage(event.text))
        elif isinstance(event, BinaryChunk):
            out.append(BinaryMessage(event.data))
        else:
            out.append(event)
    return out
