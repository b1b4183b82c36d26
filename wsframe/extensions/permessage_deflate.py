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

import zlib
from dataclasses import dataclass

from ..checks import check_role
from ..errors import ProtocolError, Violation
from ..handshake import HandshakeError, parse_extensions
from ..header import RSV1
from ..opcodes import Opcode
from ..roles import Role

__all__ = ["EXTENSION_NAME", "DeflateParams", "PerMessageDeflate", "accept_offer",
           "accept_response", "offer"]

#: The extension's registered name (RFC 7692 section 7).
EXTENSION_NAME = "permessage-deflate"

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
    if not value.isdigit() or not 8 <= int(value) <= 15 or value != str(int(value)):
        raise HandshakeError(f"{name}={value!r}: the value must be 8 to 15 (RFC 7692 7.1.2)")
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


def _check_level(level: object) -> None:
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"compress_level must be an int from 0 to 9, not {type(level).__name__}")
    if not 0 <= level <= 9:
        raise ValueError(f"compress_level must be 0 (store) to 9 (smallest), not {level}")


def offer(params: DeflateParams | None = None) -> str:
    """A client's ``Sec-WebSocket-Extensions`` offer (default: support every parameter)."""
    if params is None:
        params = DeflateParams(client_max_window_bits=True)
    return params.header()


def accept_offer(header: str, *, server_no_context_takeover: bool = False,
                 client_no_context_takeover: bool = False,
                 server_max_window_bits: int | None = None,
                 client_max_window_bits: int | None = None,
                 compress_level: int = 6,
                 ) -> tuple[str, PerMessageDeflate] | None:
    """Server side: pick the first acceptable permessage-deflate offer in ``header``.

    The keyword arguments are the server's own wishes (``compress_level`` is
    the zlib level, 1-9, for the messages it sends). Returns the response
    element for ``Sec-WebSocket-Extensions`` and the negotiated extension, or
    None when no offer is acceptable (then answer without the extension). An
    offer with unknown, duplicate or invalid parameters is declined (RFC
    7692 7.1: "a server MUST decline"), as is one that requires an 8-bit
    server window, which zlib cannot compress with.
    """
    _check_header(header)
    _check_bits("server_max_window_bits", server_max_window_bits, low=9)
    _check_bits("client_max_window_bits", client_max_window_bits, low=8)
    _check_level(compress_level)
    for name, params in parse_extensions(header):
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
        response = DeflateParams(
            server_no_context_takeover=wanted.server_no_context_takeover
            or server_no_context_takeover,
            client_no_context_takeover=wanted.client_no_context_takeover
            or client_no_context_takeover,
            server_max_window_bits=server_bits
            if wanted.server_max_window_bits is not None or server_bits < 15 else None,
            client_max_window_bits=client_bits,
        )
        return response.header(), PerMessageDeflate(Role.SERVER, response,
                                                    compress_level=compress_level)
    return None


def accept_response(header: str, sent: DeflateParams | None = None) -> PerMessageDeflate:
    """Client side: check the server's response to `offer` (RFC 7692 7.1).

    ``sent`` is what the client offered (the default offer if None). Raises
    HandshakeError if the response is not a valid answer to it; the client
    must then fail the connection.
    """
    _check_header(header)
    if sent is None:
        sent = DeflateParams(client_max_window_bits=True)
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
    return PerMessageDeflate(Role.CLIENT, params)


class _Inflate:
    """Inflates one received message, piece by piece, within a size budget."""

    __slots__ = ("_extension",)

    def __init__(self, extension: PerMessageDeflate) -> None:
        self._extension = extension

    def feed(self, data: bytes, final: bool, limit: int | None) -> bytes:
        return self._extension._inflate(data, final, limit)


class PerMessageDeflate:
    """The negotiated permessage-deflate extension for one connection and role.

    Pass it to both `MessageReader` and `MessageWriter` of that connection
    (``extensions=[deflate]``). It owns RSV1; each direction keeps its own
    zlib context (kept between messages unless "no context takeover" was
    negotiated for that direction).

    Args:
        role: this endpoint's role.
        params: the negotiated parameters (the server's response).
        compress_level: zlib level for outgoing messages, 1 (fastest) to 9;
            zlib's default is 6.
    """

    rsv_bits = RSV1

    def __init__(self, role: Role, params: DeflateParams | None = None, *,
                 compress_level: int = 6) -> None:
        self.role = check_role(role)
        if params is None:
            params = DeflateParams()
        elif not isinstance(params, DeflateParams):
            raise TypeError(f"params must be DeflateParams or None, not {params!r}")
        _check_level(compress_level)
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
        self._level = compress_level
        self._compressor = self._new_compressor()
        self._decompressor = zlib.decompressobj(wbits=-self.remote_window_bits)

    def __repr__(self) -> str:
        return f"PerMessageDeflate({self.role.name}, {self.params.header()!r})"

    def _new_compressor(self) -> zlib._Compress:
        return zlib.compressobj(self._level, zlib.DEFLATED, -self.local_window_bits)

    # -- the Extension interface --------------------------------------------------

    def incoming(self, opcode: Opcode, rsv: int) -> _Inflate | None:
        """A message whose first frame has RSV1 set is compressed (RFC 7692 6)."""
        return _Inflate(self) if rsv & RSV1 else None

    def outgoing(self, opcode: Opcode, payload: bytes) -> bytes:
        """Compress a message to send (RFC 7692 7.2.1); RSV1 goes on its first frame."""
        data: bytes = self._compressor.compress(payload) + self._compressor.flush(
            zlib.Z_SYNC_FLUSH)
        if data.endswith(_TAIL):
            data = data[:-4]
        if self.local_no_context_takeover:
            self._compressor = self._new_compressor()
        return data

    # -- inflating ------------------------------------------------------------------

    def _inflate(self, data: bytes, final: bool, limit: int | None) -> bytes:
        if final:
            data += _TAIL
        decompressor = self._decompressor
        try:
            if limit is None:
                out = decompressor.decompress(data)
            else:
                # Never more than one byte past the budget: the reader
                # turns that byte into 1009 (decompression bombs).
                out = decompressor.decompress(data, limit + 1)
        except zlib.error as exc:
            raise ProtocolError(Violation.INVALID_COMPRESSED_DATA,
                                f"compressed data does not inflate: {exc}") from None
        if final:
            if decompressor.eof:
                # The sender ended the DEFLATE stream (a BFINAL block, RFC
                # 7692 7.2.3.4): the next message starts a new stream, which
                # may still refer back to this message's data.
                history = out[-(1 << self.remote_window_bits):]
                self._decompressor = zlib.decompressobj(wbits=-self.remote_window_bits,
                                                        zdict=history)
            elif self.remote_no_context_takeover:
                self._decompressor = zlib.decompressobj(wbits=-self.remote_window_bits)
        return out
