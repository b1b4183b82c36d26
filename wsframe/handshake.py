"""The opening handshake (RFC 6455 section 4), as small sans-I/O helpers.

wsframe is a framing codec; the HTTP exchange that precedes framing belongs
to whoever owns the connection. These helpers cover what every embedder
needs and gets subtly wrong:

* server side: `HeadReader` collects the request head as bytes arrive (with
  a size cap), `check_request` checks it (4.2.1), `choose_subprotocol` picks
  a subprotocol, `server_response` builds the 101 answer (4.2.2) and
  `rejection` (or `HandshakeError.response`) any other answer;
* client side: `client_request` builds the request (4.1), `check_response`
  checks the answer, the accept key and the subprotocol.

`parse_head` is a deliberately minimal, strict reader of an HTTP/1.1 request
or response head (no obsolete line folding, header names must be tokens,
no control characters).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus

__all__ = [
    "DEFAULT_MAX_HEAD_SIZE",
    "GUID",
    "BodyReader",
    "HandshakeError",
    "Head",
    "HeadReader",
    "accept_headers",
    "accept_key",
    "body_chunk",
    "check_connect",
    "check_request",
    "check_response",
    "choose_subprotocol",
    "client_request",
    "offered_subprotocols",
    "parse_extensions",
    "parse_head",
    "rejection",
    "response_head",
    "server_response",
]

#: The largest request or response head `HeadReader` accepts by default (16 KiB).
DEFAULT_MAX_HEAD_SIZE = 16 * 1024

Headers = Iterable[tuple[str | bytes, str | bytes]]

#: The GUID that RFC 6455 section 1.3 appends to the key.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class HandshakeError(ValueError):
    """The handshake is not a valid WebSocket upgrade.

    ``status`` is the HTTP status a server should answer with: 400, 405 for
    a method other than GET, 426 for a missing upgrade or an unsupported
    version (`response` adds ``Sec-WebSocket-Version: 13`` then), 431 for a
    head over the size limit.

    The cause, for programs (the message is for people): ``header`` names
    the header (or pseudo-header, or "start line") at fault, ``found`` is
    what was there (None: it was missing) and ``required`` what the RFC
    asks for; each is None where it does not apply.
    """

    def __init__(self, message: str, status: int = 400, *, header: str | None = None,
                 found: str | None = None, required: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.header = header
        self.found = found
        self.required = required

    def response(self) -> bytes:
        """The HTTP response a server sends back: the status and the reason as body."""
        headers: list[tuple[str, str]] = []
        if self.status == 426:
            headers.append(("Sec-WebSocket-Version", "13"))
        if self.status == 405:
            headers.append(("Allow", "GET"))
        return rejection(self.status, headers=headers, body=f"{self}\n".encode())


class Head:
    """A parsed HTTP/1.1 request or response head.

    ``start_line`` is split into its three parts; ``headers`` keeps order and
    original case; `get` / `get_all` look names up case-insensitively.
    """

    __slots__ = ("headers", "start_line")

    def __init__(self, start_line: tuple[str, str, str], headers: list[tuple[str, str]]) -> None:
        self.start_line = start_line
        self.headers = headers

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        lower = name.lower()
        return [value for key, value in self.headers if key.lower() == lower]

    def get(self, name: str) -> str | None:
        """The values of header ``name`` joined with ", ", or None if absent."""
        values = self.get_all(name)
        return ", ".join(values) if values else None


class HeadReader:
    """Collects an HTTP head (request or response) as bytes arrive, sans I/O.

    `feed` returns None until the blank line that ends the head has arrived,
    then the parsed `Head`; what came after it (the first WebSocket bytes,
    if the peer did not wait) is in `remainder`. A head larger than
    ``max_size`` bytes raises HandshakeError 431 as soon as it is (without
    waiting for the rest); a malformed one, HandshakeError 400.
    """

    __slots__ = ("_buffer", "_error", "max_size", "remainder")

    def __init__(self, max_size: int = DEFAULT_MAX_HEAD_SIZE) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 4:
            raise ValueError(f"max_size must be an int >= 4, not {max_size!r}")
        self.max_size = max_size
        self._buffer = bytearray()
        self.remainder = b""
        self._error: HandshakeError | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> Head | None:
        """Add received bytes; return the parsed head once it is complete.

        After a HandshakeError the reader is terminal: it holds nothing and
        every later call raises the same error (the answer is owed once; no
        more bytes are buffered for a peer that goes on sending).
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, bytearray or memoryview, not "
                            f"{type(data).__name__}")
        if self._error is not None:
            raise self._error.with_traceback(None)   # not a traceback that grows per call
        buffer = self._buffer
        searched = max(0, len(buffer) - 3)
        buffer += data
        end = buffer.find(b"\r\n\r\n", searched)
        size = len(buffer) if end < 0 else end + 4
        try:
            if size > self.max_size:
                raise HandshakeError(f"the HTTP head is larger than {self.max_size} bytes",
                                     431)
            if end < 0:
                return None
            head = parse_head(bytes(buffer[:end + 4]))
        except HandshakeError as exc:
            self._error = exc
            self._buffer = bytearray()
            raise
        self.remainder = bytes(buffer[end + 4:])
        self._buffer = bytearray()
        return head


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; 4: status-code = 3DIGIT.
_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]\Z")
_STATUS = re.compile(r"[0-9]{3}\Z")


