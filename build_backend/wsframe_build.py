"""The build backend: setuptools, plus mypy when the compiled build is asked for.

`WSFRAME_MYPYC=1 pip install .` compiles wsframe's hot modules with mypyc
(see setup.py); mypyc comes with mypy, which is then added to the build
requirements here. Without the variable this is setuptools' own backend,
and the wheel is pure Python.
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the PEP 517 hooks, unchanged)

MYPY = "mypy==2.4.1"     # the same pin as requirements/test.txt


def _compiled() -> bool:
    return os.environ.get("WSFRAME_MYPYC", "") not in ("", "0")


def get_requires_for_build_wheel(config_settings: dict[str, object] | None = None) -> list[str]:
    """setuptools' requirements, and mypy (for mypyc) when compiling."""
    requires: list[str] = _setuptools.get_requires_for_build_wheel(config_settings)
    return [*requires, MYPY] if _compiled() else requires


def get_requires_for_build_editable(config_settings: dict[str, object] | None = None
                                    ) -> list[str]:
    """As for a wheel."""
    requires: list[str] = _setuptools.get_requires_for_build_editable(config_settings)
    return [*requires, MYPY] if _compiled() else requires
