"""Optional native builds; without either variable the package is pure Python.

* ``WSFRAME_MYPYC=1 pip install .`` (``make compiled``): mypyc compiles the
  hot modules (the receive path, masking, UTF-8) from the same, unchanged
  source into C extensions, and the small C helper wsframe/_speedups.c
  (payload masking, which mypyc cannot make fast: see masking.py) is built
  beside them. If mypyc is missing or fails, the package installs as pure
  Python.
* ``WSFRAME_SPEEDUPS=1 pip install .`` (``make speedups``): the C helper
  alone, beside the pure-Python modules: wsframe's own masking accelerator.

Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

# The modules mypyc compiles: where the time goes. The rest (the CLI, the
# handshake, close-code knowledge, the writer) stays interpreted.
COMPILED = [
    "wsframe/frame.py",
    "wsframe/events.py",
    "wsframe/header_bits.py",
    "wsframe/masking.py",
    "wsframe/utf8.py",
    "wsframe/decoder.py",
    "wsframe/parser.py",
    "wsframe/messages.py",
]


SPEEDUPS = Extension("wsframe._speedups", ["wsframe/_speedups.c"])


def _asked(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def compiled_extensions() -> list[object]:
    """The extension modules asked for, or [] for the pure-Python build."""
    if not _asked("WSFRAME_MYPYC"):
        return [SPEEDUPS] if _asked("WSFRAME_SPEEDUPS") else []
    try:
        from mypyc.build import mypycify  # noqa: PLC0415 (only for the compiled build)
    except ImportError:
        print("WSFRAME_MYPYC is set but mypyc is not installed: building pure Python",
              file=sys.stderr)
        return []
    try:
        modules = list(mypycify(COMPILED, opt_level="3"))
    except (Exception, SystemExit) as exc:  # a compile error must not break the install
        print(f"mypyc could not compile wsframe ({exc}): building pure Python",
              file=sys.stderr)
        return []
    return [*modules, SPEEDUPS]


setup(ext_modules=compiled_extensions())
