"""Sphinx configuration: `make docs` builds the documentation into docs/_build/html
with warnings as errors (requirements/docs.txt pins the tools)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # autodoc reads the checkout's wsframe

import wsframe  # noqa: E402

project = "wsframe"
author = "the wsframe developers"
copyright = "the wsframe developers, MIT license"
version = release = wsframe.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
# The docstrings are Google style (Args:, Attributes:); ivar: no second entry per attribute.
napoleon_use_ivar = True
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "*.txt"]

# Docstrings write `name` for a Python object: link it when Sphinx knows it.
default_role = "py:obj"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}

myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"wsframe {release}"
html_theme_options = {"description": "A sans-I/O RFC 6455 WebSocket codec", "fixed_sidebar": True}
