"""`Connection`, both roles, with and without permessage-deflate: the oracle
of fuzz/fuzz_connection.py.

Input: a control byte, cut points, one action byte per piece, then the
peer's bytes:

    control bit 0     role: 1 = SERVER (the peer masks), 0 = CLIENT
    control bits 1-2  max_message_size: 0, 64, 4096 or the default (1 MiB)
    control bit 3     streaming
    control bits 4-5  permessage-deflate: none, the default, no context
                      takeover both ways, 9-bit windows
    control bit 6     auto_reply=False: the harness answers Pings and the
                      peer's Close (with the "close" action) itself

The peer's bytes are fed cut at the fuzzer's points; after each piece the
connection sends something of its own (text, a piece of a text message,
binary, a Ping, a Pong, a Close), the transport ends (`receive_eof`), or
nothing happens, as the action byte says.

Checks:

* only `ProtocolError` leaves `feed` (then the state is CLOSED, `failure` is
  that error and a Close frame with its code was queued, unless one had been
  sent); the `send_*` methods raise nothing while OPEN and only
  `ConnectionClosed` after; the peer's Close leaves the state REMOTE_CLOSING
  with ``auto_reply=False``; after `receive_eof` the state is CLOSED, the
  close code 1006 unless the peer's Close came or this side failed the
  connection, and nothing more is sent;
* memory: `buffered` never exceeds the message limit (or a control frame's
  125 bytes) by more than a frame header, no delivered message exceeds it,
  and the whole run stays within a budget proportional to the limit and the
  input;
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
ACTIONS = ("nothing", "text", "binary", "ping", "close", "pong", "piece", "eof")
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
    auto_reply = not control & 0x40
    cuts = source.cuts()
    actions = [source.pick(ACTIONS) for _ in cuts]
    stream = source.rest()

    def run() -> tuple[list[bytes], list[Any]]:
        driver = _Driver(role, limit, streaming, params, auto_reply=auto_reply)
        for number, piece in enumerate(pieces(stream, cuts)):
            driver.feed(piece)
            if number < len(actions):
                driver.act(actions[number], number)
        return driver.sent, driver.received

    (sent, received), peak = peak_memory(run)
    check_memory(peak, 4 * limit + 64 * len(stream) + 2 * MiB, "Connection")
    _check_output(role, params, b"".join(sent), received)


class _Driver:
    """A Connection and the caller around it, as the input tells it to act."""

    def __init__(self, role: Role, limit: int, streaming: bool, params: DeflateParams | None,
                 *, auto_reply: bool) -> None:
        extensions = [] if params is None else [PerMessageDeflate(role, params)]
        self.connection = Connection(role, max_message_size=limit, stream=streaming,
                                     extensions=extensions, auto_reply=auto_reply)
        self.limit = limit
        self.auto_reply = auto_reply
        self.sent: list[bytes] = []
        self.received: list[Any] = []
        self.piece: str | None = None       # the kind of message being sent in pieces
        self.eof = False

    def _check_buffered(self) -> None:
        # A control frame (at most 125 bytes, RFC 6455 5.5) may be held whatever the limit.
        buffered = self.connection.buffered
        assert buffered <= max(self.limit, 125) + HEADER, \
            f"buffered {buffered} over the limit {self.limit}"

    def _collect(self) -> None:
        out = self.connection.data_to_send()
        assert not (self.eof and out), f"sent after the transport ended: {out!r}"
        self.sent.append(out)

    def feed(self, data: bytes) -> None:
        """Feed received bytes; answer Pings when the connection does not."""
        connection = self.connection
        was_closed = connection.state is State.CLOSED
        try:
            with only((ProtocolError,), "Connection.feed"):
                for event in connection.feed(data):
                    assert not was_closed, f"an event after CLOSED: {event!r}"
                    assert _size(event) <= self.limit, f"a message over the limit: {event!r}"
                    self.received.append(event)
                    self._check_buffered()
                    if isinstance(event, Ping) and not self.auto_reply and \
                            connection.state is State.OPEN:
                        connection.send_pong(event.payload)
                    if isinstance(event, CloseReceived) and not self.auto_reply:
                        assert connection.state in (State.REMOTE_CLOSING, State.CLOSED), \
                            connection.state
        except ProtocolError as exc:
            assert connection.state is State.CLOSED, connection.state
            assert connection.failure is exc, "failure is not the error raised"
            self.received.append(exc)
        self._check_buffered()
        self._collect()

    def act(self, action: str, number: int) -> None:
        """Send what ``action`` says: it works while OPEN, else ConnectionClosed."""
        connection = self.connection
        was_open = connection.state is State.OPEN
        try:
            with only((ConnectionClosed,), f"Connection: {action}"):
                self._do(action, number)
        except ConnectionClosed:
            assert not was_open, f"ConnectionClosed while OPEN ({action})"
        if action == "eof":
            assert connection.state is State.CLOSED, connection.state
            if connection.close_received is None:
                # the code of the Close frame this side sent when it failed the
                # connection (maybe an earlier close()'s), else 1006
                sent = connection.close_sent
                expected = sent.code if connection.failure and sent else 1006
                assert connection.close_code == expected, (connection.close_code, expected)
            self.eof = True
        self._collect()

    def _do(self, action: str, number: int) -> None:
        connection = self.connection
        if action in ("text", "piece") and self.piece in (None, "text"):
            final = action == "text"
            connection.send_text(f"message {number} " * (number + 1), final=final)
            self.piece = None if final else "text"
        elif action == "binary" and self.piece is None:
            connection.send_binary(bytes(range(number * 7 % 256)) * 3, fragment_size=50)
        elif action == "ping":
            connection.send_ping(b"p%d" % number)
        elif action == "pong":
            connection.send_pong(b"")
        elif action == "close":
            connection.close(1000, "bye")
        elif action == "eof":
            connection.receive_eof()


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
