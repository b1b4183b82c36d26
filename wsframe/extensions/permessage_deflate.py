"""permessage-deflate (RFC 7692): compressed messages, with stdlib zlib only.

A compressed message has RSV1 (the "Per-Message Compressed" bit) set on its
first frame; its payload, all frames together, is raw DEFLATE data ending
with a sync flush whose last four bytes (00 00 ff ff) are left off
(section 7.2.1). To read it, append those four bytes and inflate (7.2.2).

Negotiation (section 7.1) picks, for each direction, whether the compressor
keeps its LZ77 window between messages ("context takeover") and how large
that window may be (8-15 bits). `offer`, `accept_offer` and
`accept_response` build and check the ``Sec-WebSocket-Extensions`` values;
a `PerMessageDeflate` object is the negotiated extension for one connection,
passed to `MessageReader` / `MessageWriter` via ``extensions=``.

Decompression bombs: `MessageReader` tells the inflater how many bytes the
message may still grow by, and zlib is asked for at most that many plus one
(``max_length``), so a small message that inflates past ``max_message_size``
fails with 1009 without the whole output ever being allocated.

zlib cannot compress with an 8-bit raw window, so wsframe never agrees to
compress with ``server_max_window_bits=8`` (a server declines such an offer);
it inflates 8-bit windows fine.
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, replace

from ..checks import check_count, check_role
from ..errors import ProtocolError, Violation
from ..handshake import HandshakeError, parse_extensions
from ..header_bits import RSV1
from ..opcodes import Opcode
from ..roles import Role
from .base import TransformError

__all__ = ["DEFAULT_COMPRESS_LEVEL", "DEFAULT_MEM_LEVEL", "DEFAULT_OFFER", "DEFAULT_WINDOW_BITS",
           "EXTENSION_NAME", "DeflateParams", "PerMessageDeflate", "accept_offer",
           "accept_response", "negotiate", "offer"]

#: The extension's registered name (RFC 7692 section 7).
EXTENSION_NAME = "permessage-deflate"

#: Defaults chosen by measurement on a corpus of JSON and chat messages
#: (benchmarks/corpus.py; the table is in the README): the window both sides
#: ask for, zlib's level and memLevel for what this endpoint sends.
DEFAULT_WINDOW_BITS = 12
DEFAULT_COMPRESS_LEVEL = 6
DEFAULT_MEM_LEVEL = 5

# The empty stored block a sync flush ends with (RFC 7692 7.2.1 and 7.2.2).
_TAIL = b"\x00\x00\xff\xff"
_PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
           "server_max_window_bits", "client_max_window_bits")


@dataclass(frozen=True)
class DeflateParams:
    """The four parameters of RFC 7692 section 7.1, as negotiated or offered.

    ``client_max_window_bits`` may be True in a client's offer: "I support the
    parameter, pick a value" (section 7.1.2.2).
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | bool | None = None

    @classmethod
    def from_header(cls, header: str, *, offer: bool = False) -> DeflateParams:
        """Parse one permessage-deflate element, e.g. a 101 response's
        ``Sec-WebSocket-Extensions`` value (``offer=True``: a client's offer,
        where ``client_max_window_bits`` may come without a value).

        Raises HandshakeError for another extension, several elements, or
        unknown, duplicate or invalid parameters (RFC 7692 7.1).
        """
        _check_header(header)
        elements = parse_extensions(header)
        if len(elements) != 1 or elements[0][0] != EXTENSION_NAME:
            raise HandshakeError(f"expected one {EXTENSION_NAME} element, not {header[:80]!r}")
        return _parse_params(elements[0][1], from_client=offer)

    def header(self) -> str:
        """The extension's ``Sec-WebSocket-Extensions`` element."""
        parts = [EXTENSION_NAME]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits is True:
            parts.append("client_max_window_bits")
        elif self.client_max_window_bits:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts)


def _window_bits(name: str, value: str | None, *, optional: bool) -> int | bool:
    if value is None:
        if optional:
            return True
        raise HandshakeError(f"{name} needs a value from 8 to 15 (RFC 7692 7.1.2)")
    # 1*DIGIT, read as ASCII digits only: never int() on an arbitrary string
    # (5,000 digits exceed Python's conversion limit; "١٢" is not a value).
    if not (1 <= len(value) <= 2 and value.isascii() and value.isdigit()
            and 8 <= int(value) <= 15 and value == str(int(value))):
        raise HandshakeError(f"{name}={value[:20]!r}: the value must be 8 to 15 "
                             "(RFC 7692 7.1.2)")
    return int(value)


