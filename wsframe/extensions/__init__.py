"""WebSocket extensions (RFC 6455 section 9): the interface and permessage-deflate.

`PerMessageDeflate` and its handshake helpers (`offer`, `accept_offer`,
`negotiate`, `accept_response`) are defined in `wsframe.extensions.permessage_deflate` and
importable from here as well.
"""

from .base import Extension, IncomingMessage, OutgoingMessage, TransformError
from .permessage_deflate import (
    DeflateParams,
    PerMessageDeflate,
    accept_offer,
    accept_response,
    negotiate,
    offer,
)

__all__ = ["DeflateParams", "Extension", "IncomingMessage", "OutgoingMessage",
           "PerMessageDeflate", "TransformError", "accept_offer", "accept_response",
           "negotiate", "offer"]