def parse_head(data: bytes) -> Head:
    """Parse an HTTP/1.1 head (everything before the blank line).

    ``data`` may include or omit the final CRLF CRLF. Raises HandshakeError
    for anything malformed.
    """
    try:
        text = data.decode("latin-1")
    except (AttributeError, UnicodeDecodeError):
        raise HandshakeError("the HTTP head must be bytes") from None
    text = text.removesuffix("\r\n\r\n")
    lines = text.split("\r\n")
    parts = lines[0].split(" ", 2)
    # RFC 9112 3: method SP request-target SP version; no control bytes.
    # A response's status line (RFC 9112 4) starts with the version and may
    # have spaces in its reason; a request line (3) ends with the version.
    if len(parts) != 3 or not all(parts[:2]) or _CONTROL.search(lines[0]) \
            or " " in parts[1] or "\t" in parts[1] or not (
                _VERSION.match(parts[0]) and _STATUS.match(parts[1])
                if parts[0].startswith("HTTP/") else _VERSION.match(parts[2])):
        raise HandshakeError(f"malformed HTTP start line: {lines[0][:80]!r}",
                             header="start line", found=lines[0][:80],
                             required="METHOD SP TARGET SP HTTP/x.y, or HTTP/x.y SP CODE SP "
                             "REASON (RFC 9112 3, 4)")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name) or _CONTROL.search(value):
            raise HandshakeError(f"malformed HTTP header line: {line[:80]!r}",
                                 header=name[:80] if colon else None, found=line[:80],
                                 required="NAME: VALUE, the name a token, no control "
                                 "characters (RFC 9110 5)")
        headers.append((name, value.strip(" \t")))
    return Head((parts[0], parts[1], parts[2]), headers)


_EXTENSION_PARAM = re.compile(
    r'\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(?:([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)|'
    r'"((?:[^"\\]|\\.)*)"))?\s*$')


