"""The ``wsframe`` command line: dissect frames, explain close codes, build frames.

    wsframe dissect [--role server|client] [--json] [--deflate [PARAMS]]
                    [--max-frame-size N] [--max-message-size N] (--hex HEX | FILE | -)
    wsframe dissect [-v] [--json] [--deflate [PARAMS]] [--max-message-size N]
                    [--max-connections N] CAPTURE.pcap
    wsframe proxy --listen HOST:PORT --upstream HOST:PORT [-v] [--json]
                  [--max-message-size N] [--max-connections N]
    wsframe explain CODE [--json]
    wsframe compare CODE CODE [--json]
    wsframe backoff [--code 1013] [--attempts N] [--jitter full|equal|none] [--seed N]
    wsframe build close --code 1013 [--reason TEXT] [--mask HEX] [--raw] [--explain]
    wsframe build text|binary|continuation|ping|pong [PAYLOAD] [--hex] [--mask HEX]
                  [--no-fin] [--rsv1] [--no-validate] [--raw] [--explain]

Exit status: 0 success (for dissect: no violation), 1 a protocol violation
was found (dissect, build --explain), 2 bad usage or unreadable input. Errors
are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from typing import IO, Any, NoReturn

from . import COMPILED, __version__
from .backoff import JITTER_MODES, Backoff, reconnect_advice
from .builders import build_close, build_frame
from .close_codes import CloseCodeInfo, Retry, compare, explain
from .dissect import CAPTURE_MAX_CONNECTIONS, CAPTURE_MAX_MESSAGE_SIZE, Dissector, dissect
from .extensions.permessage_deflate import DeflateParams, PerMessageDeflate
from .handshake import HandshakeError
from .messages import DEFAULT_MAX_MESSAGE_SIZE, FOLLOW_MESSAGE_LIMIT
from .opcodes import Opcode
from .render import (
    frame_json,
    reading_line,
    render_frame,
    render_text,
    render_verdict,
    verdict_json,
)
from .roles import Role

__all__ = ["main"]

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2
EXIT_STATUSES = ("exit status: 0 success (dissect: no violation), 1 a protocol violation was "
                 "found, 2 bad usage or unreadable input")

#: Bytes read from a file or standard input at a time (dissect streams).
READ_SIZE = 65536
#: --max-message-size not given: the library's default (a capture's, for captures).
_LIBRARY_DEFAULT = -1
#: The most attempts `backoff` prints.
MAX_ATTEMPTS = 1000

_HEX_TEXT = re.compile(rb"(?:0[xX])?[0-9A-Fa-f:\s]*")
_DECIMAL = re.compile(r"[0-9]+")


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
    # Plain ASCII digits only: int() would also take "1_000" and other scripts' digits.
    if not _DECIMAL.fullmatch(text):
        raise UsageError(f"{text!r} is not a close code (a number from 0 to 65535)")
    digits = text.lstrip("0") or "0"
    if len(digits) > 5 or int(digits) > 65535:
        raise UsageError(f"{text} is not a close code: close codes are 0-65535")
    return int(digits)


def _count(text: str) -> int:
    if not _DECIMAL.fullmatch(text) or len(text) > 9 or int(text) == 0:
        raise UsageError(f"{text!r} is not a count (digits, at least 1)")
    return int(text)


def _size(text: str) -> int | None:
    if text.lower() == "none":
        return None
    if not _DECIMAL.fullmatch(text) or len(text) > 19:
        raise UsageError(f"{text!r} is not a size in bytes (digits, or 'none' for no limit)")
    return int(text)


# -- dissect ----------------------------------------------------------------------

def _chunks(args: argparse.Namespace) -> Iterator[bytes]:
    """The input, READ_SIZE bytes at a time (never all of it at once)."""
    if args.hex is not None and args.file is not None:
        raise UsageError("give either --hex or a FILE, not both")
    if args.hex is not None:
        yield _hex(args.hex, "--hex")
        return
    if args.file is None:
        raise UsageError("nothing to dissect: give --hex HEX, a FILE, or - for standard input")
    handle = getattr(args, "handle", None) or _open_input(args.file)
    if handle is sys.stdin.buffer:
        yield from _read(handle)
        return
    with handle:
        yield from _read(handle)


def _open_input(name: str) -> IO[bytes]:
    """The file to dissect (``-``: standard input), opened for streaming."""
    if name == "-":
        return sys.stdin.buffer
    try:
        return open(name, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None


def _is_capture(handle: IO[bytes]) -> bool:
    """Does the input start like a pcap or pcapng file? (Peeks; reads nothing.)"""
    from .tools.pcap import is_capture  # noqa: PLC0415 (the tools load on demand)
    peek = getattr(handle, "peek", None)
    try:
        head = peek(4)[:4] if peek is not None else b""
    except OSError as exc:
        raise UsageError(f"cannot read {handle.name}: {exc.strerror or exc}") from None
    return is_capture(head)


def _dissect_capture(args: argparse.Namespace, handle: IO[bytes]) -> int:
    """A pcap/pcapng capture: every WebSocket connection in it, both directions."""
    # Imported here: the capture tools are not part of the codec (wsframe.tools).
    from .tools.capture import (  # noqa: PLC0415
        CaptureReport,
        CaptureStats,
        dissect_capture,
    )
    from .tools.pcap import CaptureError  # noqa: PLC0415

    limit = CAPTURE_MAX_MESSAGE_SIZE if args.max_message_size == _LIBRARY_DEFAULT \
        else args.max_message_size
    params = None
    if args.deflate is not None:
        try:
            params = DeflateParams.from_header(args.deflate)
        except (HandshakeError, ValueError) as exc:
            raise UsageError(f"--deflate: {exc}") from None
    stats = CaptureStats()
    report = CaptureReport(json_output=args.json, verbose=args.verbose)
    if not args.json:
        print(f"Reading the capture {args.file}: every TCP connection, both directions.")
    try:
        with handle:
            for record in dissect_capture(handle, max_message_size=limit, deflate=params,
                                          max_connections=args.max_connections, stats=stats):
                report.record(record)
    except CaptureError as exc:
        report.end(stats)
        raise UsageError(f"{args.file}: {exc}") from None
    report.end(stats)
    return EXIT_VIOLATION if report.violations else EXIT_OK


def _read(handle: IO[bytes]) -> Iterator[bytes]:
    while True:
        try:
            chunk = handle.read(READ_SIZE)
        except OSError as exc:
            raise UsageError(f"cannot read {getattr(handle, 'name', 'the input')}: "
                             f"{exc.strerror or exc}") from None
        if not chunk:
            return
        yield chunk


class _HexText:
    """Decodes hex text that arrives in pieces (whitespace and ':' allowed)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.odd = ""
        self.seen = 0

    def decode(self, chunk: bytes) -> bytes:
        text = chunk.decode("latin-1")
        cleaned = self.odd + "".join(text.split()).replace(":", "")
        if self.seen == 0 and cleaned[:2].lower() == "0x":
            cleaned = cleaned[2:]
        self.seen += len(chunk)
        keep = len(cleaned) - len(cleaned) % 2
        self.odd = cleaned[keep:]
        try:
            return bytes.fromhex(cleaned[:keep])
        except ValueError:
            bad = next(c for c in cleaned if c not in "0123456789abcdefABCDEF")
            raise UsageError(f"{self.name}: the input looked like hex text, but {bad!r} is not "
                             "a hex digit (give --raw to read it as bytes)") from None

    def end(self) -> None:
        if self.odd:
            raise UsageError(f"{self.name}: hex text with an odd number of digits")


