"""The header type of wsproto's API: a list of ``(name, value)`` byte pairs."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["Headers"]

#: HTTP headers as wsproto passes them: names and values as bytes, in order.
Headers: TypeAlias = list[tuple[bytes, bytes]]
