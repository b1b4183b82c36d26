"""What the optional compiled build (mypyc, see setup.py) needs in the source.

`mypyc_attr` is mypy_extensions' class decorator for mypyc. Here it lets
Python classes subclass the compiled ones (FrameParser, MessageReader, or a
layer of your own on FrameDecoder). mypy_extensions is not a runtime
dependency, so outside type checking it is a no-op; mypyc acts on it when
it compiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["mypyc_attr"]

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr as mypyc_attr  # noqa: PLC0414 (re-exported)
else:
    def mypyc_attr(*_args: object, **_kwargs: object) -> Any:
        """No-op: see the module documentation."""
        return lambda cls: cls
