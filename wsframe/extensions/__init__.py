"""WebSocket extensions (RFC 6455 section 9): the interface and permessage-deflate."""

from .base import Extension, IncomingMessage, TransformError

__all__ = ["Extension", "IncomingMessage", "TransformError"]
