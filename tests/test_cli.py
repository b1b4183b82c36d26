"""The ``wsframe`` command line, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wsframe import Opcode, build_close, build_frame

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
KEY = bytes.fromhex("37fa213d")


def wsframe(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsframe", *args], input=(
        stdin.decode("latin-1") if stdin is not None else None), capture_output=True,
        text=True, cwd=ROOT, encoding="latin-1" if stdin is not None else "utf-8",
        timeout=60, check=False)


# -- dissect -------------------------------------------------------------------------

def test_dissect_valid_sample() -> None:
    run = wsframe("dissect", str(SAMPLES / "valid-exchange.bin"))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "frame #1 at offset 0: TEXT, 11 bytes (6-byte header + 5-byte payload)" in out
    # The RFC 5.2 diagram, filled with the bits of 0x81 0x85 and the key 37fa213d.
    assert "|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|0 0 1 1 0 1 1 1 1 1 1 1 1 0 1 0|" in out
    assert "Masking-key=37fa213d" in out
    assert "payload on the wire (masked): 7f 9f 4d 51 58" in out
    assert "payload unmasked:             'Hello'" in out
    assert "control frame: PING (between fragments of message #2)" in out
    assert "-> message #2 reassembled from 2 fragments: 'Hello, wörld'" in out
    assert "control frame: Close 1000 (Normal Closure), reason 'bye'" in out
    assert out.rstrip().endswith("VALID: 5 frames, 2 complete messages.")


def test_dissect_reserved_opcode_reports_1002_and_the_reply() -> None:
    run = wsframe("dissect", str(SAMPLES / "reserved-opcode.bin"))
    assert run.returncode == 1
    out = run.stdout
    assert "VIOLATION in the frame at byte offset 8: reserved opcode 0x3" in out
    assert "opcode=0011 (0x3, reserved)" in out
    assert "source: RFC 6455 section 5.2" in out
    assert "close code: 1002 (Protocol error)" in out
    reply = build_close(1002, "reserved opcode 0x3")
    assert f"    {reply.hex(' ')}" in out
    assert "never read" not in out


def test_dissect_json_for_tools() -> None:
    run = wsframe("dissect", "--json", str(SAMPLES / "reserved-opcode.bin"))
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["valid"] is False
    assert [f["opcode"] for f in data["frames"]] == ["TEXT"]
    assert data["frames"][0]["fields"] == {"FIN": 1, "RSV1": 0, "RSV2": 0, "RSV3": 0,
                                           "opcode": 1, "MASK": 1, "Payload len": 2,
                                           "Masking-key": 0x37FA213D}
    violation = data["violation"]
    assert (violation["offset"], violation["code"], violation["section"]) == (8, 1002, "5.2")
    assert violation["name"] == "RESERVED_OPCODE"
    assert violation["reply_hex"] == build_close(1002, "reserved opcode 0x3").hex()


def test_dissect_client_role_from_hex_and_stdin() -> None:
    stream = build_close(1013, "busy")
    run = wsframe("dissect", "--role", "client", "--hex", stream.hex(" "))
    assert run.returncode == 0
    assert "control frame: Close 1013 (Try Again Later), reason 'busy'" in run.stdout
    assert "payload: 03 f5 = status code 1013, then a 4-byte reason: 'busy'" in run.stdout
    piped = wsframe("dissect", "--role", "client", "-", stdin=stream)
    assert piped.returncode == 0 and "Try Again Later" in piped.stdout


def test_dissect_masked_frame_to_a_client_is_1002_with_a_masked_reply() -> None:
    run = wsframe("dissect", "--role", "client", "--hex",
                  build_frame(Opcode.TEXT, b"x", mask=KEY).hex())
    assert run.returncode == 1
    assert "MASK=1 (masked, NOT as a client expects)" in run.stdout
    assert build_close(1002, "masked frame from the server",
                       mask=bytes.fromhex("1a2b3c4d")).hex(" ") in run.stdout


def test_dissect_bad_utf8_is_1007_and_pending_bytes_are_reported() -> None:
    run = wsframe("dissect", "--hex",
                  build_frame(Opcode.TEXT, b"\xc0\xaf", mask=KEY, validate=False).hex())
    assert run.returncode == 1 and "close code: 1007" in run.stdout
    partial = build_frame(Opcode.TEXT, b"hello", mask=KEY)[:8]
    run = wsframe("dissect", "--hex", partial.hex())
    assert run.returncode == 0
    assert "The stream ends inside a frame: 8 bytes wait for more data." in run.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["dissect", "--hex", "8103abc"], "odd number of hex digits (7)"),
    (["dissect", "--hex", "zz"], "'z' is not a hex digit"),
    (["dissect", "does-not-exist.bin"], "cannot read does-not-exist.bin"),
    (["dissect"], "nothing to dissect"),
    (["dissect", "--role", "proxy", "x"], "invalid choice: 'proxy'"),
    (["explain", "abc"], "'abc' is not a close code"),
    (["explain", "70000"], "70000 is not a close code"),
    (["compare", "1002"], "the following arguments are required"),
    (["backoff", "--attempts", "0"], "--attempts must be at least 1"),
    (["backoff", "--initial", "5", "--max-delay", "1"], "max_delay"),
    (["build", "close", "--code", "1005"], "must not be sent"),
    (["build", "close", "--reason", "x" * 124], "124 UTF-8 bytes"),
    (["build", "ping", "x" * 200], "at most 125 bytes"),
    (["build", "text", "hi", "--mask", "abc"], "odd number of hex digits"),
    (["build", "text", "hi", "--mask", "abcd"], "4 bytes (8 hex digits)"),
    (["build", "pong", "--no-fin"], "PONG frame with FIN=0"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_usage_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    run = wsframe(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("wsframe: error: ")
    assert message in lines[0]
    assert "Traceback" not in run.stderr


# -- explain / compare / backoff ------------------------------------------------------

def test_explain_1013() -> None:
    run = wsframe("explain", "1013")
    assert run.returncode == 0
    assert run.stdout.startswith("1013 Try Again Later  (CloseCode.TRY_AGAIN_LATER)")
    assert "in a Close frame  may be sent" in run.stdout
    data = json.loads(wsframe("explain", "1002", "--json").stdout)
    assert (data["code"], data["name"], data["retry"]) == (1002, "Protocol error",
                                                           "NOT_UNCHANGED")


def test_explain_a_range_and_a_pseudo_code() -> None:
    assert wsframe("explain", "4321").stdout.startswith("4000-4999 Private use")
    run = wsframe("explain", "1006")
    assert "must never be sent" in run.stdout


def test_compare_1002_1013_side_by_side() -> None:
    run = wsframe("compare", "1002", "1013")
    assert run.returncode == 0
    header = run.stdout.splitlines()[0]
    assert "1002 Protocol error" in header and "1013 Try Again Later" in header
    assert "In short: After 1002 Protocol error: do not reconnect unchanged" in run.stdout
    data = json.loads(wsframe("compare", "1002", "1013", "--json").stdout)
    assert data["rows"][0] == ["name", "Protocol error", "Try Again Later"]


def test_backoff_schedule_is_reproducible_with_a_seed() -> None:
    run = wsframe("backoff", "--code", "1013", "--attempts", "4", "--jitter", "none")
    assert run.returncode == 0
    rows = [row for row in map(str.split, run.stdout.splitlines())
            if len(row) == 9 and row[0].isdigit()]     # attempt, base, range, wait, total
    assert [row[1] for row in rows] == ["1.00", "2.00", "4.00", "8.00"]
    assert [row[5] for row in rows] == ["1.00", "2.00", "4.00", "8.00"]   # wait column
    once = wsframe("backoff", "--seed", "3").stdout
    assert once == wsframe("backoff", "--seed", "3").stdout


def test_backoff_after_1002_says_do_not_retry() -> None:
    run = wsframe("backoff", "--code", "1002")
    assert run.returncode == 0
    assert "No backoff schedule: do not reconnect unchanged" in run.stdout


# -- build ---------------------------------------------------------------------------------

def test_build_close_1013_masked_and_unmasked() -> None:
    run = wsframe("build", "close", "--code", "1013", "--reason", "busy")
    assert run.stdout.strip() == build_close(1013, "busy").hex(" ")
    run = wsframe("build", "close", "--code", "1002", "--mask", "37fa213d")
    assert run.stdout.strip() == build_close(1002, mask=KEY).hex(" ")
    assert wsframe("build", "close", "--code", "none").stdout.strip() == "88 00"


def test_build_data_frames_and_explain() -> None:
    assert wsframe("build", "text", "Hello", "--mask", "37fa213d").stdout.strip() == \
        "81 85 37 fa 21 3d 7f 9f 4d 51 58"
    assert wsframe("build", "binary", "00ff", "--hex").stdout.strip() == "82 02 00 ff"
    assert wsframe("build", "text", "Hel", "--no-fin").stdout.strip() == "01 03 48 65 6c"
    run = wsframe("build", "ping", "hello", "--mask", "0a0b0c0d", "--explain")
    assert run.returncode == 0
    assert "frame #1 at offset 0: PING" in run.stdout and "(as text: 'hello')" in run.stdout


def test_version_and_help() -> None:
    assert wsframe("--version").stdout.startswith("wsframe ")
    run = wsframe("--help")
    assert run.returncode == 0
    for command in ("dissect", "explain", "compare", "backoff", "build"):
        assert command in run.stdout
