"""wsproto's ``extensions``: `Extension` and `PerMessageDeflate`, negotiated by wsframe.

An embedder lists `PerMessageDeflate` objects in its `Request` (client) or
`AcceptConnection` (server); the handshake asks each to `offer`, `accept`
or `finalize`, and the connection then compresses with wsframe's own
`wsframe.extensions.permessage_deflate.PerMessageDeflate`, built for this
side's role from the agreed parameters. The agreement itself is wsframe's
(`negotiate`, `DeflateParams`), so offers are parsed strictly (quoted
values, duplicates, unknown parameters: RFC 7692 7.1).

wsproto's frame-level hooks (``frame_inbound_header`` and the rest) are
not reproduced: an `Extension` other than `PerMessageDeflate` can take part
in the handshake, but a connection refuses to run one that is enabled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ...extensions.permessage_deflate import DeflateParams, negotiate
from ...extensions.permessage_deflate import PerMessageDeflate as _Deflate
from ...handshake import HandshakeError
from ...roles import Role

__all__ = ["SUPPORTED_EXTENSIONS", "Extension", "PerMessageDeflate"]


class Extension(ABC):
    """An extension that takes part in the opening handshake (RFC 6455 9).

    ``name`` is its registered name; `offer` is what a client sends,
    `accept` a server's answer to one offer, `finalize` a client's reading
    of the server's answer. `enabled` tells whether it was agreed.
    """

    name: str

    def enabled(self) -> bool:
        """Whether the handshake agreed on this extension."""
        return False

    @abstractmethod
    def offer(self) -> bool | str:
        """A client's offer: parameters as a string, True for the bare name, False for none."""

    def accept(self, offer: str) -> bool | str | None:
        """A server's answer to one offer: parameters, True (bare name), or None to decline."""
        return None

    def finalize(self, offer: str) -> None:  # noqa: B027
        """A client's reading of the server's answer (the whole element)."""


class PerMessageDeflate(Extension):
    """permessage-deflate (RFC 7692) with wsproto's constructor and attributes.

    Window sizes are 9 to 15 bits (a ValueError otherwise, as in wsproto).
    After the handshake, `params` holds the agreement as wsframe's
    `DeflateParams`.
    """

    name = "permessage-deflate"

    DEFAULT_CLIENT_MAX_WINDOW_BITS = 15
    DEFAULT_SERVER_MAX_WINDOW_BITS = 15

    def __init__(self, client_no_context_takeover: bool = False,
                 client_max_window_bits: int | None = None,
                 server_no_context_takeover: bool = False,
                 server_max_window_bits: int | None = None) -> None:
        self.client_no_context_takeover = client_no_context_takeover
        self.server_no_context_takeover = server_no_context_takeover
        self._client_max_window_bits = self.DEFAULT_CLIENT_MAX_WINDOW_BITS
        self._server_max_window_bits = self.DEFAULT_SERVER_MAX_WINDOW_BITS
        if client_max_window_bits is not None:
            self.client_max_window_bits = client_max_window_bits
        if server_max_window_bits is not None:
            self.server_max_window_bits = server_max_window_bits
        #: The agreed parameters, once `accept` or `finalize` agreed; else None.
        self.params: DeflateParams | None = None

    @staticmethod
    def _check_bits(value: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 9 <= value <= 15:
            raise ValueError(f"Window size must be between 9 and 15 inclusive, not {value!r}")
        return value

    @property
    def client_max_window_bits(self) -> int:
        """The client's LZ77 window, in bits (9-15)."""
        return self._client_max_window_bits

    @client_max_window_bits.setter
    def client_max_window_bits(self, value: int) -> None:
        self._client_max_window_bits = self._check_bits(value)

    @property
    def server_max_window_bits(self) -> int:
        """The server's LZ77 window, in bits (9-15)."""
        return self._server_max_window_bits

    @server_max_window_bits.setter
    def server_max_window_bits(self, value: int) -> None:
        self._server_max_window_bits = self._check_bits(value)

    def enabled(self) -> bool:
        """Whether the handshake agreed on permessage-deflate."""
        return self.params is not None

    def offer(self) -> str:
        """The client's offer: both windows, and the no-context-takeover flags set."""
        parts = [f"client_max_window_bits={self.client_max_window_bits}",
                 f"server_max_window_bits={self.server_max_window_bits}"]
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        return "; ".join(parts)

    def accept(self, offer: str) -> str | None:
        """Server: agree to one offer (``"permessage-deflate; ..."``) or decline it (None).

        The agreement is wsframe's `negotiate`, with this object's settings
        as the server's wishes. Returns the response's parameters (without
        the name; "" for none).
        """
        try:
            params = negotiate(offer, server_no_context_takeover=self.server_no_context_takeover,
                               client_no_context_takeover=self.client_no_context_takeover,
                               server_max_window_bits=self.server_max_window_bits,
                               client_max_window_bits=self.client_max_window_bits)
        except (HandshakeError, ValueError):
            return None
        if params is None:
            return None
        self._agree(params)
        return params.header().partition(";")[2].strip()

    def finalize(self, offer: str) -> None:
        """Client: take the server's answer (the whole element) as the agreement.

        Raises ValueError if the answer is malformed or its windows are out
        of range (the handshake turns that into a `RemoteProtocolError`).
        """
        params = DeflateParams.from_header(offer)
        for bits in (params.server_max_window_bits, params.client_max_window_bits):
            if isinstance(bits, int) and not isinstance(bits, bool):
                self._check_bits(bits)
        self._agree(params)

    def _agree(self, params: DeflateParams) -> None:
        self.params = params
        self.client_no_context_takeover = params.client_no_context_takeover
        self.server_no_context_takeover = params.server_no_context_takeover
        if isinstance(params.client_max_window_bits, int) and \
                not isinstance(params.client_max_window_bits, bool):
            self._client_max_window_bits = params.client_max_window_bits
        if params.server_max_window_bits is not None:
            self._server_max_window_bits = params.server_max_window_bits

    def codec_extension(self, client: bool) -> _Deflate:
        """wsframe's extension object for one side of the agreed connection."""
        if self.params is None:
            raise ValueError("permessage-deflate was not agreed in the handshake")
        return _Deflate(Role.CLIENT if client else Role.SERVER, self.params)

    def __repr__(self) -> str:
        parts = [f"client_max_window_bits={self.client_max_window_bits}"]
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        return f"<{type(self).__name__} {'; '.join(parts)}>"


#: Every extension this module implements, by name.
SUPPORTED_EXTENSIONS: dict[str, type[Extension]] = {PerMessageDeflate.name: PerMessageDeflate}
