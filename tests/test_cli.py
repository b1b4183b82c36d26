"""The ``wsframe`` command line, as a user runs it.

Most cases call `wsframe.cli.main` in this process with its own stdin,
stdout and stderr (starting Python for each case took a third of the
non-integration run); the few about the process itself (the console script,
a pipe closed early, streaming with bounded memory) start ``python -m
wsframe`` (`wsframe_process`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wsframe import Opcode, build_close, build_frame, cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
KEY = bytes.fromhex("37fa213d")


def wsframe_process(*args: str, stdin: bytes | None = None
                    ) -> subprocess.CompletedProcess[str]:
    """``python -m wsframe ARGS`` in a child process, from the checkout's root."""
    return subprocess.run([sys.executable, "-m", "wsframe", *args], input=(
        stdin.decode("latin-1") if stdin is not None else None), capture_output=True,
        text=True, cwd=ROOT, encoding="latin-1" if stdin is not None else "utf-8",
        timeout=60, check=False)


def wsframe(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """``wsframe ARGS`` run in this process (`cli.main`), as `wsframe_process` would:
    the same exit status, stdout and stderr, from the checkout's root."""
    encoding = "latin-1" if stdin is not None else "utf-8"
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="latin-1"),
               io.TextIOWrapper(out, encoding=encoding, write_through=True),
               io.TextIOWrapper(err, encoding=encoding, write_through=True))
    saved, cwd = (sys.stdin, sys.stdout, sys.stderr), os.getcwd()
    sys.stdin, sys.stdout, sys.stderr = streams
    os.chdir(ROOT)
    try:
        status = cli.main(list(args))
    except SystemExit as exc:           # argparse's own errors and --help
        status = exc.code if isinstance(exc.code, int) else 2
    finally:
        streams[1].flush()
        streams[2].flush()
        sys.stdin, sys.stdout, sys.stderr = saved
        os.chdir(cwd)
    return subprocess.CompletedProcess(list(args), status, out.getvalue().decode(encoding),
                                       err.getvalue().decode(encoding))


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
    (["backoff", "--attempts", "0"], "--attempts must be from 1 to 1000, not 0"),
    (["backoff", "--attempts", "10000000"], "--attempts must be from 1 to 1000"),
    (["backoff", "--initial", "5", "--max-delay", "1"], "--max-delay (1) must be >= --initial"),
    (["backoff", "--factor", "0.5"], "--factor must be >= 1 (the delay never shrinks), not 0.5"),
    (["backoff", "--initial", "0"], "--initial must be > 0 seconds"),
    (["backoff", "--initial", "nan"], "--initial must be a finite number"),
    (["backoff", "--factor", "x"], "--factor: 'x' is not a number"),
    (["explain", "١٠٠٠"], "is not a close code (a number from 0 to 65535)"),
    (["explain", "1_000"], "'1_000' is not a close code"),
    (["explain", "+1000"], "'+1000' is not a close code"),
    (["explain", "0000001000000"], "is not a close code: close codes are 0-65535"),
    (["dissect", "--max-frame-size", "-1", "x"], "'-1' is not a size in bytes"),
    (["dissect", "--deflate", "permessage-deflate; bogus", "--hex", "00"],
     "--deflate: unknown permessage-deflate parameter 'bogus'"),
    (["build", "close", "--rsv1"], "--rsv1, --no-fin and --hex are for data"),
    (["build", "text", "c0af", "--hex"], "a whole text message must be UTF-8"),
    (["build", "ping", "--rsv1"], "RSV1 set on a PING frame"),
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


# -- first-contact traps (each failed before) ------------------------------------------

def test_build_output_piped_into_dissect_is_recognised_as_hex() -> None:
    built = wsframe("build", "text", "hi", "--mask", "37fa213d")
    run = wsframe("dissect", "-", stdin=built.stdout.encode())
    assert run.returncode == 0, run.stdout
    assert "(The input is hex text; decoded it.)" in run.stdout
    assert "payload unmasked:             'hi'" in run.stdout
    assert run.stdout.rstrip().endswith("VALID: 1 frame, 1 complete message.")


def test_build_raw_writes_the_bytes_and_dissect_raw_reads_them() -> None:
    run = subprocess.run([sys.executable, "-m", "wsframe", "build", "close", "--code", "1013",
                          "--reason", "busy", "--raw"], capture_output=True, check=True)
    assert run.stdout == build_close(1013, "busy")
    piped = wsframe("dissect", "--raw", "--role", "client", "-", stdin=run.stdout)
    assert piped.returncode == 0 and "Close 1013 (Try Again Later)" in piped.stdout