def _parse_params(params: list[tuple[str, str | None]], *, from_client: bool) -> DeflateParams:
    """Check one permessage-deflate element's parameters (RFC 7692 7.1)."""
    seen: dict[str, str | None] = {}
    for name, value in params:
        if name not in _PARAMS:
            raise HandshakeError(f"unknown permessage-deflate parameter {name!r} (RFC 7692 7.1)")
        if name in seen:
            raise HandshakeError(f"duplicate permessage-deflate parameter {name!r} "
                                 "(RFC 7692 7.1)")
        seen[name] = value
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if flag in seen and seen[flag] is not None:
            raise HandshakeError(f"{flag} takes no value (RFC 7692 7.1.1)")
    server_bits = client_bits = None
    if "server_max_window_bits" in seen:
        server_bits = _window_bits("server_max_window_bits", seen["server_max_window_bits"],
                                   optional=False)
    if "client_max_window_bits" in seen:
        client_bits = _window_bits("client_max_window_bits", seen["client_max_window_bits"],
                                   optional=from_client)
    return DeflateParams("server_no_context_takeover" in seen,
                         "client_no_context_takeover" in seen,
                         server_bits, client_bits)


def _check_header(header: object) -> None:
    if not isinstance(header, str):
        raise TypeError("header must be the Sec-WebSocket-Extensions value as str, not "
                        f"{type(header).__name__}" + (" (decode it first: latin-1)"
                                                      if isinstance(header, bytes) else ""))


def _check_bits(name: str, value: object, *, low: int) -> None:
    """A window size in bits: ``low``-15 (RFC 7692 7.1.2; zlib compresses with 9-15)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int from {low} to 15 or None, not "
                        f"{type(value).__name__}")
    if not low <= value <= 15:
        why = " (zlib cannot compress with an 8-bit window)" if low == 9 and value == 8 else ""
        raise ValueError(f"{name} must be {low} to 15 (RFC 7692 7.1.2){why}, not {value}")


def _check_mem_level(level: object) -> None:
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"mem_level must be an int from 1 to 9, not {type(level).__name__}")
    if not 1 <= level <= 9:
        raise ValueError(f"mem_level must be 1 (least memory) to 9, not {level}")


def _check_level(level: object) -> None:
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"compress_level must be an int from 0 to 9, not {type(level).__name__}")
    if not 0 <= level <= 9:
        raise ValueError(f"compress_level must be 0 (store) to 9 (smallest), not {level}")


#: What a client offers by default: its own window limited to
#: DEFAULT_WINDOW_BITS (a limit a client may always state, so no server declines
#: for it); the server keeps its own choice of window.
DEFAULT_OFFER = DeflateParams(client_max_window_bits=DEFAULT_WINDOW_BITS)


def offer(params: DeflateParams | None = None) -> str:
    """A client's ``Sec-WebSocket-Extensions`` offer (`DEFAULT_OFFER` if None)."""
    if params is not None and not isinstance(params, DeflateParams):
        raise TypeError(f"params must be the DeflateParams to offer, or None, not {params!r:.60}")
    if params is None:
        return DEFAULT_OFFER.header()
    _check_bits("params.server_max_window_bits", params.server_max_window_bits, low=8)
    if params.client_max_window_bits is not True:       # True: "pick a value" (7.1.2.2)
        _check_bits("params.client_max_window_bits", params.client_max_window_bits, low=8)
    return params.header()


