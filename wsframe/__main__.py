"""``python -m wsframe``: the command line (see wsframe.cli)."""

from .cli import run

run()