def _looks_like_hex(chunk: bytes) -> bool:
    """Hex text, as `wsframe build` prints it? (A stream of frames never starts so:
    an ASCII digit or letter as the first byte sets RSV bits or a reserved opcode.)"""
    return bool(chunk.strip()) and _HEX_TEXT.fullmatch(chunk[:4096]) is not None \
        and sum(c in b"0123456789abcdefABCDEF" for c in chunk[:4096]) >= 2


def _deflate(args: argparse.Namespace, role: Role) -> list[PerMessageDeflate]:
    if args.deflate is None:
        return []
    try:
        params = DeflateParams.from_header(args.deflate)
        return [PerMessageDeflate(role, params)]
    except (HandshakeError, ValueError) as exc:
        raise UsageError(f"--deflate: {exc}") from None


# The first bytes of an HTTP request or response: an opening handshake (RFC
# 6455 4), which comes before any frame and is not one.
_HTTP_STARTS = (b"GET ", b"HTTP/1.")
_HTTP_HINT = ("Hint: the input starts with an HTTP handshake (RFC 6455 section 4), which "
              "is not a frame: dissect the bytes after its blank line, or a capture file "
              "(.pcap/.pcapng), where wsframe follows the Upgrade itself.")


def cmd_dissect(args: argparse.Namespace) -> int:
    """``wsframe dissect``: show every frame as it is read; exit 1 on a violation."""
    if args.file is not None and args.hex is None and not args.raw:
        handle = _open_input(args.file)
        if _is_capture(handle):
            return _dissect_capture(args, handle)
        args.handle = handle
    if args.max_message_size == _LIBRARY_DEFAULT:
        args.max_message_size = DEFAULT_MAX_MESSAGE_SIZE
    if args.verbose:
        raise UsageError("-v/--verbose is for captures (raw input is always shown in full)")
    role = Role.SERVER if args.role == "server" else Role.CLIENT
    dissector = Dissector(role, max_frame_size=args.max_frame_size,
                          max_message_size=args.max_message_size,
                          extensions=_deflate(args, role))
    out = _JsonOut() if args.json else None
    hex_text: _HexText | None = None
    first = True
    started = False
    for piece in _chunks(args):
        if first:
            first = False
            if args.file is not None and not args.raw and _looks_like_hex(piece):
                hex_text = _HexText(args.file)
        chunk = hex_text.decode(piece) if hex_text is not None else piece
        if not started:
            started = True
            if out is None:
                print(reading_line(role) + (" (The input is hex text; decoded it.)"
                                            if hex_text is not None else ""))
                if chunk.startswith(_HTTP_STARTS):
                    print(_HTTP_HINT)
        for view in dissector.feed(chunk):
            if out is not None:
                out.frame(frame_json(view))
            else:
                print("\n".join(render_frame(view, role)))
        if dissector.error is not None:
            break               # the first violation ends the dissection
    else:
        if hex_text is not None:
            hex_text.end()
    if not started and out is None:
        print(reading_line(role))
    verdict = dissector.finish()
    if out is not None:
        out.end(verdict_json(verdict) | {"input": "hex" if hex_text or args.hex else "raw"})
    else:
        print("\n".join(render_verdict(verdict)))
    return EXIT_OK if verdict.valid else EXIT_VIOLATION