def parse_extensions(header: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse a ``Sec-WebSocket-Extensions`` value (RFC 6455 section 9.1).

    Returns the extensions in order, each as ``(name, [(param, value or None)])``.
    Quoted-string values are unquoted. Raises HandshakeError for bad syntax.
    """
    result: list[tuple[str, list[tuple[str, str | None]]]] = []
    for item in _split_outside_quotes(header, ","):
        if not item.strip():
            continue
        name, *params = _split_outside_quotes(item, ";")
        name = name.strip()
        if not _TOKEN.match(name):
            raise HandshakeError(f"malformed extension name: {name[:40]!r}")
        parsed: list[tuple[str, str | None]] = []
        for param in params:
            match = _EXTENSION_PARAM.match(param)
            if match is None:
                raise HandshakeError(f"malformed extension parameter: {param.strip()[:40]!r}")
            key, token, quoted = match.groups()
            value = token if token is not None else (
                re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else None)
            if quoted is not None and not _TOKEN.match(value or ""):
                raise HandshakeError(f"a quoted parameter value must be a token: {param!r}")
            parsed.append((key, value))
        result.append((name, parsed))
    return result


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise HandshakeError("unterminated quoted string in an extension header")
    parts.append("".join(current))
    return parts


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2).

    The key is a base64 string, so printable ASCII: anything else raises
    ValueError (TypeError if it is not a str).
    """
    if not isinstance(key, str):
        raise TypeError(f"key must be the Sec-WebSocket-Key value as str, not "
                        f"{type(key).__name__}")
    if not (key.isascii() and key.isprintable()):
        raise ValueError(f"key must be printable ASCII (a base64 string, RFC 6455 4.1), "
                         f"not {key[:40]!r}")
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _is_key(value: str) -> bool:
    """Whether ``value`` is base64 of 16 bytes, as a key must be (RFC 6455 4.1, 4.2.1)."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return len(raw) == 16


def _check_head(head: object) -> Head:
    if not isinstance(head, Head):
        raise TypeError(f"head must be a Head (from HeadReader.feed or parse_head), not "
                        f"{type(head).__name__}")
    return head


def _tokens(head: Head, name: str) -> list[str]:
    return [t.strip().lower() for value in head.get_all(name) for t in value.split(",")]


def check_request(head: Head) -> str:
    """Check a client's opening handshake (RFC 6455 4.2.1); return its key.

    Checked in this order, each with its own message and status: GET (405),
    HTTP/1.1 or later, Host, ``Upgrade: websocket`` (426), a ``Connection``
    header with the ``upgrade`` token, ``Sec-WebSocket-Version: 13`` (426,
    before the key: a client of another version learns which one to use,
    4.2.2), and exactly one ``Sec-WebSocket-Key`` that is base64 of 16 bytes.
    """
    method, _target, version = _check_head(head).start_line
    if method != "GET":
        raise HandshakeError(f"the method must be GET, not {method} (RFC 6455 4.2.1)", 405,
                             header="method", found=method, required="GET")
    if not _VERSION.match(version) or not "HTTP/1.1" <= version < "HTTP/2":
        raise HandshakeError(f"HTTP/1.1 or later is required, not {version[:20]!r} "
                             "(RFC 6455 4.2.1)", header="version", found=version[:20],
                             required="HTTP/1.1 or a later HTTP/1.x")
    hosts = head.get_all("Host")
    if not hosts or not hosts[0]:
        raise HandshakeError("missing Host header (RFC 6455 4.2.1)", header="Host",
                             found=hosts[0] if hosts else None, required="the server's host")
    if len(hosts) > 1:
        # RFC 9112 3.2: a request with more than one Host is answered 400.
        raise HandshakeError(f"{len(hosts)} Host headers; exactly one is allowed "
                             "(RFC 9112 3.2)", header="Host", found=", ".join(hosts)[:80],
                             required="exactly one Host header")
    if "websocket" not in _tokens(head, "Upgrade"):
        raise HandshakeError("missing 'Upgrade: websocket' (RFC 6455 4.2.1)", 426,
                             header="Upgrade", found=head.get("Upgrade"), required="websocket")
    if "upgrade" not in _tokens(head, "Connection"):
        raise HandshakeError("missing 'Connection: Upgrade' (RFC 6455 4.2.1)",
                             header="Connection", found=head.get("Connection"),
                             required="a list with the token upgrade")
    _check_websocket_version(head)
    keys = head.get_all("Sec-WebSocket-Key")
    if not keys:
        raise HandshakeError("missing Sec-WebSocket-Key header (RFC 6455 4.2.1)",
                             header="Sec-WebSocket-Key", required="base64 of 16 bytes")
    if len(keys) > 1:
        raise HandshakeError(f"{len(keys)} Sec-WebSocket-Key headers; exactly one is allowed "
                             "(RFC 6455 4.2.1)", header="Sec-WebSocket-Key",
                             found=", ".join(keys)[:80], required="exactly one key")
    if not _is_key(keys[0]):
        raise HandshakeError("Sec-WebSocket-Key must be base64 of 16 bytes (RFC 6455 4.2.1)",
                             header="Sec-WebSocket-Key", found=keys[0][:80],
                             required="base64 of 16 bytes")
    return keys[0]


def _check_websocket_version(head: Head) -> None:
    """Exactly ``Sec-WebSocket-Version: 13`` (RFC 6455 4.2.1), else 426 naming 13.

    Checked before the key: a client of another version learns which one
    to use (4.2.2).
    """
    versions = head.get_all("Sec-WebSocket-Version")
    if versions != ["13"]:
        found = "missing" if not versions else ", ".join(versions)
        raise HandshakeError(f"Sec-WebSocket-Version must be 13, found {found[:40]} "
                             "(RFC 6455 4.2.1)", 426, header="Sec-WebSocket-Version",
                             found=", ".join(versions)[:40] if versions else None,
                             required="13")


def offered_subprotocols(head: Head) -> list[str]:
    """The subprotocols a client offers (``Sec-WebSocket-Protocol``), in its order."""
    return [token.strip() for value in _check_head(head).get_all("Sec-WebSocket-Protocol")
            for token in value.split(",") if token.strip()]


def choose_subprotocol(head: Head, supported: Sequence[str]) -> str | None:
    """The subprotocol to answer with (RFC 6455 4.2.2): the first of the server's
    ``supported`` (its order of preference) that the client offered, or None
    (then answer without the header)."""
    if isinstance(supported, str):
        raise TypeError("supported must be a sequence of subprotocol names, not a str")
    _check_head(head)
    offered = set(offered_subprotocols(head))
    return next((name for name in supported if name in offered), None)


def _header_lines(headers: Headers, what: str) -> list[str]:
    """``Name: value`` lines, refusing what would break the HTTP head (CR, LF, ...)."""
    lines = []
    for name, value in headers:
        name_text = name.decode("latin-1") if isinstance(name, bytes) else name
        value_text = value.decode("latin-1") if isinstance(value, bytes) else value
        if not isinstance(name_text, str) or not isinstance(value_text, str):
            raise TypeError(f"{what}: a header is a (name, value) pair of str or bytes, not "
                            f"({type(name).__name__}, {type(value).__name__})")
        if not _TOKEN.match(name_text):
            raise ValueError(f"{what}: {name!r} is not a header name (an HTTP token)")
        if _CONTROL.search(value_text):
            raise ValueError(f"{what}: the value of {name_text} has a control character "
                             "(CR and LF would inject headers)")
        if not value_text.isascii() and max(value_text) > "\xff":
            raise ValueError(f"{what}: the value of {name_text} has a character that HTTP "
                             "cannot carry (encode it first: RFC 9110 5.5)")
        lines.append(f"{name_text}: {value_text}")
    return lines


def response_head(status: int, *, headers: Headers = (), reason: str | None = None,
                  close: bool = True) -> bytes:
    """The head of an HTTP response refusing the upgrade, for a body sent after
    it in pieces: status line with its standard reason phrase, ``headers``,
    and ``Connection: close`` (the body then ends when the connection does,
    unless ``headers`` give its ``Content-Length``).

    ``close=False`` leaves ``Connection: close`` out: a bare head, for a
    server that frames the body itself (``Content-Length``, or
    ``Transfer-Encoding: chunked`` with `body_chunk`) and keeps the
    connection (RFC 9112 6, 9.3)."""
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code (100-599), not {status!r}")
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    if _CONTROL.search(reason):
        raise ValueError("reason has a control character")
    lines = [f"HTTP/1.1 {status} {reason}", *_header_lines(headers, "headers")]
    if close and not any(line.lower().startswith("connection:") for line in lines[1:]):
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def rejection(status: int, *, headers: Headers = (), body: bytes = b"",
              reason: str | None = None) -> bytes:
    """A whole HTTP response refusing the upgrade: `response_head` with the
    ``Content-Length`` of ``body``, then ``body``."""
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"body must be bytes, not {type(body).__name__}")
    headers = list(headers)
    for name, _value in headers:
        text = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if text.lower() in ("content-length", "transfer-encoding"):
            raise ValueError(f"headers: {text} is set by rejection from body (RFC 9112 6.3: "
                             "one framing of the body); use response_head to frame it yourself")
    headers.append(("Content-Length", str(len(body))))
    return response_head(status, headers=headers, reason=reason) + bytes(body)


def accept_headers(key: str | None, *, extensions: str | None = None,
                   subprotocol: str | None = None,
                   headers: Headers = ()) -> tuple[int, list[tuple[str, str]]]:
    """The status and headers that accept a checked request, for any transport.

    With the client's key (HTTP/1.1, RFC 6455 4.2.2): 101 with ``Upgrade``,
    ``Connection`` and ``Sec-WebSocket-Accept``. With ``key=None`` (an
    extended CONNECT over HTTP/2, RFC 8441 5, or HTTP/3, RFC 9220 3; see
    `check_connect`): 200 with none of those, since those protocols have no
    upgrade and no key. Then, in both, ``Sec-WebSocket-Extensions`` and
    ``Sec-WebSocket-Protocol`` if given, and ``headers`` as given (checked
    as by `server_response`). An HTTP/2 or HTTP/3 stack, or an ASGI server,
    sends them itself; `server_response` writes the HTTP/1.1 head.
    """
    lines: list[tuple[str, str]] = []
    if key is None:
        status = 200
    else:
        status = 101
        lines += [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                  ("Sec-WebSocket-Accept", accept_key(key))]
    if extensions:
        _header_lines([("Sec-WebSocket-Extensions", extensions)], "extensions")
        lines.append(("Sec-WebSocket-Extensions", extensions))
    if subprotocol:
        if not isinstance(subprotocol, str) or not _TOKEN.match(subprotocol):
            raise ValueError(f"subprotocol must be a token (RFC 6455 4.1), not {subprotocol!r}")
        lines.append(("Sec-WebSocket-Protocol", subprotocol))
    for line in _header_lines(headers, "headers"):
        name, _, value = line.partition(": ")
        lines.append((name, value))
    return status, lines


def body_chunk(data: bytes | bytearray | memoryview) -> bytes:
    """One chunk of a body sent with ``Transfer-Encoding: chunked`` (RFC 9112 7.1);
    ``body_chunk(b"")`` is the last chunk, which ends the body."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, bytearray or memoryview, not {type(data).__name__}")
    return b"%x\r\n%s\r\n" % (len(data), bytes(data)) if data else b"0\r\n\r\n"


