"""The receive path: one RFC 6455 section 5.2 state machine, handing frames up.

Strategy
--------
`FrameDecoder` owns everything about the wire: header fields (5.2), masking
(5.1, 5.3), fragmentation order (5.4), control-frame rules (5.5) and the
Close payload (5.5.1). It knows nothing about what a frame is *for*: it
hands each frame up through four methods that a subclass defines, and that
is the whole joint between the frame layer and whatever stands on it:

* ``_frame(first, payload, offset, out)``: a complete data, Ping or Pong
  frame, payload unmasked. Most frames arrive this way.
* ``_close(code, reason, payload, offset, out)``: a complete, valid Close frame.
* ``_start(header, out) -> bool``: a data frame whose payload goes on past the
  bytes at hand. The subclass chooses how to receive it: False, whole (the
  decoder gathers the payload in a `masking.PayloadBuffer` and calls
  ``_frame`` when the frame is complete: the C helper unmasks each read as
  it arrives straight into the bytes handed up, one pass over each byte;
  pure Python keeps the masked reads and unmasks them once at the end);
  True, in pieces (each piece handed to ``_piece`` as it arrives).
* ``_piece(data, key, left, out)``: the next piece of such a frame as it
  arrived, with ``key``, the masking key lined up with its first byte (None
  when the bytes are plain already); ``left`` payload bytes of the frame
  follow (0 on the piece that completes it). The subclass reads the piece
  through the decoder's ``_unmasked(data, key)``, which gives its bytes;
  or, a piece of a text message, hands it on masked with its key to the
  message's `TextBuffer` (text.py), which unmasks it onto its own buffer in
  the same pass as its UTF-8 check (through masking.py's functions or the C
  helper's: masking stays in masking.py). Nothing else receives a key.

Whatever the subclass appends to ``out`` is what `feed` returns.
`FrameParser` appends `Frame` objects and always takes frames whole;
`MessageReader` appends message events and takes text and compressed
frames in pieces (fail-fast UTF-8, limits while inflating) and binary frames
whole (nothing above the decoder needs their bytes before the frame ends). A third mode is chosen at
construction: ``stop_at_close`` (the message layer stops reading after a
Close frame, RFC 6455 5.5.1).

States: HEADER (an incomplete header, at most 14 bytes, waits in ``_head``
and is decoded again from its first byte as bytes arrive, so a bad header
fails at the byte that proves it), PAYLOAD (``_need`` payload bytes still to
come), CLOSED (stop_at_close only: everything is ignored).

Fast paths, each giving the same results as the general path (tests compare
them): in `_consume`, a small frame that is already whole in the buffer is
decoded and unmasked inline, without a `FrameHeader`; in `feed`, bytes that
lie inside a payload go straight to the buffer (whole frames) or to
``_piece`` (pieces) without entering the loop. A large message arriving in
TCP-sized reads spends its time in that second path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from struct import Struct
from typing import Final, Generic, SupportsIndex, TypeVar

from .builders import parse_close_payload
from .checks import Flag, check_bytes, check_count, check_role
from .errors import ProtocolError, Violation
from .header_bits import FirstByte, FrameKind, first_byte_problem, first_byte_table
from .masking import PayloadBuffer, apply_mask, mask_int, mask_small
from .mypyc_support import mypyc_attr
from .opcodes import Opcode
from .roles import Role

__all__ = ["DEFAULT_MAX_FRAME_SIZE", "FrameDecoder", "FrameHeader"]

#: Default limit on one frame's payload: 1 MiB (like websockets' max_size).
DEFAULT_MAX_FRAME_SIZE: Final = 2**20

_U64: Final = Struct("!Q")

_START: Final = FrameKind.START
_CONTINUATION: Final = FrameKind.CONTINUATION
_CONTROL: Final = FrameKind.CONTROL
_CLOSE: Final = FrameKind.CLOSE

# Decoder states.
_HEADER: Final = 0
_PAYLOAD: Final = 1
_CLOSED: Final = 2

# Pieces up to this size are unmasked by masking.mask_small (no dispatch on size).
_SMALL_PIECE: Final = 1024
# Small frames are unmasked by integer XOR written inline (a call per frame
# costs ~5% in pure Python), unless wsframe's C helper (masking.py) does the
# masking: one call to it is cheaper than the integer XOR.
_INLINE_XOR: Final = mask_small is mask_int

_T = TypeVar("_T")

_NOTHING: Final[Iterator[object]] = iter(())     # an exhausted iterator: safe to share
_ONE_BYTE: Final = tuple(bytes((b,)) for b in range(256))
# Outside the PAYLOAD state of a whole frame: holds nothing (and accepts nothing).
_NO_PAYLOAD: Final = PayloadBuffer(None, 0)


def _then_raise(items: list[_T], error: ProtocolError) -> Iterator[_T]:
    """Yield what was delivered before a violation, then raise it."""
    yield from items
    raise error


class FrameHeader:
    """A decoded frame header (RFC 6455 section 5.2).

    Attributes:
        first: what the first byte says (`FirstByte`: opcode, FIN, RSV1-3, kind).
        length: the payload length.
        key: the 4-byte masking key, or None for an unmasked frame.
        offset: the stream position of the header's first byte.
        size: the header's length in bytes (2 to 14).
    """

    __slots__ = ("first", "key", "length", "offset", "size")

    def __init__(self, first: FirstByte, length: int, key: bytes | None, offset: int,
                 size: int) -> None:
        self.first = first
        self.length = length
        self.key = key
        self.offset = offset
        self.size = size

    @property
    def opcode(self) -> Opcode:
        """The frame's opcode."""
        return self.first.opcode

    @property
    def fin(self) -> bool:
        """True if this is the final frame of its message."""
        return self.first.fin

    def __repr__(self) -> str:
        first = self.first
        flags = "".join(f" {name}" for name, on in (
            ("fin", first.fin), ("rsv1", first.rsv1), ("rsv2", first.rsv2),
            ("rsv3", first.rsv3), ("masked", self.key is not None)) if on)
        return (f"<FrameHeader {first.opcode.name}{flags} length={self.length} "
                f"offset={self.offset}>")


