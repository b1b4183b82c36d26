"""wsframe.tools.net: the free port and the wait for a listener that the
integration tests, compliance/run.py, the benchmarks, the docs' scripts and
the uvicorn probe share."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from wsframe.tools.net import NotListening, free_port, wait_listening


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A child that runs (and listens nowhere) until killed."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_free_port_is_free_and_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with pytest.raises(OSError):            # nothing listens there
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with socket.socket() as sock:           # nothing holds it: it binds and listens
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert sock.getsockname() == ("127.0.0.1", port)


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_free_port_on_ipv6_loopback() -> None:
    port = free_port("::1")
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::1", port))


def test_wait_returns_once_a_listener_is_up() -> None:
    port = free_port()
    listener = socket.socket()
    started = threading.Event()

    def listen_later() -> None:
        time.sleep(0.3)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        started.set()

    thread = threading.Thread(target=listen_later)
    begun = time.monotonic()
    thread.start()
    try:
        wait_listening(port, timeout=10)
        assert started.is_set()
        assert 0.25 < time.monotonic() - begun < 5
    finally:
        thread.join()
        listener.close()


def test_wait_returns_at_once_for_a_listening_child() -> None:
    port = free_port()
    code = ("import socket, sys, time\n"
            f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        wait_listening(port, proc, timeout=20)
        assert proc.poll() is None          # still running: not killed on success
    finally:
        proc.kill()
        proc.wait()


def test_timeout_names_the_port_and_kills_the_child(
        sleeper: subprocess.Popen[bytes]) -> None:
    port = free_port()
    begun = time.monotonic()
    with pytest.raises(NotListening) as caught:
        wait_listening(port, sleeper, timeout=0.5, name="the sleeper")
    assert 0.5 <= time.monotonic() - begun < 5
    assert str(caught.value) == f"the sleeper: nothing listens on 127.0.0.1:{port} after 0.5 s"
    assert caught.value.port == port and caught.value.returncode is None
    assert sleeper.poll() is not None       # killed: it would outlive the caller
    assert isinstance(caught.value, RuntimeError)   # what the callers catch


def test_timeout_without_a_child() -> None:
    port = free_port()
    with pytest.raises(NotListening, match=rf"^server: nothing listens on 127\.0\.0\.1:{port} "):
        wait_listening(port, timeout=0.2)


def test_a_child_that_exited_fails_early_with_its_output() -> None:
    code = "import sys; print('out line'); sys.exit('Traceback: port in use')"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    port = free_port()
    begun = time.monotonic()
    with pytest.raises(NotListening) as caught:
        wait_listening(port, proc, timeout=30, name="echo server")
    assert time.monotonic() - begun < 10     # not the 30 s timeout
    message = str(caught.value)
    assert message.startswith(f"echo server exited with status 1 before listening on "
                              f"127.0.0.1:{port}; its output:\n")
    assert "out line" in message and "Traceback: port in use" in message
    assert caught.value.returncode == 1
    assert "port in use" in caught.value.output


def test_a_child_that_exited_with_its_output_from_a_callable() -> None:
    """The integration tests' servers write stderr to a file, read by a callable."""
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    port = free_port()
    with pytest.raises(NotListening) as caught:
        wait_listening(port, proc, timeout=30, output=lambda: "the server's stderr\n")
    assert str(caught.value) == (f"server exited with status 3 before listening on "
                                 f"127.0.0.1:{port}; its output:\nthe server's stderr")


def test_a_child_that_exited_silently_has_no_output_part() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(2)"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    with pytest.raises(NotListening) as caught:
        wait_listening(port, proc, timeout=30)
    assert str(caught.value) == f"server exited with status 2 before listening on 127.0.0.1:{port}"
    assert caught.value.output == ""
