"""The package as built and installed, not as an editable checkout (``make test-dist``).

An editable install hides packaging mistakes (a subpackage left out of the
wheel, a test helper left out of the sdist). This test builds the wheel and
the sdist into a temporary folder, installs the wheel into a fresh venv, and
there checks what a new user meets first: the README's Python blocks, the
command line, typing for a user's script, the metadata, and that the sdist's
own tests run against the installed wheel.

It needs network access to PyPI (the build backend and the test tools are
installed into the fresh venv), so it runs in ``make test-dist``, which
``.ci/run`` calls, not in ``make test``.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USER_SCRIPT = '''\
"""A user's script: the public API, the extension included, under mypy --strict."""
from wsframe import (BinaryMessage, CloseReceived, FrameParser, MessageReader, MessageWriter,
                     ProtocolError, Role, TextMessage, build_close, build_frame, Opcode)
from wsframe.extensions.permessage_deflate import PerMessageDeflate, accept_offer, accept_response
from wsframe.handshake import accept_key, check_request, parse_head

accepted = accept_offer("permessage-deflate; client_max_window_bits")
assert accepted is not None
header, server_deflate = accepted
client_deflate: PerMessageDeflate = accept_response(header)
writer = MessageWriter(Role.CLIENT, extensions=[client_deflate])
reader = MessageReader(Role.SERVER, extensions=[server_deflate], max_message_size=2**22)
events = list(reader.feed(writer.text("Hello") + writer.binary(b"x" * 1000)))
text: str = events[0].text if isinstance(events[0], TextMessage) else ""
data: bytes = events[1].data if isinstance(events[1], BinaryMessage) else b""
try:
    list(FrameParser(Role.SERVER).feed(build_frame(Opcode.TEXT, b"unmasked")))
except ProtocolError as err:
    reply: bytes = build_close(err.code, err.reason)
key: str = accept_key("dGhlIHNhbXBsZSBub25jZQ==")
closed = [e for e in events if isinstance(e, CloseReceived)]
print(text, len(data), key)
'''


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                            timeout=900, check=False)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Wheel and sdist built from this checkout, the wheel installed into a fresh venv."""
    tmp = tmp_path_factory.mktemp("dist")
    source = tmp / "source"          # a copy, so that building leaves no trace here
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv*", ".build-speedups", ".git", "build", "dist", "*.egg-info", ".tools", "reports",
        "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
        "node_modules"))
    out = tmp / "out"
    run(sys.executable, "-m", "build", "--outdir", out, source)
    wheel = next(out.glob("wsframe-*-py3-none-any.whl"))
    sdist = next(out.glob("wsframe-*.tar.gz"))
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel)
    yield {"tmp": tmp, "wheel": wheel, "sdist": sdist, "venv": venv, "python": python}


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_wheel_holds_every_module_the_licence_and_no_dependency(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as archive:
        names = set(archive.namelist())
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "wsframe").rglob("*.py")}
    assert source <= names, f"missing from the wheel: {sorted(source - names)}"
    assert "wsframe/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = metadata(built["wheel"])
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert meta.get_all("Requires-Dist") is None        # zero runtime dependencies
    versions = sorted(c.rsplit(" ", 1)[1] for c in meta.get_all("Classifier") or []
                      if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert versions == ["3.10", "3.11", "3.12", "3.13"]   # what `make test-matrix` runs
    assert meta["Requires-Python"] == ">=3.10"


def test_installed_version_and_cli(built: dict[str, Path]) -> None:
    python, bindir = built["python"], built["venv"] / "bin"
    version = run(python, "-c", "import importlib.metadata as m; print(m.version('wsframe'))",
                  cwd=built["tmp"]).stdout.strip()
    assert run(bindir / "wsframe", "--version").stdout.strip() == \
        f"wsframe {version} (pure Python)"
    located = run(python, "-c", "import wsframe; print(wsframe.__file__)", cwd=built["tmp"])
    assert str(built["venv"]) in located.stdout        # the wheel, not a checkout
    dissected = run(bindir / "wsframe", "dissect", ROOT / "samples" / "valid-exchange.bin")
    assert dissected.stdout.rstrip().endswith("VALID: 5 frames, 2 complete messages.")


def test_sdist_runs_its_own_tests_against_the_installed_wheel(built: dict[str, Path]) -> None:
    tmp, python = built["tmp"], built["python"]
    with tarfile.open(built["sdist"]) as archive:
        archive.extractall(tmp / "sdist", filter="data")
    unpacked = next((tmp / "sdist").iterdir())
    shutil.rmtree(unpacked / "wsframe")     # the tests must use the installed wheel
    # The versions are those of the checkout: the sdist carries requirements/constraints.txt.
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
        unpacked / "requirements" / "test.txt", "-c", unpacked / "requirements" / "constraints.txt")
    # The README's Python blocks (tests/test_readme.py), the CLI and every unit test.
    result = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
                 "not integration", "-x", cwd=unpacked)
    assert re.search(r"\d+ passed", result.stdout)
    collected = run(python, "-m", "pytest", "-q", "--collect-only", "tests/integration",
                    cwd=unpacked)
    # Every integration module imports (names of tests may contain "error").
    assert re.search(r"^\d+ tests collected", collected.stdout, re.M), collected.stdout
    assert not re.search(r"\berrors?\b in|^ERROR ", collected.stdout, re.M), collected.stdout
    # mypy --strict on a user's script, outside any checkout.
    script = tmp / "user" / "app.py"
    script.parent.mkdir()
    script.write_text(USER_SCRIPT)
    checked = run(python, "-m", "mypy", "--strict", script, cwd=script.parent)
    assert "Success: no issues found in 1 source file" in checked.stdout
    assert run(python, script, cwd=script.parent).stdout.startswith("Hello 1000 ")


def test_platform_wheel_carries_the_c_helper(built: dict[str, Path]) -> None:
    """The wheel for this platform, as cibuildwheel builds it ([tool.cibuildwheel]
    in pyproject.toml sets WSFRAME_SPEEDUPS=1): the C helper compiled in, its
    source left out, and in a fresh venv the helper is the one in use."""
    tmp = built["tmp"]
    out = tmp / "platform"
    env = {**os.environ, "WSFRAME_SPEEDUPS": "1"}
    source = tmp / "source"
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out),
                             str(source)], capture_output=True, text=True, env=env,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    wheel = next(out.glob("wsframe-*.whl"))
    tag = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name.endswith(f"-{tag}.whl"), wheel.name       # not py3-none-any
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(re.fullmatch(r"wsframe/_speedups\..*\.so", name) for name in names), names
    assert not any(name.endswith(".c") for name in names)
    venv = tmp / "venv-platform"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel)
    checked = run(python, "-c", "from wsframe import MessageReader, MessageWriter, Role, masking\n"
                  "w = MessageWriter(Role.CLIENT)\n"
                  "events = list(MessageReader(Role.SERVER).feed(w.text('é' * 70000)))\n"
                  "print(masking.ACCELERATOR, len(events[0].text))", cwd=tmp)
    assert checked.stdout.strip() == "wsframe._speedups (C) 70000"
