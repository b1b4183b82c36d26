"""Loopback helpers for starting servers: a free port, and waiting for a listener.

The tests, the Autobahn runner (compliance/run.py), the benchmarks, the
documentation's recording scripts and the uvicorn probe all start a server in
a child process on 127.0.0.1 and must know when it accepts connections. They
share these two functions instead of each carrying a copy.

`free_port` asks the kernel for an ephemeral port and releases it at once: the
port is free when the function returns, not reserved (another process could
take it before the server binds; on loopback, with ports handed out in turn,
that does not happen in practice).

`wait_listening` connects until a connection succeeds. Given the child
process, it also polls it on every round and fails at once, with its exit
status and whatever it printed, when the child has exited: a server that
crashed on start is reported as such, not as a timeout many seconds later.

The codec never imports this module (it is in `wsframe.tools`, the I/O side;
tests/test_boundary.py checks it).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

__all__ = ["NotListening", "free_port", "wait_listening"]

#: How much of a dead child's output goes into the error message (its end).
OUTPUT_LIMIT = 4000


class NotListening(RuntimeError):
    """Nothing accepted connections on the port: the child exited, or time ran out.

    ``returncode`` is the child's exit status when it exited (None on a
    timeout), ``output`` what it printed (as far as it could be read).
    """

    def __init__(self, message: str, port: int, returncode: int | None = None,
                 output: str = "") -> None:
        super().__init__(message)
        self.port = port
        self.returncode = returncode
        self.output = output


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing is bound to right now.

    The kernel picks it (bind to port 0) and the socket is closed before
    returning, so the caller can bind the port itself or hand it to a child.
    ``host`` may be an IPv6 address (``"::1"``).
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _as_text(data: object) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data if isinstance(data, str) else ""


def _read_output(proc: subprocess.Popen[Any], output: Callable[[], str] | None) -> str:
    """What an exited child printed: from ``output`` if given, else from its pipes."""
    if output is not None:
        return output()
    if proc.stdout is None and proc.stderr is None:
        return ""
    try:
        out, err = proc.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        # A grandchild holding the pipe open, or pipes already read and closed.
        return ""
    return _as_text(out) + _as_text(err)


def wait_listening(port: int, proc: subprocess.Popen[Any] | None = None, *,
                   host: str = "127.0.0.1", timeout: float = 15.0, interval: float = 0.05,
                   name: str = "server", output: Callable[[], str] | None = None) -> None:
    """Return once something accepts TCP connections on ``host``:``port``.

    Tries to connect every ``interval`` seconds (each attempt closed at once)
    for up to ``timeout`` seconds. When ``proc``, the child that should be
    listening, is given, it is polled before each attempt:

    * if it has exited, `NotListening` is raised at once, with its exit status
      and the end of its output: ``output()`` when given (for a child writing
      to a file), else what its stdout and stderr pipes still hold, if it was
      started with ``subprocess.PIPE``;
    * if time runs out, it is killed (it is of no use and would outlive the
      caller), then `NotListening` is raised.

    ``name`` is what the messages call the server. `NotListening` is a
    `RuntimeError`; its message names the address and port.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            text = _read_output(proc, output)[-OUTPUT_LIMIT:]
            message = (f"{name} exited with status {proc.returncode} before listening on "
                       f"{host}:{port}")
            if text.strip():
                message += f"; its output:\n{text.rstrip()}"
            raise NotListening(message, port, proc.returncode, text)
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    if proc is not None:
        proc.kill()
        proc.wait()
    raise NotListening(f"{name}: nothing listens on {host}:{port} after {timeout:g} s", port)
