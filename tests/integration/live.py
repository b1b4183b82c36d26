"""Live tools for the integration tests: `wsframe proxy` as a subprocess, and
tcpdump recording loopback traffic into a capture the tests then dissect."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wsframe.tools.capture import SummaryRecord, dissect_capture
from wsframe.tools.session import FrameRecord

from .conftest import free_port

TCPDUMP = shutil.which("tcpdump")
# How many times a test whose capture lost packets is run before it fails.
CAPTURE_ATTEMPTS = 3


class CaptureIncomplete(Exception):
    """tcpdump reported packets dropped by the kernel: the capture cannot be
    compared with what the endpoints saw (heavy traffic on lo from other
    tests or jobs running at the same time fills tcpdump's buffer)."""


def retried_on_capture_loss(test: Callable[..., None]) -> Callable[..., None]:
    """Run ``test`` again (up to CAPTURE_ATTEMPTS in all) when its capture
    lost packets, as tcpdump itself counts them; any other failure fails at
    once."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        for _attempt in range(CAPTURE_ATTEMPTS - 1):
            try:
                return test(*args, **kwargs)
            except CaptureIncomplete:
                continue
        return test(*args, **kwargs)
    return run


class Proxy:
    """``wsframe proxy --json`` between the tests' clients and ``upstream``.

    Its output goes to a file, not a pipe: the proxy writes as frames come,
    and a pipe nobody reads until the end would fill up and stall it.
    """

    def __init__(self, upstream: int, *args: str) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.out = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wsframe", "proxy", "--listen", f"127.0.0.1:{self.port}",
             "--upstream", f"127.0.0.1:{upstream}", "--json", *args],
            stdout=self.out, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        ready = self.proc.stderr.readline()
        assert ready.startswith("wsframe proxy: listening on"), ready
        self.output: dict[str, Any] = {}
        self.returncode: int | None = None

    def stop(self, signum: int = signal.SIGTERM) -> dict[str, Any]:
        """Stop it with ``signum``; its JSON document (``returncode`` is kept)."""
        self.proc.send_signal(signum)
        _, stderr = self.proc.communicate(timeout=20)
        self.returncode = self.proc.returncode
        assert stderr == "", stderr
        self.out.seek(0)
        self.output = json.load(self.out)
        self.out.close()
        return self.output


def frame_key(frame: dict[str, Any]) -> tuple[object, ...]:
    """What a frame is, independent of where it was seen."""
    return (frame["opcode"], frame["fin"], frame["rsv1"], frame["masking_key"],
            frame["payload_hex"])


def proxy_frames(output: dict[str, Any], sender: str) -> list[tuple[object, ...]]:
    """The frames the proxy showed from ``sender``, in order (all connections)."""
    return [frame_key(f) for f in output["frames"] if f["sender"] == sender]


def capture_frames(data: bytes, server_port: int, sender: str) -> list[tuple[object, ...]]:
    """The frames a capture holds from ``sender`` on connections to ``server_port``."""
    records: list[FrameRecord] = []
    summaries: dict[int, Any] = {}
    for record in dissect_capture(io.BytesIO(data)):
        if isinstance(record, FrameRecord):
            records.append(record)
        elif isinstance(record, SummaryRecord):
            summaries[record.connection] = record.summary
    out = []
    for record in records:
        if record.sender != sender or \
                not summaries[record.connection].get("server", "").endswith(f":{server_port}"):
            continue
        frame = record.view.frame
        header = record.view.header
        out.append((frame.opcode.name, frame.fin, frame.rsv1,
                    header[-4:].hex() if header[1] & 0x80 else None, frame.payload.hex()))
    return out


@contextlib.contextmanager
def loopback_capture(path: Path, ports: list[int]) -> Iterator[None]:
    """tcpdump on lo for the block; ``path`` then holds the packets of ``ports``.

    It records everything and filters afterwards (tcpdump -r): on some
    virtual machines the kernel's packet filter drops every packet, while the
    same filter run by tcpdump on a file works. --immediate-mode: without it
    the kernel hands packets over in blocks, and those of the last block are
    lost when tcpdump is stopped. -B: a 64 MiB buffer, since other traffic
    on lo (tests or jobs running at the same time) is recorded too; should
    the kernel still drop packets, as tcpdump counts them when it stops,
    `CaptureIncomplete` is raised after the block (see
    `retried_on_capture_loss`).
    """
    if TCPDUMP is None:
        pytest.skip("tcpdump is not installed (.ci/run installs it: apt-get install tcpdump)")
    if os.geteuid() != 0:
        pytest.skip("capturing on lo needs root (or CAP_NET_RAW); CI runs as root")
    raw = path.with_suffix(".unfiltered")
    proc = subprocess.Popen([TCPDUMP, "-i", "lo", "-U", "--immediate-mode", "-B", "65536",
                             "-w", str(raw)], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    if "listening on" not in first:
        proc.kill()
        pytest.skip(f"tcpdump cannot capture here: {first.strip()}")
    try:
        yield
    finally:
        # Until the file stops growing (at least 0.5 s, at most 5 s): on a busy
        # machine tcpdump writes the last packets late.
        size, deadline = -1, time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.5)
            grown = raw.stat().st_size if raw.exists() else 0
            if grown == size:
                break
            size = grown
        proc.terminate()
        _, report = proc.communicate(timeout=10)
        expression = " or ".join(f"tcp port {port}" for port in ports)
        subprocess.run([TCPDUMP, "-r", str(raw), "-w", str(path), expression], check=True,
                       stderr=subprocess.DEVNULL)
        raw.unlink()
    dropped = re.search(r"(\d+) packets? dropped by kernel", report)
    if dropped is not None and int(dropped.group(1)):
        raise CaptureIncomplete(f"tcpdump: {dropped.group(0)}")
