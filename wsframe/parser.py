"""FrameParser: the RFC 6455 section 5.2 state machine.

Strategy
--------
Bytes arrive in arbitrary pieces. The parser keeps as little as it can:

* state HEADER: the bytes of an incomplete header (never more than 14) wait
  in ``_head``. Every time more bytes arrive the header is decoded again from
  its first byte, checking each field as soon as it is present, so a bad
  header fails at the byte that proves it, before any payload is read.
* state PAYLOAD: the header is decoded; payload bytes are appended to one
  bytearray (amortised O(1) per byte, about 1x memory however the stream is
  split: a list of pieces would cost ~40 bytes per 1-byte piece, a memory
  amplification a hostile peer could use). In "parts" mode, used by the
  message layer, pieces are unmasked and handed up as they arrive instead.
* state CLOSED: only in the message layer's mode: a Close frame has been
  parsed and everything after it is ignored (RFC 6455 section 5.5.1).

Each call to `feed` parses everything it can *at once* and returns an iterator
over the result, so the parser is consistent whether or not the caller drains
the iterator. Rules are checked through two tables built from the rules in
`wsframe.header.first_byte_problem` (one entry per possible byte
value), so the fast path and the general path share one definition of what a
valid header byte is.

The fast path: most frames are small and arrive whole. For those the loop in
`_consume` decodes the two header bytes, unmasks and builds the Frame inline,
with no call into `_decode_header`. Anything else (extended lengths, partial
frames, violations) goes through `_decode_header` and the PAYLOAD state. Tests
compare both paths on the same streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from struct import Struct
from typing import Any, TypeVar, cast

from .checks import check_bytes, check_count, check_role
from .errors import ProtocolError, Violation
from .frames import Frame, parse_close_payload
from .header import first_byte_problem, first_byte_table
from .masking import apply_mask
from .opcodes import Opcode
from .roles import Role

__all__ = ["FrameParser", "DEFAULT_MAX_FRAME_SIZE"]

#: Default limit on one frame's payload: 1 MiB (like websockets' max_size).
DEFAULT_MAX_FRAME_SIZE = 2**20

_U64 = Struct("!Q")

# Frame kinds, as far as fragmentation (section 5.4) and control-frame rules
# (section 5.5) care.
_START = 0          # TEXT or BINARY: starts a message
_CONTINUATION = 1   # continues a fragmented message
_CONTROL = 2        # PING or PONG
_CLOSE = 3          # CLOSE: a control frame whose payload is checked too

# Parser states.
_HEADER = 0
_PAYLOAD = 1
_CLOSED = 2

_NO_FRAME = Frame(Opcode.CONTINUATION)
_NOTHING: Iterator[Frame] = iter(())    # an exhausted iterator: safe to share


class _Part:
    """Part of a data frame's payload, handed up before the frame is complete.

    Only the message layer asks for parts (fail-fast UTF-8, streaming, bounded
    memory). ``frame`` carries the header (its payload is empty), ``length``
    the frame's whole payload length, ``first`` is True for the part that
    comes right after the header, and ``payload`` is already unmasked. The
    frame's last bytes arrive as a normal `Frame` whose payload is the tail.
    """

    __slots__ = ("frame", "payload", "length", "first")

    def __init__(self, frame: Frame, payload: bytes, length: int, first: bool) -> None:
        self.frame = frame
        self.payload = payload
        self.length = length
        self.first = first


_Item = Frame | _Part


_T = TypeVar("_T")


def _then_raise(items: list[_T], error: ProtocolError) -> Iterator[_T]:
    """Yield what was delivered before a violation, then raise it (both layers)."""
    yield from items
    raise error


def _as_bytes(data: object) -> bytes:
    return check_bytes("data", data)


class FrameParser:
    """Incremental, sans-I/O parser of RFC 6455 frames.

    Feed it bytes as they arrive, split anywhere; it yields each complete
    `Frame` (payload unmasked) in wire order, or raises `ProtocolError`
    carrying the close code to send.

    Args:
        role: `Role.SERVER` (every received frame must be masked) or
            `Role.CLIENT` (no received frame may be masked), section 5.1.
        max_frame_size: the largest payload accepted, in bytes; a larger
            declared length is rejected with 1009 as soon as the header is
            complete, before any of the payload is buffered. None: no limit.
        strict: if False, accept payload lengths that are not in their
            minimal encoding (e.g. the 16-bit form for 5 bytes). RFC 6455
            section 5.2 says "MUST" be minimal, so the default is True.
    """

    def __init__(self, role: Role, *, max_frame_size: int | None = DEFAULT_MAX_FRAME_SIZE,
                 strict: bool = True, extension_rsv: int = 0) -> None:
        check_role(role)
        check_count("max_frame_size", max_frame_size)
        if extension_rsv & ~0x70:
            raise ValueError("extension_rsv may only contain the bits 0x40, 0x20, 0x10")
        self.role = role
        self.max_frame_size = max_frame_size
        self.strict = strict
        self._extension_rsv = extension_rsv
        self._first = first_byte_table(extension_rsv)
        # Section 5.1: a server receives masked frames, a client unmasked ones.
        self._mask_bit = 0x80 if role is Role.SERVER else 0
        self._error: ProtocolError | None = None
        self._state = _HEADER
        self._head = b""            # HEADER: bytes of an incomplete header
        self._received = 0          # stream offset after the data _consume last saw
        self._in_message = False    # a fragmented message is in progress (5.4)
        # PAYLOAD: the frame being received.
        self._frame = _NO_FRAME     # header fields of the frame being received
        self._kind = _START
        self._length = 0
        self._key: bytes | None = None
        self._need = 0               # PAYLOAD: payload bytes still to come (else 0)
        self._payload_start = 0      # PAYLOAD: stream offset of the payload
        self._payload = bytearray()  # PAYLOAD: masked bytes so far
        # Message-layer switches (see _Part and MessageReader).
        self._parts = False
        self._stop_at_close = False
        # Message-layer fast path: builds the event for a whole, unfragmented,
        # RSV-free data frame straight from the fast path below, instead of a
        # Frame that the message layer would turn into an event at once.
        self._whole_message: Callable[[Opcode, bytes, int], Any] | None = None

    # -- public API -----------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[Frame]:
        """Add received bytes; return an iterator over the frames now complete.

        All of ``data`` is consumed at once. The iterator yields every
        complete frame in wire order; if the stream breaks a rule it yields
        the frames before the violation, then raises `ProtocolError`. After a
        violation the parser is terminal: every later call raises that error.
        """
        need = self._need
        if data.__class__ is bytes and need > len(data):
            # Fast path: the piece lies inside a frame's payload (a large frame
            # arriving in many small reads). Keep it; no frame can complete.
            # Only in the PAYLOAD state is _need non-zero.
            self._payload += data
            self._need = need - len(data)
            return _NOTHING
        if self._error is not None:
            raise self._error
        items: list[_Item] = []
        try:
            self._consume(_as_bytes(data), items)
        except ProtocolError as exc:
            self._error = exc
            self._need = 0
            return cast(Iterator[Frame], _then_raise(items, exc))
        return cast(Iterator[Frame], iter(items))

    def feed_all(self, chunks: Iterable[bytes]) -> list[Frame]:
        """Feed several chunks and return all frames (raises at a violation)."""
        frames: list[Frame] = []
        for chunk in chunks:
            frames.extend(self.feed(chunk))
        return frames

    @property
    def error(self) -> ProtocolError | None:
        """The violation that made this parser terminal, or None."""
        return self._error

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        if self._state == _PAYLOAD and not self._parts:
            return len(self._payload)
        return len(self._head)

    @property
    def at_frame_boundary(self) -> bool:
        """True when no partial frame is pending (the stream may end here)."""
        return self._state != _PAYLOAD and not self._head

    # -- the state machine ----------------------------------------------------

    def _consume(self, data: bytes, out: list[_Item]) -> None:
        """Parse ``data`` (all of it), appending Frames (and _Parts) to ``out``."""
        state = self._state
        if state == _PAYLOAD:               # stream offset of data[0]
            base = self._payload_start + self._length - self._need
        else:
            base = self._received
        self._received = base + len(data)
        if state == _CLOSED:
            return
        pos = 0
        if state == _PAYLOAD:
            pos = self._continue_payload(data, out)
            if pos < 0 or self._state == _CLOSED:
                return
        elif self._head:
            base -= len(self._head)
            data = self._head + data
            self._head = b""

        end = len(data)
        first = self._first
        mask_bit = self._mask_bit
        header_size = 6 if mask_bit else 2
        # The fast path takes 7-bit lengths (< 126) within max_frame_size.
        limit = self.max_frame_size
        small = 126 if limit is None or limit >= 125 else limit + 1
        in_message = self._in_message
        append = out.append
        from_bytes = int.from_bytes
        whole_message = self._whole_message

        while pos < end:
            # Fast path: a valid first byte, a 7-bit length within the limit,
            # the MASK bit as this role expects (XOR leaves the length alone then, and
            # pushes it to >= 128 otherwise), and the whole frame present.
            info = first[data[pos]]
            if info is not None and end - pos > 1:
                opcode, fin, rsv1, rsv2, rsv3, kind = info
                length = data[pos + 1] ^ mask_bit
                stop = pos + header_size + length
                # Section 5.4: a continuation needs a message in progress, a
                # TEXT/BINARY needs none; the general path reports a mismatch.
                if length < small and stop <= end and (
                        kind >= _CONTROL or (kind == _CONTINUATION) is in_message):
                    if kind < _CONTROL:
                        in_message = not fin
                    if mask_bit:
                        # Integer XOR unmasking, inlined (see masking.py).
                        key = data[pos + 2:pos + 6]
                        payload = (from_bytes(data[pos + 6:stop], "little") ^ from_bytes(
                            (key * ((length >> 2) + 1))[:length], "little")
                        ).to_bytes(length, "little")
                    else:
                        payload = data[pos + 2:stop]
                    if whole_message is not None and kind == _START and fin and not rsv1:
                        append(whole_message(opcode, payload, base + pos))
                        pos = stop
                        continue
                    frame = Frame(opcode, payload, fin, rsv1, rsv2, rsv3, base + pos)
                    if kind == _CLOSE:
                        self._in_message = in_message
                        if self._close_frame(frame, out):
                            return
                    else:
                        append(frame)
                    pos = stop
                    continue
            # General path.
            self._in_message = in_message
            pos = self._header_then_payload(data, pos, end, base, out)
            if pos < 0:
                return
            in_message = self._in_message
        self._in_message = in_message

    def _header_then_payload(self, data: bytes, pos: int, end: int, base: int,
                             out: list[_Item]) -> int:
        """Decode the header at ``pos``; return where the next frame starts.

        Returns -1 when ``data`` ends inside this frame: its header bytes are
        kept in ``_head`` (state HEADER) or its payload so far in the PAYLOAD
        state. Raises ProtocolError on a violation.
        """
        header = self._decode_header(data, pos, end, base + pos)
        if header is None:
            self._head = data[pos:]
            return -1
        frame, kind, length, key, header_size = header
        if kind < _CONTROL:
            self._in_message = not frame.fin
        start = pos + header_size
        stop = start + length
        if stop <= end:
            frame.payload = apply_mask(data, key, start, stop) if key is not None \
                else data[start:stop]
            if kind != _CLOSE:
                out.append(frame)
            elif self._close_frame(frame, out):
                return -1
            return stop
        # The frame continues in later data: enter the PAYLOAD state.
        self._state = _PAYLOAD
        self._frame = frame
        self._kind = kind
        self._length = length
        self._key = key
        self._need = length
        self._payload_start = base + start
        self._take_payload(data[start:end], out, first=True)
        return -1

    def _decode_header(self, data: bytes, pos: int, end: int,
                       offset: int) -> tuple[Frame, int, int, bytes | None, int] | None:
        """Decode one frame header from ``data[pos:end]`` (RFC 6455 section 5.2).

        Each field is checked as soon as its bytes are present. Returns None if
        the header is incomplete (and nothing present is wrong), else
        ``(frame, kind, payload_length, masking_key, header_size)``.
        """
        avail = end - pos
        # Byte 0: FIN, RSV1-3, opcode.
        info = self._first[data[pos]]
        if info is None:
            problem = first_byte_problem(data[pos], self._extension_rsv)
            assert problem is not None
            raise ProtocolError(problem[0], problem[1], offset)
        kind = info.kind
        if kind == _START and self._in_message:
            raise ProtocolError(Violation.EXPECTED_CONTINUATION,
                                f"{info.opcode.name} frame inside a fragmented message",
                                offset)
        if kind == _CONTINUATION and not self._in_message:
            raise ProtocolError(Violation.UNEXPECTED_CONTINUATION,
                                "continuation frame with no message in progress", offset)
        if avail < 2:
            return None
        # Byte 1: MASK, payload length (7 bits).
        b1 = data[pos + 1]
        masked = b1 & 0x80
        if masked != self._mask_bit:
            if masked:
                raise ProtocolError(Violation.MASKED_SERVER_FRAME,
                                    "masked frame from the server", offset)
            raise ProtocolError(Violation.UNMASKED_CLIENT_FRAME,
                                "unmasked frame from the client", offset)
        length = b1 & 0x7F
        control = kind >= _CONTROL
        if control and length > 125 and self.strict:
            # A control payload fits the 7-bit field; an extended length is
            # either too long (5.5) or not minimal (5.2): wrong either way.
            raise ProtocolError(Violation.CONTROL_FRAME_TOO_LONG,
                                f"{info.opcode.name} frame with an extended length",
                                offset)
        header_size = 2
        if length == 126:                   # 16-bit extended length
            if avail < 4:
                return None
            length = (data[pos + 2] << 8) | data[pos + 3]
            header_size = 4
            if length < 126 and self.strict:
                raise ProtocolError(Violation.NON_MINIMAL_LENGTH,
                                    f"length {length} sent in the 16-bit form", offset)
        elif length == 127:                 # 64-bit extended length
            if avail > 2 and data[pos + 2] & 0x80:
                raise ProtocolError(Violation.LENGTH_HIGH_BIT,
                                    "64-bit payload length with the high bit set", offset)
            if avail < 10:
                return None
            length = _U64.unpack_from(data, pos + 2)[0]
            header_size = 10
            if length < 65536 and self.strict:
                raise ProtocolError(Violation.NON_MINIMAL_LENGTH,
                                    f"length {length} sent in the 64-bit form", offset)
        if control and length > 125:
            raise ProtocolError(Violation.CONTROL_FRAME_TOO_LONG,
                                f"{info.opcode.name} payload of {length} bytes", offset)
        limit = self.max_frame_size
        if limit is not None and length > limit:
            raise ProtocolError(Violation.FRAME_TOO_BIG,
                                f"frame payload of {length} bytes exceeds the limit of "
                                f"{limit}", offset)
        key = None
        if masked:                          # 4-byte masking key (5.3)
            if avail < header_size + 4:
                return None
            key = data[pos + header_size:pos + header_size + 4]
            header_size += 4
        frame = Frame(info.opcode, b"", info.fin, info.rsv1, info.rsv2, info.rsv3, offset)
        return frame, kind, length, key, header_size

    def _continue_payload(self, data: bytes, out: list[_Item]) -> int:
        """PAYLOAD state: take payload bytes from ``data``.

        Returns the position in ``data`` after the frame once it is complete,
        or -1 if all of ``data`` was payload and more is still to come.
        """
        need = self._need
        if len(data) < need:
            self._take_payload(data, out, first=False)
            return -1
        self._finish_payload(data[:need] if need < len(data) else data, out)
        return need

    def _take_payload(self, piece: bytes, out: list[_Item], first: bool) -> None:
        """Keep (or, in parts mode, hand up) payload bytes of an incomplete frame."""
        if self._parts and self._kind < _CONTROL:
            if piece or first:
                out.append(_Part(self._frame, self._unmask_piece(piece), self._length,
                                 first))
        else:
            self._payload += piece
        self._need -= len(piece)

    def _unmask_piece(self, piece: bytes) -> bytes:
        """Unmask a piece that starts ``_length - _need`` bytes into the payload."""
        key = self._key
        if key is None or not piece:
            return piece
        phase = (self._length - self._need) & 3
        return apply_mask(piece, key[phase:] + key[:phase])

    def _finish_payload(self, last: bytes, out: list[_Item]) -> None:
        """The current frame's last payload bytes arrived: emit the frame."""
        frame = self._frame
        if self._parts and self._kind < _CONTROL:
            frame.payload = self._unmask_piece(last)
        else:
            buffered = self._payload
            buffered += last
            self._payload = bytearray()
            key = self._key
            frame.payload = apply_mask(buffered, key) if key is not None else bytes(buffered)
        self._need = 0
        self._state = _HEADER
        self._frame = _NO_FRAME     # do not keep the payload alive
        if self._kind != _CLOSE:
            out.append(frame)
        else:
            self._close_frame(frame, out)

    def _close_frame(self, frame: Frame, out: list[_Item]) -> bool:
        """Validate a Close frame's payload (5.5.1), then emit it.

        Returns True if parsing stops here (message layer: nothing after a
        Close frame is read).
        """
        parse_close_payload(frame.payload, frame.offset)
        out.append(frame)
        if self._stop_at_close:
            self._state = _CLOSED
            return True
        return False
