"""The opening handshake (wsframe.handshake, RFC 6455 section 4; RFC 7692 offers):
the oracle of fuzz/fuzz_handshake.py.

Input: a control byte, cut points, then the bytes of an HTTP head as a peer
sends them (a request or a response):

    control bit 0     head size limit: 4096 bytes, else the default (16 KiB)
    control bits 1-3  the server's permessage-deflate wishes (accept_offer)
    control bit 4     check_connect gets the headers as bytes (as h2 gives them)
    control bit 5     BodyReader's limit: 64 bytes, else 1 MiB

Checks (only `HandshakeError`, a ValueError, may leave any of these):

* `HeadReader` fed the bytes whole and cut at the fuzzer's points returns
  the same head (or the same error status), with the same remainder, and
  never keeps more than its limit; after an error it is terminal (the same
  error again, nothing more buffered);
* for a response head, `BodyReader` reads the bytes after it (chunked,
  Content-Length or to EOF) to the same body, end and error whole and cut;
* the same head as an HTTP/2 extended CONNECT (``Pseudo-Method: CONNECT``
  stands for ``:method``, and so on) goes through `check_connect`, and
  `accept_headers` answers what it accepted;
* `negotiate` makes the same decision as `accept_offer`;
* the head goes through `check_request`, `offered_subprotocols`,
  `choose_subprotocol`, `check_response` (with the key the request carried,
  as the capture reader does, and with a valid key), `parse_extensions`,
  `DeflateParams.from_header`, `accept_offer` and `accept_response`;
* what a server builds for a request that `check_request` accepted
  (`server_response` with the subprotocol and the permessage-deflate answer
  it chose) is a head that `check_response` accepts for that request, and a
  client accepts the permessage-deflate answer to its own offer; the two
  negotiated extensions then exchange a message each way.
"""

from __future__ import annotations

from typing import Any

from contract import Input, MiB, attempt, check_memory, only, peak_memory, pieces

from wsframe import BinaryMessage, MessageReader, MessageWriter, ProtocolError, Role
from wsframe.extensions.permessage_deflate import (
    EXTENSION_NAME,
    DeflateParams,
    PerMessageDeflate,
    accept_offer,
    accept_response,
    negotiate,
)
from wsframe.handshake import (
    DEFAULT_MAX_HEAD_SIZE,
    BodyReader,
    HandshakeError,
    Head,
    HeadReader,
    accept_headers,
    check_connect,
    check_request,
    check_response,
    choose_subprotocol,
    offered_subprotocols,
    parse_extensions,
    parse_head,
    server_response,
)

#: A valid Sec-WebSocket-Key (RFC 6455 1.3's example).
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
SUPPORTED = ("chat", "superchat", "v1.json")
HANDSHAKE = (HandshakeError,)


def _read_head(data: list[bytes], max_size: int) -> tuple[Head | int, bytes]:
    """Feed the pieces to a fresh HeadReader: the head (or the error's status)
    and the remainder."""
    reader = HeadReader(max_size)
    for number, piece in enumerate(data):
        try:
            with only(HANDSHAKE, "HeadReader.feed"):
                head = reader.feed(piece)
        except HandshakeError as exc:
            _terminal(reader, exc)
            return exc.status, b""
        if head is not None:
            return head, reader.remainder + b"".join(data[number + 1:])
    return 0, b""


def _terminal(reader: HeadReader, error: HandshakeError) -> None:
    """After its error, the reader raises it again and buffers nothing more."""
    for _ in range(16):
        try:
            with only(HANDSHAKE, "HeadReader.feed after an error"):
                reader.feed(b"x" * reader.max_size)
        except HandshakeError as again:
            assert again.status == error.status, (again, error)
        else:
            raise AssertionError("HeadReader accepted bytes after its error")


def _same(a: Head | int, b: Head | int) -> bool:
    if isinstance(a, Head) and isinstance(b, Head):
        return (a.start_line, a.headers) == (b.start_line, b.headers)
    return a == b


