"""Bad arguments to public functions fail at the boundary, naming the argument.

Each case here once produced a traceback from deep inside (or, worse, a
silent wrong answer); now it is a TypeError (wrong type) or ValueError (right
type, wrong value) whose message names the argument and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wsframe import (
    CloseReceived,
    Connection,
    FrameParser,
    MessageReader,
    MessageWriter,
    Role,
    build_close,
    parse_close_payload,
)
from wsframe.extensions.permessage_deflate import (
    DeflateParams,
    PerMessageDeflate,
    accept_offer,
    offer,
)
from wsframe.handshake import (
    accept_key,
    check_request,
    check_response,
    choose_subprotocol,
    client_request,
    offered_subprotocols,
    parse_head,
    rejection,
    server_response,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RESPONSE = parse_head(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")

CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("feed(None)", lambda: FrameParser(Role.SERVER).feed(None),  # type: ignore[arg-type]
     TypeError, r"^data must be bytes, bytearray or memoryview, not NoneType$"),
    ("reader.feed(str)", lambda: MessageReader(Role.SERVER).feed("hi"),  # type: ignore[arg-type]
     TypeError, r"^data must be bytes, bytearray or memoryview, not str$"),
    ("extensions=None", lambda: MessageReader(Role.SERVER, extensions=None),  # type: ignore[arg-type]
     TypeError, r"^extensions must be an iterable of negotiated extensions"),
    ("extensions=[object()]", lambda: MessageReader(Role.SERVER, extensions=[object()]),  # type: ignore[list-item]
     TypeError, r"^extensions\[0\] must be an extension \(rsv_bits, incoming\(\) and outgoing\(\)"),
    ("writer extensions=None", lambda: MessageWriter(Role.SERVER, extensions=None),  # type: ignore[arg-type]
     TypeError, r"^extensions must be an iterable"),
    ("two extensions on RSV1", lambda: MessageReader(Role.SERVER, extensions=[
        PerMessageDeflate(Role.SERVER), PerMessageDeflate(Role.SERVER)]),
     ValueError, r"^extensions\[1\] claims an RSV bit another extension claims"),
    ("writer role str", lambda: MessageWriter("client"),  # type: ignore[arg-type]
     TypeError, r"^role must be Role.SERVER or Role.CLIENT, not 'client'$"),
    ("reader role str", lambda: MessageReader("server"),  # type: ignore[arg-type]
     TypeError, r"^role must be Role.SERVER or Role.CLIENT, not 'server'$"),
    ("mask_source not callable", lambda: MessageWriter(Role.CLIENT, mask_source=b"abcd"),  # type: ignore[arg-type]
     TypeError, r"^mask_source must be a callable"),
    ("close_reply('x')", lambda: MessageWriter(Role.SERVER).close_reply("x"),  # type: ignore[arg-type]
     TypeError, r"^received must be the CloseReceived event, not 'x'$"),
    ("parse_close_payload('ab')", lambda: parse_close_payload("ab"),  # type: ignore[arg-type]
     TypeError, r"^payload must be bytes, bytearray or memoryview, not str$"),
    ("parse_close_payload(None)", lambda: parse_close_payload(None),  # type: ignore[arg-type]
     TypeError, r"^payload must be bytes, bytearray or memoryview, not NoneType$"),
    ("parse_close_payload([3, 232])", lambda: parse_close_payload([3, 232]),  # type: ignore[arg-type]
     TypeError, r"^payload must be bytes, bytearray or memoryview, not list$"),
    ("build_close lone surrogate", lambda: build_close(1000, "\ud800"),
     ValueError, r"^close reason is not encodable as UTF-8"),
    ("accept_offer(None)", lambda: accept_offer(None),  # type: ignore[arg-type]
     TypeError, r"^header must be the Sec-WebSocket-Extensions value as str, not NoneType$"),
    ("accept_offer(bytes)", lambda: accept_offer(b"permessage-deflate"),  # type: ignore[arg-type]
     TypeError, r"not bytes \(decode it first: latin-1\)$"),
    ("accept_offer(server_max_window_bits=5)",
     lambda: accept_offer("permessage-deflate", server_max_window_bits=5),
     ValueError, r"^server_max_window_bits must be 9 to 15 \(RFC 7692 7.1.2\), not 5$"),
    ("accept_offer(server_max_window_bits=8)",
     lambda: accept_offer("permessage-deflate", server_max_window_bits=8),
     ValueError, r"zlib cannot compress with an 8-bit window"),
    ("accept_offer(client_max_window_bits=16)",
     lambda: accept_offer("permessage-deflate", client_max_window_bits=16),
     ValueError, r"^client_max_window_bits must be 8 to 15"),
    ("accept_offer(compress_level=10)",
     lambda: accept_offer("permessage-deflate", compress_level=10),
     ValueError, r"^compress_level must be 0 \(store\) to 9 \(smallest\), not 10$"),
    ("PerMessageDeflate('server')", lambda: PerMessageDeflate("server"),  # type: ignore[arg-type]
     TypeError, r"^role must be Role.SERVER or Role.CLIENT, not 'server'$"),
    ("PerMessageDeflate(compress_level=-1)",
     lambda: PerMessageDeflate(Role.SERVER, compress_level=-1),
     ValueError, r"^compress_level must be 0"),
    ("PerMessageDeflate(compress_level='6')",
     lambda: PerMessageDeflate(Role.SERVER, compress_level="6"),  # type: ignore[arg-type]
     TypeError, r"^compress_level must be an int from 0 to 9, not str$"),
    ("PerMessageDeflate(window 20)",
     lambda: PerMessageDeflate(Role.CLIENT, DeflateParams(server_max_window_bits=20)),
     ValueError, r"^params.server_max_window_bits must be 8 to 15"),
    ("PerMessageDeflate(own window 8)",
     lambda: PerMessageDeflate(Role.SERVER, DeflateParams(server_max_window_bits=8)),
     ValueError, r"^params.server_max_window_bits must be 9 to 15"),
    ("PerMessageDeflate(params=dict)",
     lambda: PerMessageDeflate(Role.SERVER, {"server_max_window_bits": 10}),  # type: ignore[arg-type]
     TypeError, r"^params must be DeflateParams or None"),
    # Found by a probe of issue 21: each was an AttributeError, a
    # UnicodeEncodeError, an injected header or a request the parser refuses.
    ("Connection(extensions=None)", lambda: Connection(Role.SERVER, extensions=None),  # type: ignore[arg-type]
     TypeError, r"^extensions must be an iterable of negotiated extensions"),
    ("offer('x')", lambda: offer("x"),  # type: ignore[arg-type]
     TypeError, r"^params must be the DeflateParams to offer, or None, not 'x'$"),
    ("offer(window 99)", lambda: offer(DeflateParams(server_max_window_bits=99)),
     ValueError, r"^params.server_max_window_bits must be 8 to 15"),
    ("offer(window '9; x')", lambda: offer(DeflateParams(client_max_window_bits="9; x")),  # type: ignore[arg-type]
     TypeError, r"^params.client_max_window_bits must be an int"),
    ("check_request('x')", lambda: check_request("x"),  # type: ignore[arg-type]
     TypeError, r"^head must be a Head \(from HeadReader.feed or parse_head\), not str$"),
    ("check_response('x')", lambda: check_response("x", KEY),  # type: ignore[arg-type]
     TypeError, r"^head must be a Head"),
    ("offered_subprotocols(None)", lambda: offered_subprotocols(None),  # type: ignore[arg-type]
     TypeError, r"^head must be a Head"),
    ("choose_subprotocol('x')", lambda: choose_subprotocol("x", ["chat"]),  # type: ignore[arg-type]
     TypeError, r"^head must be a Head"),
    ("accept_key(non-ASCII)", lambda: accept_key("kéy"),
     ValueError, r"^key must be printable ASCII \(a base64 string, RFC 6455 4.1\), not 'kéy'$"),
    ("accept_key(None)", lambda: accept_key(None),  # type: ignore[arg-type]
     TypeError, r"^key must be the Sec-WebSocket-Key value as str, not NoneType$"),
    ("server_response(non-ASCII key)", lambda: server_response("ключ"),
     ValueError, r"^key must be printable ASCII"),
    ("check_response(non-ASCII key)", lambda: check_response(RESPONSE, "ключ"),
     ValueError, r"^key must be printable ASCII"),   # a HandshakeError (a ValueError)
    ("client_request(key injection)",
     lambda: client_request("h", key="k\r\nX-Injected: 1"),
     ValueError, r"^key must be base64 of 16 bytes \(RFC 6455 4.1\), or None"),
    ("client_request(key=b'...')", lambda: client_request("h", key=KEY.encode()),  # type: ignore[arg-type]
     TypeError, r"^key must be a str or None, not bytes$"),
    ("client_request(path='')", lambda: client_request("h", ""),
     ValueError, r"^path must start with '/' \(RFC 6455 3: the resource name\), not ''$"),
    ("client_request(path TAB)", lambda: client_request("h", "/a\tb"),
     ValueError, r"^path must be ASCII without spaces or control characters"),
    ("client_request(host TAB)", lambda: client_request("a\tb"),
     ValueError, r"^host must be ASCII without spaces or control characters"),
    ("client_request(host non-ASCII)", lambda: client_request("bücher.example"),
     ValueError, r"^host must be ASCII .*IDNA-encode it first"),
    ("client_request(host None)", lambda: client_request(None),  # type: ignore[arg-type]
     TypeError, r"^host must be a str, not NoneType$"),
    ("client_request(origin non-Latin-1)", lambda: client_request("h", origin="http://ключ"),
     ValueError, r"^origin: the value of Origin has a character that HTTP cannot carry"),
    ("server_response(headers with an int)",
     lambda: server_response(KEY, headers=[("X-A", 1)]),  # type: ignore[list-item]
     TypeError, r"^headers: a header is a \(name, value\) pair of str or bytes, not \(str, int\)$"),
    ("rejection(two Content-Length)",
     lambda: rejection(400, headers=[("Content-Length", "0")], body=b"no"),
     ValueError, r"^headers: Content-Length is set by rejection from body"),
    ("rejection(Transfer-Encoding)",
     lambda: rejection(400, headers=[(b"transfer-encoding", b"chunked")], body=b"no"),
     ValueError, r"^headers: transfer-encoding is set by rejection from body"),
]


@pytest.mark.parametrize(("call", "error", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_argument_is_named(call: Callable[[], object], error: type[Exception],
                               message: str) -> None:
    with pytest.raises(error, match=message):
        result = call()
        if hasattr(result, "__next__"):
            next(result)        # type: ignore[call-overload]


def test_per_message_deflate_repr_works_for_both_roles() -> None:
    # PerMessageDeflate("server") used to build a client whose repr then raised.
    assert repr(PerMessageDeflate(Role.SERVER)) == \
        "PerMessageDeflate(SERVER, 'permessage-deflate')"


def test_close_reply_still_echoes_a_real_event() -> None:
    assert MessageWriter(Role.SERVER).close_reply(CloseReceived(1001, "")) == b"\x88\x02\x03\xe9"
