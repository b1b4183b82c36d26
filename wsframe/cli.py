"""The ``wsframe`` command line: dissect frames, explain close codes, build frames.

    wsframe dissect [--role server|client] [--json] (--hex HEX | FILE | -)
    wsframe explain CODE [--json]
    wsframe compare CODE CODE [--json]
    wsframe backoff [--code 1013] [--attempts N] [--jitter full|equal|none] [--seed N]
    wsframe build close --code 1013 [--reason TEXT] [--mask HEX] [--explain]
    wsframe build text|binary|continuation|ping|pong [PAYLOAD] [--hex] [--mask HEX] [--no-fin]
                  [--explain]

Exit status: 0 success (for dissect: a valid stream), 1 a protocol violation
was found, 2 bad usage or unreadable input. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import textwrap
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .backoff import JITTER_MODES, Backoff, reconnect_advice
from .close_codes import CloseCodeInfo, Retry, compare, explain
from .dissect import dissect, render_text, to_json
from .frames import build_close, build_frame
from .opcodes import Opcode
from .roles import Role

__all__ = ["main"]

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _hex(text: str, what: str) -> bytes:
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    if len(cleaned) % 2:
        raise UsageError(f"{what}: odd number of hex digits ({len(cleaned)})")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        bad = next(c for c in cleaned if c not in "0123456789abcdefABCDEF")
        raise UsageError(f"{what}: {bad!r} is not a hex digit") from None


def _code(text: str) -> int:
    try:
        code = int(text, 10)
    except ValueError:
        raise UsageError(f"{text!r} is not a close code (a number from 0 to 65535)") from None
    if not 0 <= code <= 65535:
        raise UsageError(f"{code} is not a close code: close codes are 0-65535")
    return code


def _size(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise UsageError(f"{text!r} is not a size in bytes") from None
    if value < 0:
        raise UsageError(f"a size cannot be negative: {value}")
    return value


# -- dissect ----------------------------------------------------------------------

def _read_input(args: argparse.Namespace) -> bytes:
    if args.hex is not None and args.file is not None:
        raise UsageError("give either --hex or a FILE, not both")
    if args.hex is not None:
        return _hex(args.hex, "--hex")
    if args.file is None:
        raise UsageError("nothing to dissect: give --hex HEX, a FILE, or - for standard input")
    if args.file == "-":
        return sys.stdin.buffer.read()
    try:
        with open(args.file, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None


def cmd_dissect(args: argparse.Namespace) -> int:
    """``wsframe dissect``: show every frame; exit 1 on a violation."""
    data = _read_input(args)
    role = Role.SERVER if args.role == "server" else Role.CLIENT
    result = dissect(data, role, max_frame_size=args.max_frame_size,
                     max_message_size=args.max_message_size)
    if args.json:
        print(json.dumps(to_json(result), indent=2))
    else:
        print(render_text(result))
    return EXIT_OK if result.valid else EXIT_VIOLATION


# -- explain / compare -------------------------------------------------------------

def _info_json(info: CloseCodeInfo) -> dict[str, object]:
    return {
        "code": info.code, "last": info.last, "name": info.name, "constant": info.constant,
        "meaning": info.meaning, "when_seen": info.when_seen, "what_to_do": info.what_to_do,
        "sendable": info.sendable, "sent_by": info.sent_by, "retry": info.retry.name,
        "reconnect": info.reconnect, "reference": info.reference,
    }


def _wrap(label: str, text: str, width: int = 78) -> list[str]:
    indent = " " * 20
    lines = textwrap.wrap(text, width=width, initial_indent=f"  {label:<17} ",
                          subsequent_indent=indent)
    return lines or [f"  {label}"]


def cmd_explain(args: argparse.Namespace) -> int:
    """``wsframe explain CODE``: what a close code means and what to do."""
    info = explain(_code(args.code))
    if args.json:
        print(json.dumps(_info_json(info), indent=2))
        return EXIT_OK
    lines = [info.label + (f"  (CloseCode.{info.constant})" if info.constant else "")]
    for label, text in (("meaning", info.meaning), ("when you see it", info.when_seen),
                        ("what to do", info.what_to_do),
                        ("in a Close frame", "may be sent" if info.sendable else
                         "must never be sent"),
                        ("sent by", info.sent_by), ("reconnect", info.reconnect),
                        ("defined in", info.reference)):
        lines += _wrap(label, text)
    print("\n".join(lines))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """``wsframe compare A B``: two close codes side by side."""
    comparison = compare(_code(args.a), _code(args.b))
    left, right = comparison.left, comparison.right
    if args.json:
        print(json.dumps({"left": _info_json(left), "right": _info_json(right),
                          "rows": comparison.rows, "summary": comparison.summary}, indent=2))
        return EXIT_OK
    column = 34
    lines = [f"{'':16}  {left.label:<{column}}  {right.label}",
             f"{'':16}  {'-' * column}  {'-' * column}"]
    for label, a, b in comparison.rows[1:]:
        wrapped_a = textwrap.wrap(a, column) or [""]
        wrapped_b = textwrap.wrap(b, column) or [""]
        for i in range(max(len(wrapped_a), len(wrapped_b))):
            name = label if i == 0 else ""
            cell_a = wrapped_a[i] if i < len(wrapped_a) else ""
            cell_b = wrapped_b[i] if i < len(wrapped_b) else ""
            lines.append(f"{name:<16}  {cell_a:<{column}}  {cell_b}".rstrip())
        lines.append("")
    lines += textwrap.wrap("In short: " + comparison.summary, 78)
    print("\n".join(lines))
    return EXIT_OK


# -- backoff ---------------------------------------------------------------------------

def cmd_backoff(args: argparse.Namespace) -> int:
    """``wsframe backoff``: the reconnect advice and schedule after a close code."""
    code = _code(args.code)
    if args.attempts < 1:
        raise UsageError("--attempts must be at least 1")
    rng = random.Random(args.seed)
    try:
        backoff = Backoff(initial=args.initial, factor=args.factor, max_delay=args.max_delay,
                          jitter=args.jitter, random=rng.random)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    advice = reconnect_advice(code)
    print(textwrap.fill(advice.summary, 78))
    if advice.retry in (Retry.NOT_UNCHANGED, Retry.NOT_NEEDED):
        print("No backoff schedule: " + advice.retry.value + ".")
        return EXIT_OK
    seeded = f", seed {args.seed}" if args.seed is not None else ""
    print(f"\nexponential backoff: initial {args.initial:g} s, factor {args.factor:g}, "
          f"max {args.max_delay:g} s, jitter {args.jitter}{seeded}")
    print(f"{'attempt':>7}  {'base delay':>10}  {'jitter range':>17}  {'wait':>8}  "
          f"{'total':>8}")
    total = 0.0
    for attempt in range(args.attempts):
        low, high = backoff.bounds(attempt)
        delay = backoff.next_delay()
        total += delay
        span = f"{low:7.2f}-{high:.2f} s"
        print(f"{attempt + 1:>7}  {backoff.base_delay(attempt):>8.2f} s  {span:>17}  "
              f"{delay:>6.2f} s  {total:>6.2f} s")
    print("\nReset the backoff after a connection succeeds. Jitter spreads reconnecting "
          "clients\nout so that a server shedding load is not hit by all of them at once.")
    return EXIT_OK


# -- build -----------------------------------------------------------------------------

def cmd_build(args: argparse.Namespace) -> int:
    """``wsframe build``: a frame's bytes as hex (and, with --explain, its dissection)."""
    mask = _hex(args.mask, "--mask") if args.mask is not None else None
    if mask is not None and len(mask) != 4:
        raise UsageError(f"--mask: a masking key is 4 bytes (8 hex digits), got {len(mask)}")
    try:
        if args.kind == "close":
            if args.payload is not None:
                raise UsageError("build close takes --code and --reason, not a PAYLOAD")
            code = None if args.code == "none" else _code(args.code)
            frame = build_close(code, args.reason or "", mask=mask)
        else:
            if args.code is not None or args.reason is not None:
                raise UsageError("--code and --reason are for build close")
            text = args.payload or ""
            payload = _hex(text, "PAYLOAD") if args.hex else text.encode("utf-8")
            opcode = {"text": Opcode.TEXT, "binary": Opcode.BINARY, "ping": Opcode.PING,
                      "pong": Opcode.PONG, "continuation": Opcode.CONTINUATION}[args.kind]
            frame = build_frame(opcode, payload, fin=not args.no_fin, mask=mask)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    print(frame.hex(" "))
    if args.explain:
        # A masked frame is what a client sends: dissect it as the server reads it.
        role = Role.SERVER if mask is not None else Role.CLIENT
        print()
        print(render_text(dissect(frame, role)))
    return EXIT_OK