def negotiate(header: str, *, server_no_context_takeover: bool = False,
              client_no_context_takeover: bool = False,
              server_max_window_bits: int | None = DEFAULT_WINDOW_BITS,
              client_max_window_bits: int | None = DEFAULT_WINDOW_BITS) -> DeflateParams | None:
    """The agreement a server makes with the first acceptable offer in ``header``.

    The same decision as `accept_offer`, without building the extension: the
    parameters of the response (send ``params.header()`` back), from which
    each side builds its own `PerMessageDeflate` (``PerMessageDeflate(
    Role.SERVER, params)``, ``PerMessageDeflate(Role.CLIENT, params)``), as a
    proxy that speaks to both does. None: no offer is acceptable; a header
    that does not parse (``permessage-deflate;;``) offers nothing acceptable
    either, and is declined too (RFC 7692 5): the connection goes on
    without the extension.
    """
    _check_header(header)
    _check_bits("server_max_window_bits", server_max_window_bits, low=9)
    _check_bits("client_max_window_bits", client_max_window_bits, low=8)
    try:
        offers = parse_extensions(header)
    except HandshakeError:
        return None
    for name, params in offers:
        if name != EXTENSION_NAME:
            continue
        try:
            wanted = _parse_params(params, from_client=True)
        except HandshakeError:
            continue
        # The server's window: the client's limit, our own, or 15.
        server_bits = min(b for b in (wanted.server_max_window_bits, server_max_window_bits,
                                      15) if b is not None)
        if server_bits < 9:
            continue                        # zlib cannot compress with 8 bits
        # The client's window: only if the client offered the parameter.
        client_bits: int | None = None
        if client_max_window_bits is not None and wanted.client_max_window_bits is not None:
            offered = wanted.client_max_window_bits
            client_bits = min(client_max_window_bits, 15 if offered is True else int(offered))
        elif isinstance(wanted.client_max_window_bits, int) and \
                wanted.client_max_window_bits is not True:
            client_bits = wanted.client_max_window_bits
        return DeflateParams(
            server_no_context_takeover=wanted.server_no_context_takeover
            or server_no_context_takeover,
            client_no_context_takeover=wanted.client_no_context_takeover
            or client_no_context_takeover,
            server_max_window_bits=server_bits
            if wanted.server_max_window_bits is not None or server_bits < 15 else None,
            client_max_window_bits=client_bits,
        )
    return None


def accept_offer(header: str, *, server_no_context_takeover: bool = False,
                 client_no_context_takeover: bool = False,
                 server_max_window_bits: int | None = DEFAULT_WINDOW_BITS,
                 client_max_window_bits: int | None = DEFAULT_WINDOW_BITS,
                 compress_level: int = DEFAULT_COMPRESS_LEVEL,
                 mem_level: int = DEFAULT_MEM_LEVEL, min_size: int = 0,
                 ) -> tuple[str, PerMessageDeflate] | None:
    """Server side: pick the first acceptable permessage-deflate offer in ``header``.

    The keyword arguments are the server's own wishes: the windows default
    to `DEFAULT_WINDOW_BITS` (12: a 4 KiB window each way, chosen by
    measurement, see the module documentation; None asks for 15), the
    client's only when the client offered ``client_max_window_bits``; the
    rest are as for `PerMessageDeflate`. Returns the response element for
    ``Sec-WebSocket-Extensions`` and the negotiated extension, or None when
    no offer is acceptable (then answer without the extension). An offer
    with unknown, duplicate or invalid parameters is declined (RFC 7692 7.1:
    "a server MUST decline"), as is a header that does not parse and one that
    requires an 8-bit server window, which zlib cannot compress with.
    (`negotiate` makes the same decision without building the extension.)
    """
    _check_level(compress_level)
    _check_mem_level(mem_level)
    check_count("min_size", min_size, optional=False)
    params = negotiate(header, server_no_context_takeover=server_no_context_takeover,
                       client_no_context_takeover=client_no_context_takeover,
                       server_max_window_bits=server_max_window_bits,
                       client_max_window_bits=client_max_window_bits)
    if params is None:
        return None
    return params.header(), PerMessageDeflate(Role.SERVER, params,
                                              compress_level=compress_level,
                                              mem_level=mem_level, min_size=min_size)