class _JsonOut:
    """Writes one JSON document frame by frame (memory stays bounded)."""

    def __init__(self) -> None:
        self.count = 0
        sys.stdout.write('{\n  "frames": [')

    def frame(self, entry: dict[str, Any]) -> None:
        sys.stdout.write(("," if self.count else "") + "\n    " + json.dumps(entry))
        self.count += 1

    def end(self, summary: dict[str, Any]) -> None:
        body = json.dumps(summary, indent=2)[1:-1].strip("\n")
        sys.stdout.write(("\n  ]" if self.count else "]") + ",\n" + body + "\n}\n")


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

def _number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number, not {text}")
    return value


def cmd_backoff(args: argparse.Namespace) -> int:
    """``wsframe backoff``: the reconnect advice and schedule after a close code."""
    code = _code(args.code)
    if not 1 <= args.attempts <= MAX_ATTEMPTS:
        raise UsageError(f"--attempts must be from 1 to {MAX_ATTEMPTS}, not {args.attempts}")
    initial = _number("--initial", args.initial)
    factor = _number("--factor", args.factor)
    max_delay = _number("--max-delay", args.max_delay)
    if initial <= 0:
        raise UsageError(f"--initial must be > 0 seconds, not {args.initial}")
    if factor < 1:
        raise UsageError(f"--factor must be >= 1 (the delay never shrinks), not {args.factor}")
    if max_delay < initial:
        raise UsageError(f"--max-delay ({args.max_delay}) must be >= --initial ({args.initial})")
    rng = random.Random(args.seed)
    backoff = Backoff(initial=initial, factor=factor, max_delay=max_delay,
                      jitter=args.jitter, random=rng.random)
    advice = reconnect_advice(code)
    print(textwrap.fill(advice.summary, 78))
    if advice.retry in (Retry.NOT_UNCHANGED, Retry.NOT_NEEDED):
        print("No backoff schedule: " + advice.retry.value + ".")
        return EXIT_OK
    seeded = f", seed {args.seed}" if args.seed is not None else ""
    print(f"\nexponential backoff: initial {initial:g} s, factor {factor:g}, "
          f"max {max_delay:g} s, jitter {args.jitter}{seeded}")
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