def test_dissect_answers_at_the_first_violation_without_waiting_for_eof() -> None:
    # /dev/zero: the first byte is a continuation frame with no message (1002).
    # The old dissect read all of stdin first and never answered.
    process = subprocess.Popen([sys.executable, "-m", "wsframe", "dissect", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(bytes(65536))
    process.stdin.flush()
    try:
        status = process.wait(timeout=30)     # stdin is still open
        out = process.stdout.read().decode()
    finally:
        process.kill()
        process.stdin.close()
        process.stdout.close()
    assert status == 1
    assert "VIOLATION in the frame at byte offset 0: continuation frame with no message" in out


def test_dissect_memory_stays_bounded_on_a_long_stream() -> None:
    # 4 MB of masked pings (the old dissect kept every rendering: ~480 MiB RSS per MiB).
    ping = build_frame(Opcode.PING, b"p" * 125, mask=KEY)
    stream = ping * (4_000_000 // len(ping))
    measure = ("import resource, subprocess, sys\n"
               "subprocess.run([sys.executable, '-m', 'wsframe', 'dissect', '-'],"
               " stdin=sys.stdin, stdout=subprocess.DEVNULL, check=True)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    run = subprocess.run([sys.executable, "-c", measure], input=stream, capture_output=True,
                         cwd=ROOT, timeout=300, check=True, env=_no_accel())
    peak_kib = int(run.stdout)
    assert peak_kib < 64 * 1024, f"peak RSS {peak_kib} KiB for a 4 MB stream"


def _no_accel() -> dict[str, str]:
    import os
    return {**os.environ, "WSFRAME_NO_ACCEL": "1"}


def test_dissect_applies_the_library_limits_by_default() -> None:
    huge = "827f7fffffffffffffff"       # a 2**63-1 byte frame, as a client reads it
    run = wsframe("dissect", "--role", "client", "--hex", huge)
    assert run.returncode == 1
    assert "close code: 1009 (Message Too Big)" in run.stdout
    run = wsframe("dissect", "--role", "client", "--hex", "827e0400" + "00" * 1024,
                  "--max-message-size", "1000")
    assert run.returncode == 1 and "exceeds the limit of 1000" in run.stdout
    run = wsframe("dissect", "--role", "client", "--hex", "827e0400" + "00" * 1024,
                  "--max-message-size", "none")
    assert run.returncode == 0


def test_dissect_suggests_the_other_role() -> None:
    run = wsframe("dissect", str(SAMPLES / "try-again-later.bin"))
    assert run.returncode == 1
    assert "hint: the first frame is not masked, as a server's frames are: if these bytes" \
        in run.stdout
    assert "--role client" in run.stdout
    run = wsframe("dissect", "--role", "client", "--hex",
                  build_frame(Opcode.TEXT, b"x", mask=KEY).hex())
    assert "dissect them with --role server" in run.stdout


def test_dissect_says_one_byte_not_one_bytes() -> None:
    run = wsframe("dissect", "--hex", "81")
    assert "The stream ends inside a frame: 1 byte waits for more data." in run.stdout
    run = wsframe("dissect", "--hex", "8881")
    assert "2 bytes wait for more data." in run.stdout


def test_dissect_json_streams_one_document_with_the_key_in_hex() -> None:
    run = wsframe("dissect", "--json", str(SAMPLES / "valid-exchange.bin"))
    data = json.loads(run.stdout)
    assert data["valid"] is True and data["frame_count"] == len(data["frames"]) == 5
    assert data["frames"][0]["masking_key"] == "37fa213d"
    assert data["frames"][3]["message"] == {"type": "text", "text": "Hello, wörld"}
    empty = json.loads(wsframe("dissect", "--json", "--hex", "").stdout)
    assert empty["frames"] == [] and empty["valid"] is True


def test_dissect_inflates_with_deflate() -> None:
    run = wsframe("dissect", "--role", "client", "--deflate", "--hex", "c107f248cdc9c90700")
    assert run.returncode == 0, run.stdout
    assert "message #1 (text, compressed), complete in this frame" in run.stdout
    assert "-> message #1 inflated: 'Hello'" in run.stdout
    # Without --deflate, RSV1 is a violation, and says so.
    run = wsframe("dissect", "--role", "client", "--hex", "c107f248cdc9c90700")
    assert run.returncode == 1 and "RSV1 set with no extension for it" in run.stdout


def test_build_explain_exits_1_when_what_it_built_is_invalid() -> None:
    run = wsframe("build", "continuation", "x", "--explain")
    assert run.returncode == 1
    assert "continuation frame with no message in progress" in run.stdout
    run = wsframe("build", "ping", "--no-fin", "--no-validate", "--explain")
    assert run.returncode == 1 and "PING frame with FIN=0" in run.stdout


@pytest.mark.parametrize("command", ["dissect", "explain", "compare", "backoff", "build"])
def test_every_subcommand_help_has_a_description_an_example_and_exit_statuses(
        command: str) -> None:
    run = wsframe(command, "--help")
    assert run.returncode == 0
    assert "examples:\n  wsframe " + command in run.stdout
    assert "exit status: 0 success" in run.stdout
    assert "2 bad usage" in run.stdout


# -- papercuts a new user hit (issue 24, items 7 and 8) --------------------------------

def test_build_takes_its_options_before_the_payload_too() -> None:
    before = wsframe("build", "binary", "--hex", "c3a9", "--mask", "01020304")
    after = wsframe("build", "binary", "c3a9", "--hex", "--mask", "01020304")
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout == "82 82 01 02 03 04 c2 ab\n"
    extra = wsframe("build", "text", "a", "b")
    assert extra.returncode == 2 and "unrecognized arguments: b" in extra.stderr


def test_build_errors_name_the_flag_not_the_library_keyword() -> None:
    run = wsframe("build", "ping", "--no-fin")
    assert run.returncode == 2
    assert run.stderr.strip().endswith("pass --no-validate to build it anyway")
    assert "validate=False" not in run.stderr


def test_dissect_hints_at_an_http_handshake() -> None:
    run = wsframe("dissect", "--raw", "-", stdin=b"GET /chat HTTP/1.1\r\nHost: x\r\n\r\n")
    assert run.returncode == 1
    assert "Hint: the input starts with an HTTP handshake (RFC 6455 section 4)" in run.stdout
    frames = wsframe("dissect", "--role", "client", "--hex", "810548656c6c6f")
    assert "Hint" not in frames.stdout


@pytest.mark.parametrize("args", [("dissect", "samples/valid-exchange.bin"),
                                  ("build", "close", "--code", "1005"),
                                  ("explain", "1013"), ("nonsense",)])
def test_in_process_runs_say_what_the_process_says(args: tuple[str, ...]) -> None:
    """The in-process harness (`wsframe`) is checked against the real command."""
    inside, outside = wsframe(*args), wsframe_process(*args)
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        outside.returncode, outside.stdout, outside.stderr)