def accept_response(header: str, sent: DeflateParams | None = None, *,
                    compress_level: int = DEFAULT_COMPRESS_LEVEL,
                    mem_level: int = DEFAULT_MEM_LEVEL,
                    min_size: int = 0) -> PerMessageDeflate:
    """Client side: check the server's response to `offer` (RFC 7692 7.1).

    ``sent`` is what the client offered (`DEFAULT_OFFER` if None). Raises
    HandshakeError if the response is not a valid answer to it; the client
    must then fail the connection. The keyword arguments are as for
    `PerMessageDeflate`.
    """
    _check_header(header)
    if sent is None:
        sent = DEFAULT_OFFER
    elif not isinstance(sent, DeflateParams):
        raise TypeError(f"sent must be the DeflateParams offered, or None, not {sent!r}")
    params = DeflateParams.from_header(header)
    if sent.server_no_context_takeover and not params.server_no_context_takeover:
        raise HandshakeError("the server dropped server_no_context_takeover (RFC 7692 7.1.1.1)")
    if sent.server_max_window_bits is not None and (
            params.server_max_window_bits is None
            or params.server_max_window_bits > sent.server_max_window_bits):
        raise HandshakeError("server_max_window_bits above what was offered (RFC 7692 7.1.2.1)")
    if params.client_max_window_bits is not None:
        offered = sent.client_max_window_bits
        if offered is None or offered is False:
            raise HandshakeError("client_max_window_bits was not offered (RFC 7692 7.1.2.2)")
        if offered is not True and int(params.client_max_window_bits) > int(offered):
            raise HandshakeError("client_max_window_bits above what was offered")
        if params.client_max_window_bits == 8:
            raise HandshakeError("client_max_window_bits=8 cannot be honoured with zlib")
    elif isinstance(sent.client_max_window_bits, int) and sent.client_max_window_bits is not True:
        # The server did not lower it: the client keeps the limit it offered.
        params = replace(params, client_max_window_bits=sent.client_max_window_bits)
    return PerMessageDeflate(Role.CLIENT, params, compress_level=compress_level,
                             mem_level=mem_level, min_size=min_size)


def _inflated_before_error(backup: zlib._Decompress, data: bytes, max_length: int) -> bytes:
    """What ``data`` inflates to before zlib finds it broken (a rare, error-only path).

    Output is deterministic in the input, so a binary search on the longest
    prefix that still inflates finds the output a byte-by-byte feed would
    have produced before the error: O(n log n) on a piece of the message.
    """
    low, high = 0, len(data)          # data[:low] inflates; data[:high] raises
    while high - low > 1:
        middle = (low + high) // 2
        try:
            backup.copy().decompress(data[:middle], max_length)
        except zlib.error:
            high = middle
        else:
            low = middle
    return backup.decompress(data[:low], max_length)


# An empty final block with fixed Huffman codes: BFINAL 1, BTYPE 01, then
# the end-of-block code (RFC 1951 3.2.6), padded with zeros to two bytes.
_EMPTY_FINAL_BLOCK = b"\x03\x00"


def _at_block_boundary(decompressor: zlib._Decompress) -> bool:
    """Whether the inflater stands between two DEFLATE blocks, on a byte boundary.

    zlib does not tell; a copy is asked instead: between blocks, an empty
    final block ends the stream with no output and nothing left over. Inside
    a stored block the probe would come out as data; inside a Huffman block
    it would be read as codes, giving output, an error or no end.
    """
    probe = decompressor.copy()
    try:
        out = probe.decompress(_EMPTY_FINAL_BLOCK)
    except zlib.error:
        return False
    return not out and probe.eof and not probe.unused_data


class _BitWriter:
    """Bits into bytes, least significant bit first (RFC 1951 3.1.1)."""

    def __init__(self) -> None:
        self.value = 0
        self.bits = 0

    def write(self, value: int, count: int) -> None:
        self.value |= value << self.bits
        self.bits += count

    def huffman(self, code: int, count: int) -> None:
        """A Huffman code: packed most significant bit first (RFC 1951 3.1.1)."""
        self.write(int(format(code, f"0{count}b")[::-1], 2), count)

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.bits + 7) // 8, "little")


