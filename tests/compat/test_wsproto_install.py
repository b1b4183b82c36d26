"""install() and ``python -m wsframe.compat.wsproto``: each in a child process,
since the test process itself may have the real wsproto imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wsframe.compat.wsproto import SUBMODULES, frame_protocol


def python(*args: str, cwd: Path | None = None,
           path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """This Python in a child process; ``path`` is put first on its PYTHONPATH."""
    env = None
    if path is not None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=60, check=False, cwd=cwd, env=env)


def test_install_makes_wsproto_and_its_submodules_resolve_here() -> None:
    code = (
        "from wsframe.compat.wsproto import install, installed\n"
        "assert not installed()\n"
        "install(); install()\n"
        "import wsproto, wsproto.events\n"
        f"import {', '.join('wsproto.' + name for name in SUBMODULES)}\n"
        "from wsproto.frame_protocol import CloseReason\n"
        "from wsproto import WSConnection, ConnectionType\n"
        "print(installed(), wsproto.__name__, wsproto.events.TextMessage.__module__,\n"
        "      CloseReason.__module__, wsproto.__version__)\n")
    done = python("-c", code)
    assert done.stderr == ""
    assert done.stdout.split() == ["True", "wsframe.compat.wsproto",
                                   "wsframe.compat.wsproto.events",
                                   "wsframe.compat.wsproto.frame_protocol", "1.3.2"]


def test_install_after_wsproto_was_imported_is_an_error() -> None:
    code = ("import sys, types\n"
            "sys.modules['wsproto'] = types.ModuleType('wsproto')\n"
            "from wsframe.compat.wsproto import install, WsprotoAlreadyImported\n"
            "try:\n    install()\n"
            "except WsprotoAlreadyImported as exc:\n    print(exc)\n")
    done = python("-c", code)
    assert done.stdout.startswith("wsproto was imported before "
                                  "wsframe.compat.wsproto.install() (wsproto from ")


def test_the_runner_runs_a_file_a_module_and_a_console_script(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(
        "import sys, wsproto\nprint(wsproto.__name__, sys.argv[1:])\n")
    done = python("-m", "wsframe.compat.wsproto", "prog.py", "a", "-b", cwd=tmp_path)
    assert done.stdout == "wsframe.compat.wsproto ['a', '-b']\n"
    # -m finds prog in the current folder as `python -m` does, so not under
    # PYTHONSAFEPATH (which make test-compiled and test-speedups set): its path
    # is given here instead.
    done = python("-m", "wsframe.compat.wsproto", "-m", "prog", "c", cwd=tmp_path,
                  path=tmp_path)
    assert done.stdout == "wsframe.compat.wsproto ['c']\n"
    done = python("-m", "wsframe.compat.wsproto", "wsframe", "--version")   # a console script
    assert done.returncode == 0 and done.stdout.startswith("wsframe ")
    done = python("-m", "wsframe.compat.wsproto", "no-such-program-here")
    assert (done.returncode, done.stderr) == (
        2, "no-such-program-here: no console script, file or command of that name\n")
    assert python("-m", "wsframe.compat.wsproto").returncode == 2


def test_the_runner_installs_in_spawned_workers(tmp_path: Path) -> None:
    """hypercorn starts its workers with multiprocessing's spawn method."""
    (tmp_path / "workers.py").write_text(
        "import multiprocessing, sys\n"
        "def which(_: int) -> str:\n"
        "    import wsproto\n"
        "    return wsproto.__name__\n"
        "if __name__ == '__main__':\n"
        "    with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
        "        print(pool.map(which, [0])[0])\n")
    done = python("-m", "wsframe.compat.wsproto", "workers.py", cwd=tmp_path)
    assert (done.stdout, done.returncode) == ("wsframe.compat.wsproto\n", 0), done.stderr


def test_frame_level_internals_are_out_of_scope() -> None:
    with pytest.raises(AttributeError, match="frame-level machinery"):
        frame_protocol.FrameProtocol  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        frame_protocol.Nothing  # noqa: B018
