"""A pytest plugin for the embedders' suites (make test-embedders): with
WSFRAME_COMPAT=1, `wsframe.compat.wsproto.install()` runs when pytest loads
this plugin (``-p wsframe_compat_plugin``), before any conftest or test module
imports wsproto; otherwise the real wsproto is used. Either way the header
says which wsproto the run imports, and the session fails if the suite ended
up on the other one."""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import pytest

COMPAT = os.environ.get("WSFRAME_COMPAT") == "1"

# simple-websocket's client tests mock the socket but still resolve
# example.com; this machine has no DNS. Resolved here to 127.0.0.1 (loopback
# only: nothing leaves the machine even where a test would connect).
OFFLINE_HOSTS = {"example.com"}
_getaddrinfo = socket.getaddrinfo


def _offline_getaddrinfo(host: object, port: object, *args: Any, **kwargs: Any) -> Any:
    if host in OFFLINE_HOSTS:
        host = "127.0.0.1"
    return _getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]


socket.getaddrinfo = _offline_getaddrinfo

if COMPAT:
    from wsframe.compat.wsproto import install

    install()


def _which() -> str:
    import wsproto

    if wsproto.__name__ == "wsframe.compat.wsproto":
        return "wsframe.compat.wsproto (wsframe)"
    return f"real wsproto {wsproto.__version__} ({wsproto.__file__})"


def pytest_report_header() -> str:
    return f"wsproto: {_which()}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(f"wsproto: {_which()}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    module = sys.modules.get("wsproto")
    if module is None:
        return
    on_compat = module.__name__ == "wsframe.compat.wsproto"
    log = os.environ.get("WSFRAME_COMPAT_LOG")
    if log:             # one line per process that ran tests (xdist workers included)
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{os.getpid()} {'compat' if on_compat else 'real'}\n")
    if on_compat != COMPAT:
        print(f"\nwsframe_compat_plugin: expected {'compat' if COMPAT else 'real'} wsproto, "
              f"the run imported {_which()}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
