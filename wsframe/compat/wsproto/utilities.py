"""wsproto's ``utilities``: its exceptions and the small header helpers embedders import.

The accept token is computed by wsframe (`wsframe.handshake.accept_key`);
the rest are a few lines each.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...handshake import GUID, accept_key

if TYPE_CHECKING:
    from .events import Event

__all__ = ["ACCEPT_GUID", "LocalProtocolError", "ProtocolError", "RemoteProtocolError",
           "generate_accept_token", "generate_nonce", "normed_header_dict",
           "split_comma_header"]

#: RFC 6455 section 1.3: the GUID appended to the key, as bytes.
ACCEPT_GUID = GUID.encode("ascii")


class ProtocolError(Exception):
    """The base of both errors below."""


class LocalProtocolError(ProtocolError):
    """This side asked for something its state or RFC 6455 does not allow
    (sending a message after a Close, a second accept, ...)."""


class RemoteProtocolError(ProtocolError):
    """The peer's handshake is not one this side can accept.

    ``event_hint`` is the event to answer with (a `RejectConnection` with
    the right status), or None.
    """

    def __init__(self, message: str, event_hint: Event | None = None) -> None:
        super().__init__(message)
        self.event_hint = event_hint


def normed_header_dict(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Headers as a dict, repeated names joined with ``b", "`` (names kept as given)."""
    joined: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        joined.setdefault(name, []).append(value)
    return {name: b", ".join(values) for name, values in joined.items()}


def split_comma_header(value: bytes) -> list[str]:
    """A comma-separated header value as stripped ASCII strings.

    Like wsproto's, it splits on every comma, quoted or not: fine for
    subprotocols and the extension values used in practice.
    """
    return [piece.decode("ascii").strip() for piece in value.split(b",")]


def generate_nonce() -> bytes:
    """A fresh ``Sec-WebSocket-Key``: base64 of 16 random bytes (RFC 6455 4.1)."""
    return base64.b64encode(os.urandom(16))


def generate_accept_token(token: bytes) -> bytes:
    """The ``Sec-WebSocket-Accept`` value for a key (RFC 6455 4.2.2), as bytes."""
    return accept_key(token.decode("ascii")).encode("ascii")