def check(data: bytes) -> None:
    """Raise AssertionError (or the escaped exception) if ``data`` breaks a property."""
    source = Input(data)
    control = source.byte()
    max_size = 4096 if control & 1 else DEFAULT_MAX_HEAD_SIZE
    wishes = (control >> 1) & 7
    cuts = source.cuts()
    stream = source.rest()

    (whole, remainder), peak = peak_memory(lambda: _read_head([stream], max_size))
    check_memory(peak, 8 * max_size + 64 * 1024, "HeadReader")
    split, split_remainder = _read_head(pieces(stream, cuts), max_size)
    assert _same(whole, split), f"HeadReader split invariance: {whole!r} != {split!r}"
    if isinstance(whole, Head):
        assert remainder == split_remainder, "HeadReader: the remainder depends on the cuts"
        _check_head(whole, wishes)
        if whole.start_line[0].startswith("HTTP/"):
            _check_body(whole, remainder, cuts, 64 if control & 32 else MiB)
        _check_connect(whole, wishes, as_bytes=bool(control & 16))
    attempt(HANDSHAKE, "parse_head", parse_head, stream)


def _body(head: Head, data: list[bytes], limit: int) -> tuple[bytes, bool, int | None]:
    """What a BodyReader makes of the pieces, then EOF: (body, done, error status)."""
    reader = attempt(HANDSHAKE, "BodyReader", BodyReader, head, max_size=limit)
    if reader is None:
        return b"", False, -1
    body = bytearray()
    try:
        with only(HANDSHAKE, "BodyReader.feed"):
            for piece in data:
                body += reader.feed(piece)
                assert len(body) <= limit or not piece, f"a body of {len(body)} bytes kept"
            done = reader.done
            reader.feed_eof()
    except HandshakeError as exc:
        return bytes(body), False, exc.status
    return bytes(body), done, None


def _check_body(head: Head, data: bytes, cuts: list[int], limit: int) -> None:
    """The body reads the same whole and in pieces."""
    whole = _body(head, [data], limit)
    split = _body(head, pieces(data, cuts), limit)
    if whole[2] is None or split[2] is None:
        assert whole == split, f"BodyReader split invariance: {whole!r} != {split!r}"
        return
    # Both refused the body with the same status. BodyReader.feed returns the
    # bytes a read completes or raises, so the part of a body before a
    # malformed chunk is delivered only from reads before the one that
    # breaks: more of it when the bytes come in more pieces (not a promise
    # the class makes; docs/fuzzing.md).
    assert whole[2] == split[2], f"BodyReader: status {whole[2]} whole, {split[2]} split"
    assert split[0].startswith(whole[0]), f"BodyReader: {whole[0]!r} vs {split[0]!r}"


def _check_connect(head: Head, wishes: int, *, as_bytes: bool) -> None:
    """The head's headers as an extended CONNECT's (Pseudo-X: for :x)."""
    pairs = [(":" + name[7:].lower() if name.lower().startswith("pseudo-") else name, value)
             for name, value in head.headers]
    headers: list[tuple[Any, Any]] = [(n.encode("latin-1"), v.encode("latin-1"))
                                      for n, v in pairs] if as_bytes else list(pairs)
    request = attempt(HANDSHAKE, "check_connect", check_connect, headers)
    if request is None:
        return
    with only(HANDSHAKE, "choose_subprotocol after check_connect"):
        chosen = choose_subprotocol(request, SUPPORTED)
    params = None
    for value in request.get_all("Sec-WebSocket-Extensions"):
        params = attempt(HANDSHAKE, "negotiate", negotiate, value, **_wishes(wishes))
        if params is not None:
            break
    with only((), "accept_headers for what check_connect accepted"):
        status, _ = accept_headers(None, extensions=params.header() if params else None,
                                   subprotocol=chosen)
    assert status == 200, status


