"""The codec stays sans-I/O: no module of it imports the tools that do I/O
(wsframe.tools: capture files, the live proxy), sockets, event loops,
subprocesses or clocks. Only the command line (wsframe.cli, wsframe.__main__)
reaches the tools, and only when a command needs them. Other libraries' APIs
(wsframe.compat) stand on the codec: the codec never imports them, and they
are sans-I/O too (and need no h11)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import wsframe

# The source being tested: the checkout's, or the installed package's (the
# sdist's tests run against the installed wheel, with no wsframe/ beside them).
_CHECKOUT = Path(__file__).resolve().parent.parent / "wsframe"
PACKAGE = _CHECKOUT if (_CHECKOUT / "decoder.py").exists() \
    else Path(wsframe.__file__).resolve().parent
FRONT_ENDS = {"cli.py", "__main__.py"}
# Modules that do I/O or read clocks; the codec never imports them.
FORBIDDEN = {"asyncio", "socket", "selectors", "ssl", "subprocess", "time", "datetime",
             "signal", "http.client", "urllib.request", "wsframe.tools", "wsframe.compat"}


def codec_modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py")
                  if not {"tools", "compat"} & set(path.relative_to(PACKAGE).parts)
                  and path.name not in FRONT_ENDS)


def compat_modules() -> list[Path]:
    return sorted(path for path in (PACKAGE / "compat").rglob("*.py")
                  if path.name not in FRONT_ENDS)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports made absolute."""
    package = ".".join(("wsframe", *path.relative_to(PACKAGE).parent.parts))
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def test_no_codec_module_imports_io_or_the_tools() -> None:
    modules = codec_modules()
    assert len(modules) > 15            # the walk found the codec
    offending = {}
    for path in modules:
        bad = {name for name in imported(path)
               if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
        if bad:
            offending[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offending == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The AST walk would catch both spellings (guards the test above)."""
    sample = PACKAGE / "extensions" / "_probe_for_test.py"
    names = set()
    for source in ("import asyncio\n", "from ..tools import capture\n"):
        sample.write_text(source)
        try:
            names |= imported(sample)
        finally:
            sample.unlink()
    assert {"asyncio", "wsframe.tools.capture"} <= names


def test_importing_wsframe_loads_no_tools_and_no_event_loop() -> None:
    """(socket itself gets loaded by the standard library: importlib.metadata
    imports email.utils, which imports it; the AST check above is the rule.)"""
    code = ("import sys, wsframe, wsframe.connection, wsframe.handshake, wsframe.dissect, "
            "wsframe.extensions.permessage_deflate; "
            "print(sorted(m for m in sys.modules if m.startswith('wsframe.tools') "
            "or m == 'asyncio' or m.startswith('asyncio.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_compat_stands_on_the_codec_without_io_or_h11() -> None:
    """wsframe.compat (wsproto's API) imports neither I/O nor the tools nor h11;
    it may import itself, which the codec may not (checked above)."""
    modules = compat_modules()
    assert len(modules) >= 8            # wsframe.compat and wsframe.compat.wsproto's modules
    forbidden = (FORBIDDEN - {"wsframe.compat"}) | {"h11", "wsproto"}
    offending = {}
    for path in modules:
        bad = {name for name in imported(path)
               if any(name == f or name.startswith(f + ".") for f in forbidden)}
        if bad:
            offending[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offending == {}


def test_importing_wsframe_loads_no_compat_module() -> None:
    code = ("import sys, wsframe, wsframe.connection, wsframe.handshake, "
            "wsframe.extensions.permessage_deflate; "
            "print(sorted(m for m in sys.modules if m.startswith('wsframe.compat')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