# -- the parser --------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wsframe`` command."""
    parser = _Parser(prog="wsframe", description="RFC 6455 WebSocket frames: dissect, "
                     "explain close codes, build frames.")
    parser.add_argument("--version", action="version", version=f"wsframe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("dissect", help="show every frame of a byte stream, bit by bit")
    p.add_argument("file", nargs="?", metavar="FILE", help="raw bytes to read, or - for stdin")
    p.add_argument("--hex", help="the bytes as hex digits instead of a file")
    p.add_argument("--role", choices=("server", "client"), default="server",
                   help="the receiving side: a server expects masked frames (default)")
    p.add_argument("--json", action="store_true", help="print JSON for tools")
    p.add_argument("--max-frame-size", type=_size, default=None, metavar="BYTES")
    p.add_argument("--max-message-size", type=_size, default=None, metavar="BYTES")
    p.set_defaults(func=cmd_dissect)

    p = sub.add_parser("explain", help="what a close code means and what to do")
    p.add_argument("code", metavar="CODE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("compare", help="two close codes side by side")
    p.add_argument("a", metavar="CODE")
    p.add_argument("b", metavar="CODE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("backoff", help="the reconnect schedule after a close code")
    p.add_argument("--code", default="1013", help="the close code received (default 1013)")
    p.add_argument("--attempts", type=int, default=6)
    p.add_argument("--initial", type=float, default=1.0, help="first delay in s (1)")
    p.add_argument("--factor", type=float, default=2.0, help="growth per attempt (2)")
    p.add_argument("--max-delay", type=float, default=60.0, help="cap in s (60)")
    p.add_argument("--jitter", choices=JITTER_MODES, default="full")
    p.add_argument("--seed", type=int, default=None, help="seed the jitter (reproducible)")
    p.set_defaults(func=cmd_backoff)

    p = sub.add_parser("build", help="build a frame and print its bytes as hex")
    p.add_argument("kind", choices=("close", "text", "binary", "continuation", "ping", "pong"))
    p.add_argument("payload", nargs="?", metavar="PAYLOAD",
                   help="the payload: text (UTF-8), or hex digits with --hex")
    p.add_argument("--hex", action="store_true", help="PAYLOAD is hex digits")
    p.add_argument("--code", help="close: the status code, or 'none' for an empty close")
    p.add_argument("--reason", help="close: the reason text")
    p.add_argument("--mask", help="masking key, 8 hex digits (a client's frame)")
    p.add_argument("--no-fin", action="store_true", help="clear FIN (a first fragment)")
    p.add_argument("--explain", action="store_true", help="also dissect what was built")
    p.set_defaults(func=cmd_build, code=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "build" and args.kind == "close" and args.code is None:
            args.code = "1000"
        status: int = args.func(args)
        return status
    except UsageError as exc:
        print(f"wsframe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
