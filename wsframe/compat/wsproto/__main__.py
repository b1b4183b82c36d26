"""``python -m wsframe.compat.wsproto PROGRAM [ARGS...]``: run a program on wsframe.

Installs `wsframe.compat.wsproto` as ``wsproto`` first, then runs PROGRAM
in this process, as its own command would: a console script of an
installed distribution (``hypercorn app:app``), ``-m MODULE`` (``-m
hypercorn app:app``), or a Python file (``server.py``).

Worker processes that ``multiprocessing`` starts with its spawn method
(hypercorn's workers) are fresh interpreters that inherit no modules: the
command line that starts them is given the same ``install()`` first, before
they unpickle anything. Forked workers inherit it. A new interpreter that
the program starts some other way (subprocess, ``os.exec*``, a forkserver)
runs without it.
"""

from __future__ import annotations

import multiprocessing.spawn
import os
import runpy
import shutil
import sys
from importlib.metadata import entry_points

from . import install

#: What a spawned worker runs before multiprocessing's own start-up code.
SPAWN_PRELUDE = "import wsframe.compat.wsproto; wsframe.compat.wsproto.install(); "

USAGE = "usage: python -m wsframe.compat.wsproto (PROGRAM | -m MODULE | FILE.py) [ARGS...]"


def install_in_spawned_workers() -> None:
    """Have processes started with multiprocessing's spawn method install first."""
    original = multiprocessing.spawn.get_command_line
    if getattr(original, "wsframe_compat", False):
        return

    def get_command_line(**kwds: object) -> list[str]:
        argv: list[str] = list(original(**kwds))
        if "-c" in argv:
            code = argv.index("-c") + 1
            argv[code] = SPAWN_PRELUDE + argv[code]
        return argv

    get_command_line.wsframe_compat = True  # type: ignore[attr-defined]
    multiprocessing.spawn.get_command_line = get_command_line


def main(argv: list[str]) -> int:
    """Run the program that ``argv`` names with the compat module installed."""
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    install()
    install_in_spawned_workers()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    program, args = argv[0], argv[1:]
    scripts = entry_points(group="console_scripts", name=program)
    for script in scripts:
        sys.argv = [program, *args]
        result = script.load()()
        return result if isinstance(result, int) else (0 if result is None else 1)
    path = program if os.path.exists(program) else shutil.which(program)
    if path is None:
        print(f"{program}: no console script, file or command of that name", file=sys.stderr)
        return 2
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
