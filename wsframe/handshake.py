"""The opening handshake (RFC 6455 section 4), as small sans-I/O helpers.

wsframe is a framing codec; the HTTP exchange that precedes framing belongs
to whoever owns the connection. These helpers cover what every embedder
needs and gets subtly wrong: computing ``Sec-WebSocket-Accept`` (4.2.2),
checking a client's upgrade request (4.2.1), building the 101 response, and
the client side of the same (4.1). `parse_head` is a deliberately minimal,
strict reader of an HTTP/1.1 request or response head (no obsolete line
folding, header names must be tokens).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

__all__ = [
    "GUID",
    "HandshakeError",
    "Head",
    "accept_key",
    "check_request",
    "check_response",
    "client_request",
    "parse_extensions",
    "parse_head",
    "server_response",
]

#: The GUID that RFC 6455 section 1.3 appends to the key.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class HandshakeError(ValueError):
    """The handshake is not a valid WebSocket upgrade.

    ``status`` is the HTTP status a server should answer with (400, or 426
    with ``Sec-WebSocket-Version: 13`` for an unsupported version).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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
    if len(parts) != 3 or not all(parts[:2]):
        raise HandshakeError(f"malformed HTTP start line: {lines[0][:80]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name):
            raise HandshakeError(f"malformed HTTP header line: {line[:80]!r}")
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
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _tokens(head: Head, name: str) -> list[str]:
    return [t.strip().lower() for value in head.get_all(name) for t in value.split(",")]


def check_request(head: Head) -> str:
    """Check a client's opening handshake (RFC 6455 4.2.1); return its key.

    Requires: GET, HTTP/1.1 or later, Host, ``Upgrade: websocket``, a
    ``Connection`` header with the ``upgrade`` token, a
    ``Sec-WebSocket-Key`` that is base64 of 16 bytes, and
    ``Sec-WebSocket-Version: 13`` (426 otherwise).
    """
    method, _target, version = head.start_line
    if method != "GET":
        raise HandshakeError(f"the method must be GET, not {method} (RFC 6455 4.2.1)", 405)
    if not version.startswith("HTTP/1.") or version == "HTTP/1.0":
        raise HandshakeError(f"HTTP/1.1 or later is required, not {version} (RFC 6455 4.2.1)")
    if not head.get("Host"):
        raise HandshakeError("missing Host header (RFC 6455 4.2.1)")
    if "websocket" not in _tokens(head, "Upgrade"):
        raise HandshakeError("missing 'Upgrade: websocket' (RFC 6455 4.2.1)", 426)
    if "upgrade" not in _tokens(head, "Connection"):
        raise HandshakeError("missing 'Connection: Upgrade' (RFC 6455 4.2.1)")
    keys = head.get_all("Sec-WebSocket-Key")
    if len(keys) != 1:
        raise HandshakeError("exactly one Sec-WebSocket-Key header is required (RFC 6455 4.2.1)")
    try:
        raw = base64.b64decode(keys[0].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise HandshakeError("Sec-WebSocket-Key must be base64 of 16 bytes (RFC 6455 4.2.1)")
    if head.get("Sec-WebSocket-Version") != "13":
        raise HandshakeError("only Sec-WebSocket-Version 13 is supported (RFC 6455 4.2.1)", 426)
    return keys[0]


def server_response(key: str, *, extensions: str | None = None,
                    subprotocol: str | None = None) -> bytes:
    """The ``101 Switching Protocols`` response for a checked request."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_key(key)}",
    ]
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def client_request(host: str, path: str = "/", *, key: str | None = None,
                   extensions: str | None = None,
                   origin: str | None = None) -> tuple[bytes, str]:
    """A client's opening handshake (RFC 6455 4.1); returns ``(bytes, key)``.

    Keep the key: `check_response` needs it to verify the server's answer.
    """
    if key is None:
        key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    if origin:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), key


def check_response(head: Head, key: str) -> None:
    """Check a server's answer to `client_request` (RFC 6455 4.1, point 5)."""
    _version, status, _reason = head.start_line
    if status != "101":
        raise HandshakeError(f"the server answered {status}, not 101 (RFC 6455 4.1)")
    if "websocket" not in _tokens(head, "Upgrade"):
        raise HandshakeError("missing 'Upgrade: websocket' in the response (RFC 6455 4.1)")
    if "upgrade" not in _tokens(head, "Connection"):
        raise HandshakeError("missing 'Connection: Upgrade' in the response (RFC 6455 4.1)")
    if head.get("Sec-WebSocket-Accept") != accept_key(key):
        raise HandshakeError("Sec-WebSocket-Accept does not match the key (RFC 6455 4.1)")
