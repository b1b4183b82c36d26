"""Which end of a connection an endpoint is (RFC 6455 section 5.1)."""

from __future__ import annotations

from enum import Enum

__all__ = ["Role"]


class Role(Enum):
    """Which end of the connection this endpoint is (RFC 6455 section 5.1).

    A client masks every frame it sends and receives only unmasked frames; a
    server is the other way round. So a SERVER parser requires the MASK bit
    and a CLIENT parser forbids it.
    """

    SERVER = "server"
    CLIENT = "client"
