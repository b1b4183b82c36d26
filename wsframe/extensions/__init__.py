"""WebSocket extensions (RFC 6455 section 9): the interface and permessage-deflate.

`PerMessageDeflate` and its handshake helpers (`offer`, `accept_offer`,
`accept_response`) are defined in `wsframe.extensions.permessage_deflate` and
importable from here as well.
"""

from .base import Extension, IncomingMessage, TransformError
from .permessage_deflate import PerMessageDeflate, accept_offer, accept_response, offer

__all__ = ["Extension", "IncomingMessage", "PerMessageDeflate", "TransformError",
           "accept_offer", "accept_response", "offer"]