def _code_table(count: int, plain: int, first_base: int) -> list[tuple[int, int]]:
    """(base, extra bits) of DEFLATE length or distance codes (RFC 1951 3.2.5):
    ``plain`` codes without extra bits, then the extra bits grow by one every
    ``(count - plain) // 5`` or so codes, as the RFC's tables do."""
    table, base = [], first_base
    for index in range(count):
        extra = 0 if index < plain else (index - plain // 2) // (plain // 2)
        table.append((base, extra))
        base += 1 << extra
    return table


# Length codes 257-284 (285 is exactly 258) and distance codes 0-29.
_LENGTHS = _code_table(28, 8, 3)
_DISTANCES = _code_table(30, 4, 1)


def _copy_block(count: int) -> bytes:
    """A DEFLATE block (fixed Huffman codes, RFC 1951 3.2.6) that outputs the
    last ``count`` bytes of the sliding window: back-references of distance
    ``count`` whose lengths add up to at least ``count``."""
    out = _BitWriter()
    out.write(1, 1)                   # BFINAL
    out.write(1, 2)                   # BTYPE 01: fixed Huffman codes
    code = max(i for i, (base, _) in enumerate(_DISTANCES) if base <= count)
    dist_base, dist_extra = _DISTANCES[code]
    remaining = count
    while remaining > 0:
        length = max(3, min(remaining, 258))
        remaining -= length
        if length == 258:
            out.huffman(0b11000000 + 285 - 280, 8)
        else:
            index = max(i for i, (base, _) in enumerate(_LENGTHS) if base <= length)
            base, extra = _LENGTHS[index]
            symbol = 257 + index
            if symbol < 280:
                out.huffman(symbol - 256, 7)
            else:
                out.huffman(0b11000000 + symbol - 280, 8)
            out.write(length - base, extra)
        out.huffman(code, 5)
        out.write(count - dist_base, dist_extra)
    out.huffman(0, 7)                  # end of block (256)
    return out.bytes()


class _Inflate:
    """Inflates one received message, piece by piece, within a size budget."""

    __slots__ = ("_ended", "_extension", "_got_input", "_produced", "_start", "_tail",
                 "_trailing")

    def __init__(self, extension: PerMessageDeflate) -> None:
        self._extension = extension
        self._start: zlib._Decompress | None = None   # the window before this message
        self._tail = bytearray()       # the last output of this message (window size)
        self._produced = 0             # bytes inflated for this message
        self._ended = False            # the sender ended its DEFLATE stream (BFINAL)
        self._trailing = b""           # bytes after the end of that stream
        self._got_input = False

    def feed(self, data: bytes, final: bool, limit: int | None) -> bytes:
        """Inflate the next piece (see `IncomingMessage.feed`)."""
        extension = self._extension
        if data:
            self._got_input = True
        if final and not self._got_input:
            # The smallest compressed message is 0x00 (an empty stored block,
            # RFC 7692 7.2.3.6); an empty payload is a truncated DEFLATE block
            # that would swallow the start of the next message.
            raise ProtocolError(Violation.INVALID_COMPRESSED_DATA,
                                "empty payload with RSV1: not DEFLATE data")
        if self._ended:
            self._after_end(data + _TAIL if final else data, final, b"")
            out = b""
        else:
            decompressor = extension._receiving()
            chunk = data + _TAIL if final else data
            backup = decompressor.copy()
            if self._start is None and not extension.remote_no_context_takeover:
                self._start = backup.copy()
            # Never more than one byte past the budget: the reader turns that
            # byte into 1009 (decompression bombs). zlib takes at most sys.maxsize.
            max_length = 0 if limit is None else min(limit + 1, sys.maxsize)
            try:
                out = decompressor.decompress(chunk, max_length)
            except zlib.error as exc:
                raise TransformError(Violation.INVALID_COMPRESSED_DATA,
                                     f"compressed data does not inflate: {exc}",
                                     _inflated_before_error(backup, chunk, max_length)) from None
            self._produced += len(out)
            if not extension.remote_no_context_takeover:
                self._keep_tail(out)
            if decompressor.eof:
                # The sender ended its DEFLATE stream with a BFINAL block
                # (RFC 7692 7.2.3.4): what follows must be padding.
                self._ended = True
                self._after_end(decompressor.unused_data, final, out)
            elif final and not _at_block_boundary(decompressor):
                # RFC 7692 7.2.1: a message's data, once the receiver has put
                # back 00 00 ff ff, ends with an empty stored block, so the
                # inflater stands between two blocks. Anything else (a block
                # cut short) would run on into the next message.
                raise TransformError(Violation.INVALID_COMPRESSED_DATA,
                                     "the message's DEFLATE data stops inside a block "
                                     "(RFC 7692 7.2.1: it must end with an empty stored "
                                     "block)", out)
        if final:
            extension._received_message(self)
        return out

    def _keep_tail(self, out: bytes) -> None:
        """Keep the last window-size bytes of output (needed only if the stream ends)."""
        size = 1 << self._extension.remote_window_bits
        tail = self._tail
        tail += out
        if len(tail) > 2 * size:            # trimmed in large steps: amortised O(1)
            del tail[:-size]

    def _after_end(self, extra: bytes, final: bool, out: bytes) -> None:
        """Check the bytes after the end of the DEFLATE stream.

        RFC 7692 7.2.3.4: a sender that ends a message with a BFINAL block
        adds one 0x00 octet so that the 00 00 ff ff the receiver appends
        forms an empty stored block. So the sender's bytes after the end may
        be nothing or that octet (plus our own four); anything else is not
        part of this message's DEFLATE data, and is refused, never dropped.
        ``out`` is what this piece inflated to before the end: it is handed
        on with the error, and the error's text names no count, so that the
        events and the error are the same however the frame was split.
        """
        trailing = self._trailing + extra
        sent = trailing[:-4] if final else trailing
        if sent not in (b"", b"\x00"):
            raise TransformError(Violation.INVALID_COMPRESSED_DATA,
                                 "bytes other than one 0x00 octet after the end of the "
                                 "DEFLATE stream (a BFINAL block; RFC 7692 7.2.3.4)", out)
        self._trailing = trailing

    def window(self) -> bytes:
        """The receiver's sliding window once this message is inflated (RFC 7692 7.2.2).

        Its last bytes are this message's output; older ones come from
        before the message, read back from the decompressor saved at its
        start with a block that copies them (`_copy_block`).
        """
        extension = self._extension
        size = 1 << extension.remote_window_bits
        tail = bytes(self._tail[-size:])
        missing = min(size - len(tail), extension._history)
        if missing <= 0 or self._start is None:
            return tail
        before = self._start.decompress(_copy_block(missing))[:missing]
        return before + tail


class _Deflate:
    """Compresses one message sent piece by piece (see `PerMessageDeflate.outgoing_pieces`)."""

    __slots__ = ("_extension",)

    def __init__(self, extension: PerMessageDeflate) -> None:
        self._extension = extension

    def feed(self, data: bytes, final: bool) -> bytes:
        """The compressed piece: sync-flushed, without its tail if ``final``."""
        extension = self._extension
        if not data and not final:
            return b""              # nothing to say yet (an empty CONTINUATION frame)
        compressor = extension._sending()
        out: bytes = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        if final:
            extension._sent_message()
            if out.endswith(_TAIL):
                out = out[:-4]
        return out


class PerMessageDeflate:
    """The negotiated permessage-deflate extension for one connection and role.

    Pass it to both `MessageReader` and `MessageWriter` of that connection
    (``extensions=[deflate]``). It owns RSV1; each direction keeps its own
    zlib context (kept between messages unless "no context takeover" was
    negotiated for that direction).

    Memory: zlib's state is allocated when first needed (the compressor with
    the first compressed message sent, the decompressor with the first one
    received) and, where no context is taken over, freed after each message:
    an idle connection holds none. Its size follows the window bits and
    ``mem_level``: about 2**(bits+2) + 2**(mem_level+9) bytes to compress and
    2**bits + 7 KiB to inflate.

    Args:
        role: this endpoint's role.
        params: the negotiated parameters (the server's response).
        compress_level: zlib level for outgoing messages, 0 (store) to 9.
        mem_level: zlib's memLevel for outgoing messages, 1 (least memory) to 9.
        min_size: messages shorter than this many bytes are sent uncompressed.
    """

    rsv_bits = RSV1

    def __init__(self, role: Role, params: DeflateParams | None = None, *,
                 compress_level: int = DEFAULT_COMPRESS_LEVEL,
                 mem_level: int = DEFAULT_MEM_LEVEL, min_size: int = 0) -> None:
        self.role = check_role(role)
        if params is None:
            params = DeflateParams()
        elif not isinstance(params, DeflateParams):
            raise TypeError(f"params must be DeflateParams or None, not {params!r}")
        _check_level(compress_level)
        _check_mem_level(mem_level)
        check_count("min_size", min_size, optional=False)
        self.min_size = min_size
        self.params = params
        server = role is Role.SERVER
        local, remote = ("server", "client") if server else ("client", "server")
        local_bits = getattr(params, f"{local}_max_window_bits")
        remote_bits = getattr(params, f"{remote}_max_window_bits")
        # This endpoint compresses with its own window (zlib: 9-15 bits) and
        # inflates the peer's (8-15 bits).
        _check_bits(f"params.{local}_max_window_bits", None if local_bits is True else local_bits,
                    low=9)
        _check_bits(f"params.{remote}_max_window_bits",
                    None if remote_bits is True else remote_bits, low=8)
        self.local_window_bits = 15 if local_bits in (None, True) else int(local_bits)
        self.remote_window_bits = 15 if remote_bits in (None, True) else int(remote_bits)
        self.local_no_context_takeover = (params.server_no_context_takeover if server
                                          else params.client_no_context_takeover)
        self.remote_no_context_takeover = (params.client_no_context_takeover if server
                                           else params.server_no_context_takeover)
        self.compress_level = compress_level
        self.mem_level = mem_level
        self._compressor: zlib._Compress | None = None      # created when first needed
        self._decompressor: zlib._Decompress | None = None
        # Bytes in the receive window (up to its size): how far back the next
        # message may refer, and how much of it a copy block can read back.
        self._history = 0

    def __repr__(self) -> str:
        return f"PerMessageDeflate({self.role.name}, {self.params.header()!r})"

    # -- the Extension interface --------------------------------------------------

    def incoming(self, opcode: Opcode, rsv: int) -> _Inflate | None:
        """A message whose first frame has RSV1 set is compressed (RFC 7692 6)."""
        return _Inflate(self) if rsv & RSV1 else None

    def outgoing(self, opcode: Opcode, payload: bytes) -> bytes | None:
        """Compress a message to send (RFC 7692 7.2.1); RSV1 goes on its first frame.

        Returns None (send it uncompressed) for a message shorter than
        ``min_size``.
        """
        if len(payload) < self.min_size:
            return None
        compressor = self._sending()
        data: bytes = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self._sent_message()
        # A sync flush ends with an empty stored block: its last four bytes
        # are left off (7.2.1) and put back by the receiver (7.2.2).
        return data[:-4] if data.endswith(_TAIL) else data

    def outgoing_pieces(self, opcode: Opcode) -> _Deflate:
        """Start a message sent piece by piece: each piece is compressed and
        sync-flushed as it comes, so the receiver can inflate it at once;
        the last piece's flush loses its four tail bytes (RFC 7692 7.2.1).
        ``min_size`` does not apply (the size is not known in advance)."""
        return _Deflate(self)

    def _sending(self) -> zlib._Compress:
        """The compressor for this endpoint's messages, created when first needed."""
        compressor = self._compressor
        if compressor is None:
            compressor = self._compressor = zlib.compressobj(
                self.compress_level, zlib.DEFLATED, -self.local_window_bits, self.mem_level)
        return compressor

    def _sent_message(self) -> None:
        """A message went out whole: without context takeover, forget the window."""
        if self.local_no_context_takeover:
            self._compressor = None

    # -- inflating ------------------------------------------------------------------

    def _receiving(self) -> zlib._Decompress:
        """The decompressor for the peer's messages, created when first needed."""
        decompressor = self._decompressor
        if decompressor is None:
            decompressor = self._decompressor = zlib.decompressobj(
                wbits=-self.remote_window_bits)
        return decompressor

    def _received_message(self, message: _Inflate) -> None:
        """A compressed message was inflated whole: prepare for the next one."""
        if self.remote_no_context_takeover:
            self._decompressor = None           # a fresh window each time (7.2.2)
            self._history = 0
            return
        size = 1 << self.remote_window_bits
        if message._ended:
            # The stream ended (BFINAL): the next message starts a new DEFLATE
            # stream, but with the same sliding window (7.2.2): give it as the
            # dictionary of the next decompressor.
            window = message.window()
            self._decompressor = zlib.decompressobj(
                wbits=-self.remote_window_bits, zdict=window) if window else None
        self._history = min(size, self._history + message._produced)
