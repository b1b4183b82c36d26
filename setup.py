"""Optional compiled build: ``WSFRAME_MYPYC=1 pip install .`` (or ``make compiled``).

mypyc compiles the hot modules (the receive path, masking, UTF-8) from the
same, unchanged source into C extensions, and the small C helper
wsframe/_speedups.c (payload masking, which mypyc cannot make fast: see
masking.py) is built beside them. Without WSFRAME_MYPYC, or if mypyc is
missing or fails, the package installs as pure Python, exactly as without
this file. Everything else about the package is in pyproject.toml.
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
    "wsframe/header.py",
    "wsframe/masking.py",
    "wsframe/utf8.py",
    "wsframe/decoder.py",
    "wsframe/parser.py",
    "wsframe/messages.py",
]


def compiled_extensions() -> list[object]:
    """mypyc's extension modules, or [] for the pure-Python build."""
    if os.environ.get("WSFRAME_MYPYC", "") in ("", "0"):
        return []
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
    return [*modules, Extension("wsframe._speedups", ["wsframe/_speedups.c"])]


setup(ext_modules=compiled_extensions())
