"""Argument checks at the API boundary, written once.

Strategy: every public constructor and function checks its arguments before
doing anything, and a bad one gets a `TypeError` (wrong type) or
`ValueError` (right type, wrong value) whose message names the argument and
says what is allowed, never a traceback from deep inside. These helpers are
those checks; the hot paths never call them.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn, Protocol

from .roles import Role

if TYPE_CHECKING:
    from .extensions.base import Extension

__all__ = ["Flag", "check_bytes", "check_count", "check_extensions", "check_role", "reject"]


def reject(name: str, value: object, allowed: str) -> NoReturn:
    """Raise ValueError for ``name=value``: the right type, a value outside ``allowed``."""
    raise ValueError(f"{name} must be {allowed}, not {value!r}")


class Flag(Protocol):
    """The type of a yes/no argument: True or False (or anything with ``__bool__``).

    Annotating flags this way rather than ``bool`` keeps one behaviour in both
    builds: the compiled build (mypyc) would refuse anything but a bool with
    a message of its own, the pure build would take any true value.
    """

    def __bool__(self) -> bool: ...


def check_count(name: str, value: object, *, minimum: int = 0,
                optional: bool = True) -> int | None:
    """An integer >= ``minimum`` (anything with ``__index__``, bools refused), or
    None when ``optional``. Returns it as an int."""
    if value is None and optional:
        return None
    allowed = f"an int >= {minimum}" + (" or None" if optional else "")
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be {allowed}, not {type(value).__name__}")
    number = operator.index(value)      # type: ignore[arg-type]  # has __index__
    if number < minimum:
        reject(name, value, allowed)
    return number


def check_role(value: object, name: str = "role") -> Role:
    """`Role.SERVER` or `Role.CLIENT` (a string such as "server" is refused)."""
    if not isinstance(value, Role):
        raise TypeError(f"{name} must be Role.SERVER or Role.CLIENT, not {value!r}")
    return value


def check_bytes(name: str, value: object) -> bytes:
    """bytes, bytearray or memoryview, as bytes."""
    if value.__class__ is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)         # a subclass of bytes too, as plain bytes
    raise TypeError(f"{name} must be bytes, bytearray or memoryview, not "
                    f"{type(value).__name__}")


def check_extensions(value: object, name: str = "extensions") -> tuple[Extension, ...]:
    """An iterable of negotiated extensions (see `wsframe.extensions.Extension`).

    Each must have ``rsv_bits`` (an int made of 0x40, 0x20, 0x10) and the
    ``incoming`` and ``outgoing`` methods; no two may claim the same RSV bit.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be an iterable of negotiated extensions (for example "
                        f"[PerMessageDeflate(...)]), or () for none, not {value!r}")
    extensions = tuple(value)
    claimed = 0
    for index, extension in enumerate(extensions):
        bits = getattr(extension, "rsv_bits", None)
        if not (callable(getattr(extension, "incoming", None))
                and callable(getattr(extension, "outgoing", None))
                and isinstance(bits, int) and not isinstance(bits, bool)):
            raise TypeError(f"{name}[{index}] must be an extension (rsv_bits, incoming() and "
                            f"outgoing(), see wsframe.extensions.Extension), not {extension!r}")
        if bits & ~0x70:
            raise ValueError(f"{name}[{index}].rsv_bits must be made of 0x40 (RSV1), 0x20 "
                             f"(RSV2) and 0x10 (RSV3), not {bits!r}")
        if claimed & bits:
            raise ValueError(f"{name}[{index}] claims an RSV bit another extension claims: "
                             f"{extension!r}")
        claimed |= bits
    return extensions