def _check_head(head: Head, wishes: int) -> None:
    key = attempt(HANDSHAKE, "check_request", check_request, head)
    with only(HANDSHAKE, "offered_subprotocols / choose_subprotocol"):
        offered = offered_subprotocols(head)
        chosen = choose_subprotocol(head, SUPPORTED)
    assert chosen is None or chosen in offered
    peer_key = head.get("Sec-WebSocket-Key") or ""
    for candidate in (peer_key, KEY):
        attempt(HANDSHAKE, "check_response", check_response, head, candidate,
                subprotocols=offered)
    answer = None
    for value in head.get_all("Sec-WebSocket-Extensions"):
        attempt(HANDSHAKE, "parse_extensions", parse_extensions, value)
        for is_offer in (False, True):
            attempt(HANDSHAKE, "DeflateParams.from_header", DeflateParams.from_header, value,
                    offer=is_offer)
        attempt(HANDSHAKE, "accept_response", accept_response, value)
        accepted = attempt(HANDSHAKE, "accept_offer", accept_offer, value, **_wishes(wishes))
        agreed = attempt(HANDSHAKE, "negotiate", negotiate, value, **_wishes(wishes))
        assert (agreed.header() if agreed else None) == (accepted[0] if accepted else None), \
            f"negotiate {agreed!r} and accept_offer {accepted!r} differ"
        if accepted is not None and answer is None:
            answer = accepted
    if key is not None:
        _answer_round_trip(key, chosen, offered, answer)
        if answer is not None:
            _deflate_round_trip(head, wishes, answer)


def _wishes(wishes: int) -> dict[str, Any]:
    """The server's own permessage-deflate settings, from three bits."""
    return {"server_no_context_takeover": bool(wishes & 1),
            "client_no_context_takeover": bool(wishes & 2),
            "server_max_window_bits": 9 if wishes & 4 else 12,
            "client_max_window_bits": None if wishes & 4 else 12}


def _answer_round_trip(key: str, chosen: str | None, offered: list[str],
                       answer: tuple[str, PerMessageDeflate] | None) -> None:
    """The server's 101 for an accepted request is accepted by the client."""
    header = answer[0] if answer is not None else None
    response = server_response(key, extensions=header, subprotocol=chosen)
    head = HeadReader().feed(response)
    assert head is not None, "server_response does not end its head"
    with only(HANDSHAKE, "check_response of our own server_response"):
        got = check_response(head, key, subprotocols=offered)
    assert got == chosen, f"the client read subprotocol {got!r}, the server chose {chosen!r}"


def _deflate_round_trip(head: Head, wishes: int, answer: tuple[str, PerMessageDeflate]) -> None:
    """The client that made the offer accepts the server's answer to it."""
    sent = _picked_offer(head, wishes)
    try:
        with only(HANDSHAKE, "accept_response of our own accept_offer"):
            client = accept_response(answer[0], sent=sent)
    except HandshakeError as exc:
        raise AssertionError(f"the client refuses the answer {answer[0]!r} to its offer "
                             f"{sent.header()!r}: {exc}") from exc
    _exchange(answer[1], client)


def _picked_offer(head: Head, wishes: int) -> DeflateParams:
    """The offer `accept_offer` answered: the first permessage-deflate element
    of the request that it accepts on its own."""
    for value in head.get_all("Sec-WebSocket-Extensions"):
        elements = attempt(HANDSHAKE, "parse_extensions", parse_extensions, value) or []
        for name, params in elements:
            element = "; ".join([name, *(key if param is None else f"{key}={param}"
                                         for key, param in params)])
            if name != EXTENSION_NAME or accept_offer(element, **_wishes(wishes)) is None:
                continue
            return DeflateParams.from_header(element, offer=True)
    raise AssertionError("accept_offer answered none of the offered elements")


def _exchange(server: PerMessageDeflate, client: PerMessageDeflate) -> None:
    """One compressed message each way between the two negotiated ends."""
    message = b"permessage-deflate " * 8
    for sender, receiver, role in ((server, client, Role.SERVER), (client, server, Role.CLIENT)):
        wire = MessageWriter(role, extensions=[sender]).binary(message)
        reader = MessageReader(Role.CLIENT if role is Role.SERVER else Role.SERVER,
                               extensions=[receiver])
        with only((ProtocolError,), "MessageReader.feed of a negotiated peer's message"):
            events = list(reader.feed(wire))
        assert events == [BinaryMessage(message)], f"{role.name} -> peer: {events!r}"