def cmd_proxy(args: argparse.Namespace) -> int:
    """``wsframe proxy``: forward a client's connections to a server, showing every frame."""
    import asyncio  # noqa: PLC0415 (the proxy alone needs an event loop)

    from .tools.proxy import ListenError, ProxyOptions, parse_address, run_proxy  # noqa: PLC0415

    try:
        listen = parse_address(args.listen, "--listen")
        upstream = parse_address(args.upstream, "--upstream")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    limit = CAPTURE_MAX_MESSAGE_SIZE if args.max_message_size == _LIBRARY_DEFAULT \
        else args.max_message_size
    options = ProxyOptions(listen, upstream, verbose=args.verbose, json_output=args.json,
                           max_message_size=limit, max_connections=args.max_connections)

    def ready(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        return asyncio.run(run_proxy(options, ready=ready))
    except ListenError as exc:
        raise UsageError(str(exc)) from None


def cmd_build(args: argparse.Namespace) -> int:
    """``wsframe build``: a frame's bytes as hex (or raw), and with --explain its dissection."""
    mask = _hex(args.mask, "--mask") if args.mask is not None else None
    if mask is not None and len(mask) != 4:
        raise UsageError(f"--mask: a masking key is 4 bytes (8 hex digits), got {len(mask)}")
    try:
        if args.kind == "close":
            if args.payload is not None:
                raise UsageError("build close takes --code and --reason, not a PAYLOAD")
            if args.rsv1 or args.no_fin or args.hex:
                raise UsageError("--rsv1, --no-fin and --hex are for data and ping/pong frames")
            code = None if args.code == "none" else _code(args.code or "1000")
            if args.no_validate:
                payload = b"" if code is None else code.to_bytes(2, "big") + (
                    args.reason or "").encode("utf-8", "surrogatepass")
                frame = build_frame(Opcode.CLOSE, payload, mask=mask, validate=False)
            else:
                frame = build_close(code, args.reason or "", mask=mask)
        else:
            if args.code is not None or args.reason is not None:
                raise UsageError("--code and --reason are for build close")
            text = args.payload or ""
            payload = _hex(text, "PAYLOAD") if args.hex else text.encode("utf-8")
            opcode = {"text": Opcode.TEXT, "binary": Opcode.BINARY, "ping": Opcode.PING,
                      "pong": Opcode.PONG, "continuation": Opcode.CONTINUATION}[args.kind]
            frame = build_frame(opcode, payload, fin=not args.no_fin, rsv1=args.rsv1,
                                mask=mask, validate=not args.no_validate)
    except (ValueError, TypeError) as exc:
        # The library's errors name its keyword; here the flag is --no-validate.
        raise UsageError(str(exc).replace("pass validate=False", "pass --no-validate")) from None
    if args.raw:
        sys.stdout.flush()
        sys.stdout.buffer.write(frame)
        sys.stdout.buffer.flush()
    else:
        print(frame.hex(" "))
    if not args.explain:
        return EXIT_OK
    # A masked frame is what a client sends: dissect it as the server reads it.
    role = Role.SERVER if mask is not None else Role.CLIENT
    extensions = [PerMessageDeflate(role)] if args.rsv1 else []
    result = dissect(frame, role, extensions=extensions)
    print(file=sys.stderr if args.raw else sys.stdout)
    print(render_text(result), file=sys.stderr if args.raw else sys.stdout)
    return EXIT_OK if result.valid else EXIT_VIOLATION


# -- the parser --------------------------------------------------------------------------

def _subparser(sub: Any, name: str, summary: str, description: str,
               examples: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=f"{summary}.\n\n{description}",
        epilog=f"examples:\n{textwrap.indent(examples.strip(), '  ')}\n\n{EXIT_STATUSES}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wsframe`` command."""
    parser = _Parser(prog="wsframe", description="RFC 6455 WebSocket frames: dissect, "
                     "explain close codes, build frames.", epilog=EXIT_STATUSES)
    build = "compiled with mypyc" if COMPILED else "pure Python"
    parser.add_argument("--version", action="version",
                        version=f"wsframe {__version__} ({build})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = _subparser(sub, "dissect", "show every frame of a byte stream or a capture",
                   "Reads the bytes one side of a connection received, as that side would: "
                   "each frame on the\nRFC 6455 5.2 header diagram, the messages, and at "
                   "the first violation the rule, its\nRFC section, the close code and the "
                   "Close frame to send back. Input is read in pieces\nand printed as frames "
                   "complete; hex text (as `wsframe build` prints) is recognised.\n\n"
                   "A pcap or pcapng capture (tcpdump, Wireshark) is recognised too: every "
                   "TCP connection is\nreassembled, the HTTP Upgrade gives the roles and "
                   "permessage-deflate, and both directions\nare dissected: one line per "
                   "frame (-v: the diagram), each violation with the side that\nbroke it and "
                   "its packet, a summary per connection. Of each frame and\nmessage the "
                   "first 64 KiB are kept to show; the rest is read, checked and counted\n"
                   "(memory stays bounded: see docs/captures.md).",
                   """
wsframe dissect samples/valid-exchange.bin
wsframe dissect samples/capture-middlebox.pcap
wsframe dissect --role client --hex "88 06 03 f5 62 75 73 79"
wsframe build text hi --mask 37fa213d | wsframe dissect -
wsframe dissect --role client --deflate "permessage-deflate" --hex c107f248cdc9c90700""")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="raw bytes (or hex text) to read, or - for standard input")
    p.add_argument("--hex", help="the bytes as hex digits instead of a file")
    p.add_argument("--raw", action="store_true",
                   help="read FILE as raw bytes even if it looks like hex text")
    p.add_argument("--role", choices=("server", "client"), default="server",
                   help="the receiving side: a server reads a client's masked frames "
                   "(default), a client reads a server's unmasked ones")
    p.add_argument("--json", action="store_true", help="print one JSON document for tools")
    p.add_argument("--deflate", nargs="?", const="permessage-deflate", metavar="PARAMS",
                   help="permessage-deflate was negotiated: the response's "
                   "Sec-WebSocket-Extensions value (default: 'permessage-deflate'); "
                   "compressed messages are shown inflated")
    p.add_argument("--max-frame-size", type=_size, default=FOLLOW_MESSAGE_LIMIT,
                   metavar="BYTES", help="largest frame payload accepted, or 'none' "
                   "(default: follows --max-message-size); larger is a 1009 violation")
    p.add_argument("--max-message-size", type=_size, default=_LIBRARY_DEFAULT,
                   metavar="BYTES", help="largest message accepted, or 'none' (default "
                   f"{DEFAULT_MAX_MESSAGE_SIZE}, as MessageReader; for a capture "
                   f"{CAPTURE_MAX_MESSAGE_SIZE}); larger is a 1009 violation")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="for a capture: every frame on the header diagram, not one line")
    p.add_argument("--max-connections", type=_count, default=CAPTURE_MAX_CONNECTIONS,
                   metavar="N", help="for a capture: connections followed at once (default "
                   f"{CAPTURE_MAX_CONNECTIONS:,}); past it the least recently active one is "
                   "dropped, and the totals say how many were")
    p.set_defaults(func=cmd_dissect)

    p = _subparser(sub, "proxy", "a transparent tap: forward a client to a server, show "
                   "every frame",
                   "Listens on --listen; each client gets its own connection to --upstream. "
                   "Every byte is\nforwarded unchanged, both ways; a copy is read as each "
                   "receiver reads it: one line per\nframe (-v: the header diagram), each "
                   "violation with the side that broke the rule (it keeps\nforwarding: it "
                   "observes, it does not enforce), and a summary when a connection ends.\n"
                   "Ctrl-C or SIGTERM stops it: open connections are summarised, then the "
                   "totals.",
                   """
wsframe proxy --listen 127.0.0.1:9102 --upstream 127.0.0.1:9001
wsframe proxy --listen [::1]:9102 --upstream example.internal:80 -v""")
    p.add_argument("--listen", required=True, metavar="HOST:PORT",
                   help="where clients connect (point the client here)")
    p.add_argument("--upstream", required=True, metavar="HOST:PORT",
                   help="the server (or the suspect middlebox) to forward to")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="every frame on the header diagram, not one line")
    p.add_argument("--json", action="store_true",
                   help="one JSON document on stdout when it stops (frames written as they "
                   "come)")
    p.add_argument("--max-message-size", type=_size, default=_LIBRARY_DEFAULT,
                   metavar="BYTES", help=f"largest message read, or 'none' (default "
                   f"{CAPTURE_MAX_MESSAGE_SIZE}); it limits only what is shown: every byte is "
                   "forwarded")
    p.add_argument("--max-connections", type=_count, default=None, metavar="N",
                   help="clients served at once (default 256, fewer if the file "
                   "descriptors do not allow it); past it a new client is refused")
    p.set_defaults(func=cmd_proxy)

    p = _subparser(sub, "explain", "what a close code means and what to do",
                   "Any code 0-65535: its name, meaning, when you see it, what to do, "
                   "whether it may be sent,\nand whether to reconnect.",
                   "wsframe explain 1013\nwsframe explain 1002 --json")
    p.add_argument("code", metavar="CODE", help="a close code, 0-65535 (decimal digits)")
    p.add_argument("--json", action="store_true", help="print JSON for tools")
    p.set_defaults(func=cmd_explain)

    p = _subparser(sub, "compare", "two close codes side by side",
                   "The registry's knowledge about both codes, row by row, and a summary.",
                   "wsframe compare 1002 1013")
    p.add_argument("a", metavar="CODE")
    p.add_argument("b", metavar="CODE")
    p.add_argument("--json", action="store_true", help="print JSON for tools")
    p.set_defaults(func=cmd_compare)

    p = _subparser(sub, "backoff", "the reconnect schedule after a close code",
                   "Whether to reconnect after CODE, and if so the exponential backoff "
                   "delays with jitter.",
                   "wsframe backoff --code 1013 --attempts 6 --seed 2026\n"
                   "wsframe backoff --jitter none --factor 3")
    p.add_argument("--code", default="1013", help="the close code received (default 1013)")
    p.add_argument("--attempts", type=int, default=6,
                   help=f"how many delays to print, 1-{MAX_ATTEMPTS} (default 6)")
    p.add_argument("--initial", default="1", help="first delay in seconds (default 1)")
    p.add_argument("--factor", default="2", help="growth per attempt, >= 1 (default 2)")
    p.add_argument("--max-delay", default="60", help="cap in seconds (default 60)")
    p.add_argument("--jitter", choices=JITTER_MODES, default="full",
                   help="full (default), equal or none")
    p.add_argument("--seed", type=int, default=None, help="seed the jitter (reproducible)")
    p.set_defaults(func=cmd_backoff)

    p = _subparser(sub, "build", "build a frame and print its bytes",
                   "Prints the frame as hex (--raw: the bytes themselves, to pipe into "
                   "another program).\nRefuses frames a strict receiver rejects, unless "
                   "--no-validate (for teaching and tests);\n--explain dissects what was "
                   "built and exits 1 if it breaks a rule.",
                   """
wsframe build text Hello --mask 37fa213d --explain
wsframe build close --code 1013 --reason busy
wsframe build text hi --mask 37fa213d --raw | wsframe dissect --raw -
wsframe build ping --no-fin --no-validate --explain""")
    p.add_argument("kind", choices=("close", "text", "binary", "continuation", "ping", "pong"))
    p.add_argument("payload", nargs="?", metavar="PAYLOAD",
                   help="the payload: text (UTF-8), or hex digits with --hex")
    p.add_argument("--hex", action="store_true", help="PAYLOAD is hex digits")
    p.add_argument("--code", help="close: the status code (default 1000), or 'none'")
    p.add_argument("--reason", help="close: the reason text")
    p.add_argument("--mask", help="masking key, 8 hex digits (a client's frame)")
    p.add_argument("--no-fin", action="store_true", help="clear FIN (a first fragment)")
    p.add_argument("--rsv1", action="store_true",
                   help="set RSV1 (a compressed message's first frame, RFC 7692)")
    p.add_argument("--no-validate", action="store_true",
                   help="build it even if a strict receiver rejects it")
    p.add_argument("--raw", action="store_true", help="write the raw bytes, not hex")
    p.add_argument("--explain", action="store_true", help="also dissect what was built")
    p.set_defaults(func=cmd_build)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        # `wsframe build text --hex c3`: argparse takes the optional PAYLOAD
        # with KIND, before the options, and leaves c3 over; it is the payload.
        if extra and getattr(args, "command", None) == "build" and args.payload is None \
                and len(extra) == 1 and not extra[0].startswith("-"):
            args.payload, extra = extra[0], []
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
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
