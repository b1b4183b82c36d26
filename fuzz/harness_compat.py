"""wsproto's API on wsframe (`wsframe.compat.wsproto`): the oracle of
fuzz/fuzz_compat.py. Programs written for wsproto (hypercorn,
trio-websocket, ...) feed it the peer's bytes, handshake and frames alike.

Input: a control byte, cut points, then the peer's bytes:

    control bit 0     1 = client (it sends a Request first and reads the
                      answer), 0 = server (it reads the Request)
    control bit 1     permessage-deflate offered (client) or accepted (server)
    control bit 2     echo messages back, as an echo server does

A client's key is random: ``{ACCEPT}`` in the peer's bytes (within one
piece) is replaced by the Sec-WebSocket-Accept that answers it.

The harness acts as a wsproto user does: a server accepts the Request;
Pings and the peer's Close are answered with ``event.response()``; the
transport's end is ``receive_data(None)``.

Checks: only `RemoteProtocolError` (a bad handshake, wsproto's documented
error for the peer's bytes) leaves `receive_data` or `events`; what the
harness sends in a state where wsproto allows it raises nothing; past the
handshake, the state is CLOSED after the transport's end; memory stays
within a budget proportional to the input.
"""

from __future__ import annotations

import re
from typing import Any

from contract import Input, MiB, check_memory, only, peak_memory, pieces

from wsframe.compat.wsproto import ConnectionState, ConnectionType, WSConnection
from wsframe.compat.wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsframe.compat.wsproto.extensions import PerMessageDeflate
from wsframe.compat.wsproto.utilities import RemoteProtocolError
from wsframe.handshake import accept_key

#: In a client's input, stands for the Sec-WebSocket-Accept that answers its
#: (random) key, so that the fuzzer can write a valid 101.
ACCEPT = b"{ACCEPT}"


def check(data: bytes) -> None:
    """Raise AssertionError (or the escaped exception) if ``data`` breaks a property."""
    source = Input(data)
    control = source.byte()
    cuts = source.cuts()
    stream = source.rest()

    def run() -> None:
        _converse(bool(control & 1), bool(control & 2), bool(control & 4),
                  pieces(stream, cuts))

    _, peak = peak_memory(run)
    check_memory(peak, 64 * len(stream) + 2 * MiB, "wsframe.compat.wsproto")


def _converse(client: bool, deflate: bool, echo: bool, data: list[bytes]) -> None:
    connection = WSConnection(ConnectionType.CLIENT if client else ConnectionType.SERVER)
    extensions: list[Any] = [PerMessageDeflate()] if deflate else []
    if client:
        with only((), "WSConnection.send(Request)"):
            request = connection.send(Request(host="example.com", target="/chat",
                                              extensions=extensions, subprotocols=["chat"]))
        # The key is random: the peer's ACCEPT placeholder becomes its answer.
        key = re.search(rb"Sec-WebSocket-Key: (\S+)", request)
        assert key is not None, request
        accept = accept_key(key.group(1).decode()).encode()
        data = [piece.replace(ACCEPT, accept) for piece in data]
    for piece in [*data, None]:
        if connection.state is ConnectionState.CLOSED:
            return
        try:
            with only((RemoteProtocolError,), "WSConnection.receive_data / events"):
                connection.receive_data(piece)
                for event in connection.events():
                    _answer(connection, event, extensions, echo=echo)
        except RemoteProtocolError:
            return
    # Past the handshake, the transport's end closes the connection (as in
    # wsproto, a handshake cut short stays CONNECTING, a refusal REJECTING).
    assert connection.state in (ConnectionState.CLOSED, ConnectionState.CONNECTING,
                                ConnectionState.REJECTING), \
        f"{connection.state} after the transport ended"


def _answer(connection: WSConnection, event: Any, extensions: list[Any], *,
            echo: bool) -> None:
    """What a wsproto user sends back; it must work in the state it is sent in."""
    state = connection.state
    reply: Any = None
    if isinstance(event, Request):
        reply = AcceptConnection(extensions=extensions,
                                 subprotocol="chat" if "chat" in event.subprotocols else None)
    elif (isinstance(event, Ping) and state is ConnectionState.OPEN) or (
            isinstance(event, CloseConnection) and state is ConnectionState.REMOTE_CLOSING):
        reply = event.response()
    elif isinstance(event, TextMessage) and echo and state is ConnectionState.OPEN:
        reply = TextMessage(data=event.data, message_finished=event.message_finished)
    elif isinstance(event, BytesMessage) and echo and state is ConnectionState.OPEN:
        reply = BytesMessage(data=bytes(event.data), message_finished=event.message_finished)
    if reply is not None:
        with only((), f"WSConnection.send({type(reply).__name__}) in {state.name}"):
            connection.send(reply)