@mypyc_attr(allow_interpreted_subclasses=True)
class FrameDecoder(Generic[_T]):
    """The RFC 6455 frame state machine that `FrameParser` and `MessageReader` stand on.

    Args:
        role: `Role.SERVER` (every received frame must be masked) or
            `Role.CLIENT` (no received frame may be masked), section 5.1.
        max_frame_size: the largest payload accepted; a larger declared
            length fails with 1009 as soon as the header is complete. None:
            no limit.
        strict: if False, accept payload lengths that are not in their
            minimal encoding. RFC 6455 5.2 says "MUST", so True by default.
        extension_rsv: the RSV bits negotiated extensions own (0x40, 0x20,
            0x10); allowed on the first frame of a data message only.
        stop_at_close: after a Close frame, ignore everything (state CLOSED).

    Subclasses define ``_frame``, ``_close``, ``_start`` and ``_piece`` (see
    the module documentation).
    """

    # Slots: no per-instance dict (a server holds one decoder per connection).
    __slots__ = ("_error", "_extension_rsv", "_first", "_frame_limit", "_head", "_header",
                 "_in_message", "_keys", "_length", "_mask_bit", "_need", "_payload",
                 "_received", "_spare", "_state", "_stop_at_close", "_whole", "role",
                 "strict")

    # Integer and flag arguments are annotated SupportsIndex and Flag, not int
    # and bool: the same checks, and messages, in the compiled build (see Flag).
    def __init__(self, role: Role, *,
                 max_frame_size: SupportsIndex | None = DEFAULT_MAX_FRAME_SIZE,
                 strict: Flag = True, extension_rsv: SupportsIndex = 0,
                 stop_at_close: Flag = False) -> None:
        check_role(role)
        limit = check_count("max_frame_size", max_frame_size)
        rsv = check_count("extension_rsv", extension_rsv, optional=False)
        assert rsv is not None
        if rsv & ~0x70:
            raise ValueError("extension_rsv may only contain the bits 0x40, 0x20 and 0x10, "
                             f"not {extension_rsv!r}")
        self.role = role
        self._frame_limit = limit               # what the state machine enforces
        self.strict = bool(strict)
        self._extension_rsv = rsv
        self._stop_at_close = bool(stop_at_close)
        self._first = first_byte_table(rsv)
        # Section 5.1: a server receives masked frames, a client unmasked ones.
        self._mask_bit = 0x80 if role is Role.SERVER else 0
        self._error: ProtocolError | None = None
        self._state = _HEADER
        self._head = b""            # HEADER: bytes of an incomplete header
        self._received = 0          # HEADER: stream offset after the data seen so far
        self._in_message = False    # a fragmented message is in progress (5.4)
        # PAYLOAD: the frame being received.
        self._header: FrameHeader | None = None
        self._need = 0              # payload bytes still to come (0 outside PAYLOAD)
        self._length = 0            # the payload length of the frame being received
        self._whole = True          # True: the frame is kept whole; False: pieces
        self._payload = _NO_PAYLOAD  # whole: the payload so far (masking.PayloadBuffer)
        self._keys: tuple[bytes, bytes, bytes, bytes] | None = None  # pieces: key rotations
        self._spare: list[_T] = []  # the fast path's event list, while it stays empty

    # -- the one entry ------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[_T]:
        """Add received bytes; return an iterator over what they complete.

        All of ``data`` is consumed at once, whether or not the iterator is
        drained. It yields everything complete in wire order; if the stream
        breaks a rule it yields what came before the violation, then raises
        `ProtocolError`. After a violation the decoder is terminal: every
        later call raises the same error.
        """
        need = self._need
        if need and data.__class__ is bytes and need > (size := len(data)):
            # Fast path: the bytes lie inside a payload (a large frame arriving
            # in many reads); no header can start here. _need is non-zero only
            # in the PAYLOAD state, and 0 after a violation.
            left = need - size
            if self._whole:
                self._payload.append(data)
                self._need = left
                return _NOTHING  # type: ignore[return-value]
            # A frame taken in pieces: hand it up with its key. A peer
            # trickling one byte per read gets it unmasked by a table lookup.
            keys = self._keys
            key = None
            if keys is not None:
                key = keys[(self._length - need) & 3]
                if size == 1:                       # one byte
                    data = _ONE_BYTE[data[0] ^ key[0]]
                    key = None
            # The pieces of a text message usually complete nothing: the same
            # empty list serves every call until one does (a peer trickling
            # bytes would otherwise cost a list per byte).
            pieces = self._spare
            try:
                self._piece(data, key, left, pieces)
            except ProtocolError as exc:
                self._fail(exc)
                return _then_raise(pieces, exc)
            self._need = left
            if pieces:
                self._spare = []
                return iter(pieces)
            return _NOTHING  # type: ignore[return-value]
        if self._error is not None:
            raise self._error.with_traceback(None)   # not a traceback that grows per call
        out: list[_T] = []
        try:
            self._consume(check_bytes("data", data), out)
        except ProtocolError as exc:
            self._fail(exc)
            return _then_raise(out, exc)
        return iter(out)

    def feed_all(self, chunks: Iterable[bytes | bytearray | memoryview]) -> list[_T]:
        """Feed several chunks and return everything (raises at a violation)."""
        items: list[_T] = []
        for chunk in chunks:
            items.extend(self.feed(chunk))
        return items

    @property
    def max_frame_size(self) -> int | None:
        """The largest frame payload accepted, in bytes (None: no limit).

        Read-only: the limit is fixed when the decoder is built, so that what
        this says is always what the state machine enforces (RFC 6455 10.4).
        """
        return self._frame_limit

    @property
    def error(self) -> ProtocolError | None:
        """The violation that made this decoder terminal, or None."""
        return self._error

    @property
    def closed(self) -> bool:
        """True once a Close frame stopped reading (``stop_at_close``); later
        bytes are ignored."""
        return self._state == _CLOSED

    @property
    def buffered(self) -> int:
        """Bytes received and kept, not yet handed up."""
        if self._state == _PAYLOAD and self._whole:
            return len(self._payload)
        return len(self._head)

    @property
    def at_frame_boundary(self) -> bool:
        """True when no partial frame is pending (the stream may end here)."""
        return self._state != _PAYLOAD and not self._head

    def _fail(self, error: ProtocolError) -> None:
        """Become terminal: every later `feed` raises ``error``."""
        self._error = error
        self._need = 0
        self._payload = _NO_PAYLOAD
        self._header = None

    # -- the hooks ------------------------------------------------------------------

    def _frame(self, first: FirstByte, payload: bytes, offset: int, out: list[_T]) -> None:
        """A complete data, Ping or Pong frame (payload unmasked)."""
        raise NotImplementedError

    def _close(self, code: int | None, reason: str, payload: bytes, offset: int,
               out: list[_T]) -> None:
        """A complete Close frame whose payload is valid (5.5.1)."""
        raise NotImplementedError

    def _start(self, header: FrameHeader, out: list[_T]) -> bool:
        """A data frame whose payload goes on past the bytes at hand.

        Return False to receive it whole (through ``_frame``, once complete),
        True to receive it in pieces (through ``_piece``).
        """
        raise NotImplementedError

    def _piece(self, data: bytes, key: bytes | None, left: int, out: list[_T]) -> None:
        """The next piece of a frame taken in pieces, still masked with ``key``
        (lined up with ``data[0]``; None: plain); ``left`` bytes follow it."""
        raise NotImplementedError

    # -- payload pieces -------------------------------------------------------------

    def _piece_key(self) -> bytes | None:
        """The masking key lined up with a piece ``length - _need`` bytes into the payload."""
        keys = self._keys
        return None if keys is None else keys[(self._length - self._need) & 3]

    @staticmethod
    def _unmasked(data: bytes, key: bytes | None) -> bytes:
        """A piece handed to ``_piece``, unmasked."""
        if key is None:
            return data
        return mask_small(data, key) if len(data) <= _SMALL_PIECE else apply_mask(data, key)

    # -- the state machine ----------------------------------------------------------

    def _consume(self, data: bytes, out: list[_T]) -> None:
        """Parse ``data`` (all of it), handing complete frames to the hooks."""
        state = self._state
        if state == _CLOSED:
            return
        pos = 0
        if state == _PAYLOAD:
            header = self._header
            assert header is not None       # stream offset of data[0]:
            base = header.offset + header.size + header.length - self._need
            pos = self._continue_payload(data, out)
            if pos < 0 or self._state == _CLOSED:
                return
        else:
            base = self._received
            if self._head:
                base -= len(self._head)
                data = self._head + data
                self._head = b""
        end = len(data)
        self._received = base + end
        first = self._first
        mask_bit = self._mask_bit
        header_size = 6 if mask_bit else 2
        # The fast path takes 7-bit lengths (< 126) within max_frame_size.
        limit = self._frame_limit
        small = 126 if limit is None or limit >= 125 else limit + 1
        in_message = self._in_message
        frame = self._frame         # the hook, looked up once per read
        from_bytes = int.from_bytes
        inline_xor = _INLINE_XOR

        while pos < end:
            # Fast path: a valid first byte, a 7-bit length within the limit,
            # the MASK bit as this role expects (XOR leaves the length alone then,
            # and pushes it to >= 128 otherwise), and the whole frame present.
            info = first[data[pos]]
            if info is not None and end - pos > 1:
                kind = info[5]
                length = data[pos + 1] ^ mask_bit
                stop = pos + header_size + length
                # Section 5.4: a continuation needs a message in progress, a
                # TEXT/BINARY needs none; the general path reports a mismatch.
                if length < small and stop <= end and (
                        kind >= _CONTROL or (kind == _CONTINUATION) is in_message):
                    if mask_bit:
                        if inline_xor:      # masking.mask_int, inlined (see _INLINE_XOR)
                            payload = (from_bytes(data[pos + 6:stop], "little") ^ from_bytes(
                                (data[pos + 2:pos + 6] * ((length >> 2) + 1))[:length],
                                "little")).to_bytes(length, "little")
                        else:
                            payload = apply_mask(data, data[pos + 2:pos + 6], pos + 6, stop)
                    else:
                        payload = data[pos + 2:stop]
                    if kind < _CONTROL:
                        in_message = not info[1]
                        frame(info, payload, base + pos, out)
                    elif kind == _CONTROL:
                        frame(info, payload, base + pos, out)
                    else:
                        self._in_message = in_message
                        if self._deliver_close(payload, base + pos, out):
                            return
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
                             out: list[_T]) -> int:
        """Decode the header at ``pos``; return where the next frame starts.

        Returns -1 when ``data`` ends inside this frame (its header bytes are
        kept in ``_head``, or the PAYLOAD state begins) or when a Close frame
        ends the stream. Raises ProtocolError on a violation.
        """
        header = self._decode_header(data, pos, end, base + pos)
        if header is None:
            self._head = data[pos:]
            return -1
        first = header.first
        kind = first.kind
        if kind < _CONTROL:
            self._in_message = not first.fin
        start = pos + header.size
        stop = start + header.length
        key = header.key
        if stop <= end:
            payload = apply_mask(data, key, start, stop) if key is not None \
                else data[start:stop]
            if kind != _CLOSE:
                self._frame(first, payload, header.offset, out)
            elif self._deliver_close(payload, header.offset, out):
                return -1
            return stop
        # The frame goes on past ``data``: the PAYLOAD state.
        self._state = _PAYLOAD
        self._header = header
        self._length = self._need = header.length
        self._whole = kind >= _CONTROL or not self._start(header, out)
        if self._whole:
            # Unmasked as it arrives into the bytes handed up, by the C helper;
            # kept masked and unmasked once at the end, in pure Python.
            self._payload = PayloadBuffer(key, header.length)
            with memoryview(data) as view:
                self._payload.append(view[start:end])
        else:
            self._keys = None if key is None else (
                key, key[1:] + key[:1], key[2:] + key[:2], key[3:] + key[:3])
            if start < end:
                self._piece(data[start:end], self._piece_key(), self._need - (end - start), out)
        self._need -= end - start
        return -1

    def _decode_header(self, data: bytes, pos: int, end: int,
                       offset: int) -> FrameHeader | None:
        """Decode one frame header from ``data[pos:end]`` (RFC 6455 section 5.2).

        Each field is checked as soon as its bytes are present. Returns None
        if the header is incomplete (and nothing present is wrong).
        """
        avail = end - pos
        # Byte 0: FIN, RSV1-3, opcode (5.2, 5.5; RFC 7692 6).
        first = self._first[data[pos]]
        if first is None:
            problem = first_byte_problem(data[pos], self._extension_rsv)
            assert problem is not None
            raise ProtocolError(problem[0], problem[1], offset)
        kind = first.kind
        # Section 5.4: fragments of one message, in order, not interleaved.
        if kind == _START and self._in_message:
            raise ProtocolError(Violation.EXPECTED_CONTINUATION,
                                f"{first.opcode.name} frame inside a fragmented message",
                                offset)
        if kind == _CONTINUATION and not self._in_message:
            raise ProtocolError(Violation.UNEXPECTED_CONTINUATION,
                                "continuation frame with no message in progress", offset)
        if avail < 2:
            return None
        # Byte 1: MASK (5.1), payload length (7 bits).
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
                                f"{first.opcode.name} frame with an extended length", offset)
        size = 2
        if length == 126:                   # 16-bit extended length
            if avail < 4:
                return None
            length = (data[pos + 2] << 8) | data[pos + 3]
            size = 4
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
            size = 10
            if length < 65536 and self.strict:
                raise ProtocolError(Violation.NON_MINIMAL_LENGTH,
                                    f"length {length} sent in the 64-bit form", offset)
        if control and length > 125:
            raise ProtocolError(Violation.CONTROL_FRAME_TOO_LONG,
                                f"{first.opcode.name} payload of {length} bytes", offset)
        limit = self._frame_limit
        if limit is not None and length > limit:
            raise ProtocolError(Violation.FRAME_TOO_BIG,
                                f"frame payload of {length} bytes exceeds the limit of "
                                f"{limit}", offset)
        key = None
        if masked:                          # 4-byte masking key (5.3)
            if avail < size + 4:
                return None
            key = data[pos + size:pos + size + 4]
            size += 4
        return FrameHeader(first, length, key, offset, size)

    def _continue_payload(self, data: bytes, out: list[_T]) -> int:
        """PAYLOAD state: take payload bytes from ``data``.

        Returns the position in ``data`` after the frame once it is complete,
        or -1 if all of ``data`` was payload and more is still to come.
        """
        need = self._need
        if len(data) < need:
            if self._whole:
                self._payload.append(data)
            else:
                self._piece(data, self._piece_key(), need - len(data), out)
            self._need = need - len(data)
            return -1
        last = data[:need] if need < len(data) else data
        header = self._header
        assert header is not None
        piece_key = None
        if self._whole:
            buffered = self._payload
            buffered.append(last)
            self._payload = _NO_PAYLOAD
            payload = buffered.take()
        else:
            payload = last
            piece_key = self._piece_key()
        self._need = 0
        self._state = _HEADER
        self._header = None
        if not self._whole:
            self._piece(payload, piece_key, 0, out)
        elif header.first.kind != _CLOSE:
            self._frame(header.first, payload, header.offset, out)
        else:
            self._deliver_close(payload, header.offset, out)
        return need

    def _deliver_close(self, payload: bytes, offset: int, out: list[_T]) -> bool:
        """Validate a Close frame's payload (5.5.1, 7.4) and hand it up.

        Returns True if reading stops here (``stop_at_close``: nothing after
        a Close frame is read, 5.5.1).
        """
        code, reason = parse_close_payload(payload, offset)
        self._close(code, reason, payload, offset, out)
        if self._stop_at_close:
            self._state = _CLOSED
            return True
        return False