class BodyReader:
    """Reads the body of an HTTP response a client got instead of a 101, sans I/O.

    The framing comes from the head (RFC 9112 6.3): ``Transfer-Encoding:
    chunked`` (7.1), else ``Content-Length``, else everything until the
    connection closes. `feed` returns the body bytes each read completes;
    `feed_eof` says the connection closed; `done` tells when the body is
    whole. A body over ``max_size`` bytes, or a malformed one, raises
    HandshakeError (and the reader is terminal).
    """

    __slots__ = ("_buffer", "_chunk_left", "_error", "_left", "_mode", "_received", "done",
                 "max_size")

    def __init__(self, head: Head, *, max_size: int = 2**20) -> None:
        _check_head(head)
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
            raise ValueError(f"max_size must be an int >= 0, not {max_size!r}")
        self.max_size = max_size
        self.done = False
        self._buffer = bytearray()
        self._received = 0
        self._error: HandshakeError | None = None
        self._chunk_left = -1           # chunked: data bytes left in this chunk; -1: a size line
        self._left = 0
        codings = _tokens(head, "Transfer-Encoding")
        lengths = head.get_all("Content-Length")
        if codings:
            if codings[-1] != "chunked":
                raise HandshakeError("a response body must end with the chunked coding "
                                     "(RFC 9112 6.3)", header="Transfer-Encoding",
                                     found=head.get("Transfer-Encoding"), required="chunked")
            self._mode = "chunked"
        elif lengths:
            if len(set(lengths)) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()) \
                    or len(lengths[0]) > 18:
                raise HandshakeError("invalid Content-Length (RFC 9112 6.3)",
                                     header="Content-Length", found=", ".join(lengths)[:40],
                                     required="one decimal length")
            self._mode, self._left = "length", int(lengths[0])
            self.done = self._left == 0
        else:
            self._mode = "eof"
        _, status, _ = head.start_line
        if status in ("101", "204", "304") or status.startswith("1"):
            self.done = True            # no body (RFC 9112 6.3, point 1)

    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        """Add received bytes; return the body bytes they complete (b"" if none).

        The body bytes before a malformed chunk or past ``max_size`` are
        returned first, whether they came in an earlier read or in this one;
        the error is raised by the next call (`feed` or `feed_eof`). So the
        same bytes give the same body and the same error however they were
        split.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, bytearray or memoryview, not "
                            f"{type(data).__name__}")
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self.done:
            return b""
        out = bytearray()
        try:
            if self._mode == "chunked":
                self._chunked(bytes(data), out)
            else:
                out += self._plain(bytes(data))
        except HandshakeError as exc:
            self._error = exc
            self._buffer = bytearray()
        room = self.max_size - self._received
        if len(out) > room:
            del out[room:]              # the bytes within the limit, then the error
            self._error = HandshakeError(f"the response body is larger than {self.max_size} "
                                         "bytes", header="body",
                                         required=f"at most {self.max_size} bytes")
            self._buffer = bytearray()
        self._received += len(out)
        if self._error is not None and not out:
            raise self._error
        return bytes(out)

    def feed_eof(self) -> None:
        """The connection closed: the body ends here if it may (else HandshakeError)."""
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self._mode == "eof":
            self.done = True
        if not self.done:
            self._error = HandshakeError("the connection closed before the end of the response "
                                         "body (RFC 9112 8)", header="body")
            raise self._error

    def _plain(self, data: bytes) -> bytes:
        if self._mode == "eof":
            return data
        out = data[:self._left]
        self._left -= len(out)
        self.done = self._left == 0
        return out

    def _chunked(self, data: bytes, out: bytearray) -> None:
        """Decode chunked data (RFC 9112 7.1) onto ``out``, up to an error."""
        buffer = self._buffer
        buffer += data
        while not self.done:
            if self._chunk_left > 0:                    # chunk data
                piece = buffer[:self._chunk_left]
                out += piece
                del buffer[:len(piece)]
                self._chunk_left -= len(piece)
                if self._chunk_left:
                    break
                self._chunk_left = -2                   # then its CRLF
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > 4096:
                    raise HandshakeError("a chunk size or trailer line over 4 KiB",
                                         header="body")
                break
            line = bytes(buffer[:end])
            del buffer[:end + 2]
            if self._chunk_left == -2:                  # the CRLF after chunk data
                if line:
                    raise HandshakeError("chunk data longer than its size (RFC 9112 7.1)",
                                         header="body")
                self._chunk_left = -1
            elif self._chunk_left == -1:                # chunk-size [; ext]
                size = line.split(b";", 1)[0].strip()
                if not size or len(size) > 15 or size.strip(b"0123456789abcdefABCDEF"):
                    raise HandshakeError(f"invalid chunk size line {line[:40]!r} "
                                         "(RFC 9112 7.1)", header="body")
                self._chunk_left = int(size, 16) or -3  # 0: the last chunk, trailers follow
            elif not line:                              # the end of the trailers
                self.done = True


def server_response(key: str, *, extensions: str | None = None,
                    subprotocol: str | None = None, headers: Headers = ()) -> bytes:
    """The ``101 Switching Protocols`` response for a checked request (4.2.2).

    ``headers`` are added as given (a server's ``Server`` and ``Date``, the
    application's own); values with control characters are refused. Over
    HTTP/2 or HTTP/3 there is no key: use `accept_headers` (``key=None``).
    """
    if key is None:
        raise TypeError("key must be the request's Sec-WebSocket-Key; over HTTP/2 or HTTP/3 "
                        "(no key) use accept_headers(None, ...)")
    _status, lines = accept_headers(key, extensions=extensions, subprotocol=subprotocol,
                                    headers=headers)
    head = ["HTTP/1.1 101 Switching Protocols", *(f"{n}: {v}" for n, v in lines)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")


def check_connect(headers: Headers) -> Head:
    """Check an extended CONNECT that opens a WebSocket over HTTP/2 (RFC 8441 4, 5)
    or HTTP/3 (RFC 9220 3): the request's header list, pseudo-headers included.

    Required: ``:method`` CONNECT (405 otherwise), ``:protocol`` websocket,
    ``:scheme``, ``:path`` and ``:authority`` (RFC 8441 4, RFC 9113 8.3.1),
    and ``sec-websocket-version: 13`` (426 otherwise); there is no key (RFC
    8441 5). Returns the request as a `Head` (start line ``("CONNECT",
    path, "HTTP/2")``, the regular headers), for `offered_subprotocols`,
    `choose_subprotocol` and the extension offer; answer with
    `accept_headers` (``key=None``). Raises HandshakeError as
    `check_request` does.
    """
    if isinstance(headers, (str, bytes)) or not isinstance(headers, Iterable):
        raise TypeError("headers must be the request's (name, value) pairs, not "
                        f"{type(headers).__name__}")
    pseudo: dict[str, str] = {}
    regular: list[tuple[str, str]] = []
    for pair in headers:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"headers: {pair!r:.60} is not a (name, value) pair")
        name, value = (part.decode("latin-1") if isinstance(part, bytes) else part
                       for part in pair)
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"headers: {pair!r:.60} is not a (name, value) pair of str or bytes")
        if name.startswith(":"):
            if name in pseudo:
                raise HandshakeError(f"two {name} pseudo-headers (RFC 9113 8.3)", header=name,
                                     found=value[:80], required="one")
            pseudo[name] = value
        else:
            regular.append((name, value))
    method = pseudo.get(":method")
    if method != "CONNECT":
        raise HandshakeError(f"the method must be CONNECT, not {method} (RFC 8441 4)", 405,
                             header=":method", found=method, required="CONNECT")
    if pseudo.get(":protocol") != "websocket":
        raise HandshakeError("the :protocol pseudo-header must be websocket (RFC 8441 4)",
                             header=":protocol", found=pseudo.get(":protocol"),
                             required="websocket")
    for name in (":scheme", ":path", ":authority"):
        if not pseudo.get(name):
            raise HandshakeError(f"missing {name} pseudo-header (RFC 8441 4)", header=name,
                                 required="a value")
    head = Head(("CONNECT", pseudo[":path"], "HTTP/2"), regular)
    _check_websocket_version(head)
    return head


def client_request(host: str, path: str = "/", *, key: str | None = None,
                   extensions: str | None = None, origin: str | None = None,
                   subprotocols: Sequence[str] = (),
                   headers: Headers = ()) -> tuple[bytes, str]:
    """A client's opening handshake (RFC 6455 4.1); returns ``(bytes, key)``.

    Keep the key: `check_response` needs it to verify the server's answer.
    """
    if isinstance(subprotocols, str):
        raise TypeError("subprotocols must be a sequence of names, not a str")
    for name, value in (("host", host), ("path", path)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        # What parse_head accepts in a request line and a Host header: ASCII
        # without spaces, tabs or control characters (RFC 9112 3.2).
        if not value.isascii() or not value.isprintable() or " " in value:
            raise ValueError(f"{name} must be ASCII without spaces or control characters "
                             f"(percent-encode or IDNA-encode it first), not {value[:60]!r}")
    if not host:
        raise ValueError("host must not be empty (RFC 6455 4.1: the Host header)")
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/' (RFC 6455 3: the resource name), "
                         f"not {path[:60]!r}")
    if key is None:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
    elif not isinstance(key, str):
        raise TypeError(f"key must be a str or None, not {type(key).__name__}")
    elif not _is_key(key):
        raise ValueError(f"key must be base64 of 16 bytes (RFC 6455 4.1), or None for a "
                         f"random one, not {key!r:.60}")
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if extensions:
        lines += _header_lines([("Sec-WebSocket-Extensions", extensions)], "extensions")
    if origin:
        lines += _header_lines([("Origin", origin)], "origin")
    if subprotocols:
        for name in subprotocols:
            if not _TOKEN.match(name):
                raise ValueError(f"subprotocols: {name!r} is not a token (RFC 6455 4.1)")
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
    lines += _header_lines(headers, "headers")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


def check_response(head: Head, key: str, *, subprotocols: Sequence[str] = ()) -> str | None:
    """Check a server's answer to `client_request` (RFC 6455 4.1, point 5).

    Returns the subprotocol the server chose (one of ``subprotocols``, the
    ones offered), or None when it chose none.
    """
    _version, status, _reason = _check_head(head).start_line
    try:
        expected = accept_key(key)
    except ValueError as exc:
        # A key read from a capture or a proxied request may be anything.
        raise HandshakeError(str(exc)) from None
    if status != "101":
        raise HandshakeError(f"the server answered {status}, not 101 (RFC 6455 4.1)",
                             header="status", found=status, required="101")
    if "websocket" not in _tokens(head, "Upgrade"):
        raise HandshakeError("missing 'Upgrade: websocket' in the response (RFC 6455 4.1)",
                             header="Upgrade", found=head.get("Upgrade"), required="websocket")
    if "upgrade" not in _tokens(head, "Connection"):
        raise HandshakeError("missing 'Connection: Upgrade' in the response (RFC 6455 4.1)",
                             header="Connection", found=head.get("Connection"),
                             required="a list with the token upgrade")
    if head.get("Sec-WebSocket-Accept") != expected:
        raise HandshakeError("Sec-WebSocket-Accept does not match the key (RFC 6455 4.1)",
                             header="Sec-WebSocket-Accept",
                             found=head.get("Sec-WebSocket-Accept"), required=expected)
    chosen = head.get_all("Sec-WebSocket-Protocol")
    if not chosen:
        return None
    if len(chosen) > 1 or chosen[0] not in subprotocols:
        raise HandshakeError(f"the server chose the subprotocol {', '.join(chosen)!r}, which "
                             "was not offered (RFC 6455 4.1)", header="Sec-WebSocket-Protocol",
                             found=", ".join(chosen)[:80],
                             required="one of " + ", ".join(subprotocols) if subprotocols
                             else "no subprotocol")
    return chosen[0]
