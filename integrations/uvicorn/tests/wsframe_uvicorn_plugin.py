"""A pytest plugin that runs uvicorn's own WebSocket tests on WSFrameProtocol.

uvicorn's test suite (tests/protocols/test_websocket.py in its sdist) takes
the WebSocket protocol class from a ``ws_protocol_cls`` fixture. This plugin
parametrizes that name with `WSFrameProtocol` instead (``pytest -p
wsframe_uvicorn_plugin``), so uvicorn's files stay untouched.
"""

from __future__ import annotations

from typing import Any

import pytest
from wsframe_uvicorn import WSFrameProtocol


@pytest.hookimpl(tryfirst=True)     # before pytest applies the fixture's own params
def pytest_generate_tests(metafunc: Any) -> None:
    """Every test that takes ``ws_protocol_cls`` runs with WSFrameProtocol."""
    if "ws_protocol_cls" in metafunc.fixturenames:
        metafunc.parametrize("ws_protocol_cls", [WSFrameProtocol], ids=["wsframe"])
