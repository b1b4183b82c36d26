"""`Connection`, both roles, with and without permessage-deflate: the oracle
of fuzz/fuzz_connection.py.

Input: a control byte, cut points, one action byte per piece, then the
peer's bytes:

    control bit 0     role: 1 = SERVER (the peer masks), 0 = CLIENT
    control bits 1-2  max_message_size: 0, 64, 4096 or the default (1 MiB)
    control bit 3     streaming
    control bits 4-5  permessage-deflate: none, the default, no context
                      takeover both ways, 9-bit windows

The peer's bytes are fed cut at the fuzzer's points; after each piece the
connection sends something of its own (text, binary, a Ping, a Close) or
nothing, as the action byte says.

Checks:

* only `ProtocolError` leaves `feed` (then the state is CLOSED, `failure` is
  that error and a Close frame with its code was queued, unless one had been
  sent); the `send_*` methods raise nothing while OPEN and only
  `ConnectionClosed` after;
* memory: `buffered` never exceeds the message limit by more than a frame
  header, no delivered message exceeds it, and the whole run stays within a
  budget proportional to the limit and the input;
* everything the connection queued to send (`data_to_send`), read by a peer
  of the other role with the same extension, is valid: no ProtocolError,
  a Pong for each Ping answered, nothing after one Close frame.
"""

from __future__ import annotations

from typing import Any

from contract import Input, MiB, check_memory, only, peak_memory, pieces

from wsframe import (
    DEFAULT_MAX_MESSAGE_SIZE,
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Connection,
    ConnectionClosed,
    MessageReader,
    Ping,
    Pong,
    ProtocolError,
    Role,
    State,
    TextChunk,
    TextMessage,
)
from wsframe.extensions.permessage_deflate import DeflateParams, PerMessageDeflate

LIMITS = (0, 64, 4096, DEFAULT_MAX_MESSAGE_SIZE)
DEFLATE = (None, DeflateParams(),
           DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
           DeflateParams(server_max_window_bits=9, client_max_window_bits=9))
ACTIONS = ("nothing", "text", "binary", "ping", "close", "pong")
HEADER = 14          # the longest frame header


def _other(role: Role) -> Role:
    return Role.CLIENT if role is Role.SERVER else Role.SERVER


def _size(event: Any) -> int:
    if isinstance(event, TextMessage):
        return len(event.text.encode())
    if isinstance(event, BinaryMessage):
        return len(event.data)
    return 0


def check(data: bytes) -> None:
    """Raise AssertionError (or the escaped exception) if ``data`` breaks a property."""
    source = Input(data)
    control = source.byte()
    role = Role.SERVER if control & 1 else Role.CLIENT
    limit = LIMITS[(control >> 1) & 3]
    streaming = bool(control & 8)
    params = DEFLATE[(control >> 4) & 3]
    cuts = source.cuts()
    actions = [source.pick(ACTIONS) for _ in cuts]
    stream = source.rest()

    def run() -> tuple[list[bytes], list[Any]]:
        return _run(role, limit, streaming, params, pieces(stream, cuts), actions)

    (sent, received), peak = peak_memory(run)
    check_memory(peak, 4 * limit + 64 * len(stream) + 2 * MiB, "Connection")
    _check_output(role, params, b"".join(sent), received)


def _run(role: Role, limit: int, streaming: bool, params: DeflateParams | None,
         data: list[bytes], actions: list[str]) -> tuple[list[bytes], list[Any]]:
    extensions = [] if params is None else [PerMessageDeflate(role, params)]
    connection = Connection(role, max_message_size=limit, stream=streaming,
                            extensions=extensions)
    sent: list[bytes] = []
    received: list[Any] = []
    for number, piece in enumerate(data):
        was_closed = connection.state is State.CLOSED
        try:
            with only((ProtocolError,), "Connection.feed"):
                for event in connection.feed(piece):
                    assert not was_closed, f"an event after CLOSED: {event!r}"
                    assert _size(event) <= limit, f"a message over the limit: {_size(event)}"
                    received.append(event)
                    assert connection.buffered <= limit + HEADER, \
                        f"buffered {connection.buffered} over the limit {limit}"
        except ProtocolError as exc:
            assert connection.state is State.CLOSED, connection.state
            assert connection.failure is exc, "failure is not the error raised"
            received.append(exc)
        assert connection.buffered <= limit + HEADER, \
            f"buffered {connection.buffered} over the limit {limit}"
        sent.append(connection.data_to_send())
        if number < len(actions):
            _act(connection, actions[number], number)
            sent.append(connection.data_to_send())
    return sent, received


def _act(connection: Connection, action: str, number: int) -> None:
    """Send what ``action`` says: it works while OPEN, else ConnectionClosed."""
    was_open = connection.state is State.OPEN
    try:
        with only((ConnectionClosed,), f"Connection: {action}"):
            if action == "text":
                connection.send_text(f"message {number} " * (number + 1))
            elif action == "binary":
                connection.send_binary(bytes(range(number * 7 % 256)) * 3, fragment_size=50)
            elif action == "ping":
                connection.send_ping(b"p%d" % number)
            elif action == "pong":
                connection.send_pong(b"")
            elif action == "close":
                connection.close(1000, "bye")
    except ConnectionClosed:
        assert not was_open, f"ConnectionClosed while OPEN ({action})"


def _check_output(role: Role, params: DeflateParams | None, output: bytes,
                  received: list[Any]) -> None:
    """What the connection sent is valid for a peer of the other role."""
    peer_role = _other(role)
    extensions = [] if params is None else [PerMessageDeflate(peer_role, params)]
    peer = MessageReader(peer_role, max_message_size=None, extensions=extensions)
    try:
        with only((ProtocolError,), "the peer reading what Connection sent"):
            events = list(peer.feed(output))
    except ProtocolError as exc:
        raise AssertionError(f"Connection sent bytes its peer refuses: {exc!r}") from exc
    closes = [event for event in events if isinstance(event, CloseReceived)]
    assert len(closes) <= 1, "two Close frames"
    if closes:
        assert isinstance(events[-1], CloseReceived), "a frame after the Close frame"
    failures = [item for item in received if isinstance(item, ProtocolError)]
    if failures and not any(isinstance(item, CloseReceived) for item in received):
        assert closes, "the connection failed without sending a Close frame"
    pongs = [event.payload for event in events if isinstance(event, Pong)]
    pings = [event.payload for event in received if isinstance(event, Ping)]
    for payload in pongs:
        assert payload in pings or payload == b"", f"a Pong for no Ping: {payload!r}"
    for event in events:
        assert not isinstance(event, (TextChunk, BinaryChunk)), event
