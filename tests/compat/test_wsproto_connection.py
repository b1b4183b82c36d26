"""wsframe.compat.wsproto's Connection: wsproto's behaviour after the handshake.

The behaviours wsproto's own test suite checks (messages, closing handshake,
pings, garbage, states), restated against the compat module, plus what the
compat layer adds: the close codes it maps, the Close frame a violation
sends, generators that keep their place. Server frames are unmasked, so
their bytes are checked exactly.
"""

from __future__ import annotations

import pytest

from wsframe.compat.wsproto.connection import CLIENT, SERVER, Connection, ConnectionState
from wsframe.compat.wsproto.events import (
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    Request,
    TextMessage,
)
from wsframe.compat.wsproto.frame_protocol import CloseReason
from wsframe.compat.wsproto.utilities import LocalProtocolError


def pair(client_sends: bool) -> tuple[Connection, Connection]:
    """(sender, receiver)."""
    client, server = Connection(CLIENT), Connection(SERVER)
    return (client, server) if client_sends else (server, client)


@pytest.mark.parametrize("client_sends", [True, False])
@pytest.mark.parametrize("final", [True, False])
def test_a_binary_piece_arrives_with_its_finish_flag(client_sends: bool, final: bool) -> None:
    local, remote = pair(client_sends)
    remote.receive_data(local.send(BytesMessage(data=b"y" * 40, message_finished=final)))
    assert list(remote.events()) == [
        BytesMessage(data=b"y" * 40, frame_finished=final, message_finished=final)]


def test_server_frames_are_exact() -> None:
    server = Connection(SERVER)
    assert server.send(TextMessage(data="hi")) == b"\x81\x02hi"
    assert server.send(BytesMessage(data=b"ab", message_finished=False)) == b"\x02\x02ab"
    assert server.send(Ping(payload=b"p")) == b"\x89\x01p"      # between the pieces
    assert server.send(BytesMessage(data=b"cd")) == b"\x80\x02cd"
    assert server.send(Pong(payload=b"")) == b"\x8a\x00"
    # uvicorn sends the base class: the data's type picks the opcode.
    assert server.send(Message(data="x")) == b"\x81\x01x"
    assert server.send(Message(data=bytearray(b"z"))) == b"\x82\x01z"


def test_a_piece_of_the_other_kind_inside_a_message_is_a_type_error() -> None:
    server = Connection(SERVER)
    server.send(TextMessage(data="a", message_finished=False))
    with pytest.raises(TypeError, match="mismatch"):
        server.send(BytesMessage(data=b"b"))
    with pytest.raises(TypeError, match="bytes or text"):
        server.send(Message(data=3))  # type: ignore[type-var]


def test_text_pieces_and_a_split_character() -> None:
    client, server = Connection(CLIENT), Connection(SERVER)
    server.receive_data(client.send(TextMessage(data="ƒñö", message_finished=False)))
    server.receive_data(client.send(TextMessage(data="😎")))
    assert list(server.events()) == [
        TextMessage(data="ƒñö", frame_finished=False, message_finished=False),
        TextMessage(data="😎", frame_finished=True, message_finished=True)]
    # A character cut between two frames of a message arrives whole.
    server.receive_data(b"\x01\x82mask" + bytes(a ^ b for a, b in zip(b"\xf0\x9f", b"mask",
                                                                       strict=False)))
    server.receive_data(b"\x80\x82mask" + bytes(a ^ b for a, b in zip(b"\x98\x8e", b"mask",
                                                                       strict=False)))
    text = "".join(e.data for e in server.events() if isinstance(e, TextMessage))
    assert text == "😎"


@pytest.mark.parametrize("client_sends", [True, False])
@pytest.mark.parametrize("code, reason", [(CloseReason.NORMAL_CLOSURE, "bye"),
                                          (CloseReason.GOING_AWAY, "👋👋"), (4000, "app")])
def test_the_closing_handshake(client_sends: bool, code: int, reason: str) -> None:
    local, remote = pair(client_sends)
    remote.receive_data(local.send(CloseConnection(code=code, reason=reason)))
    assert local.state is ConnectionState.LOCAL_CLOSING
    (event,) = remote.events()
    assert event == CloseConnection(code=code, reason=reason)
    assert type(event.code) is type(code)           # a CloseReason where one exists
    assert remote.state is ConnectionState.REMOTE_CLOSING
    with pytest.raises(LocalProtocolError):
        remote.send(TextMessage(data="too late"))
    local.receive_data(remote.send(event.response()))
    assert remote.state is ConnectionState.CLOSED
    assert list(local.events()) == [CloseConnection(code=code, reason=reason)]
    assert local.state is ConnectionState.CLOSED
    with pytest.raises(LocalProtocolError, match="already closed"):
        local.receive_data(b"more")


def test_the_end_of_the_transport_is_1006_after_what_came_before() -> None:
    client = Connection(CLIENT)
    client.receive_data(b"\x81\x01a")
    client.receive_data(None)
    assert client.state is ConnectionState.CLOSED
    assert list(client.events()) == [TextMessage(data="a"),
                                     CloseConnection(code=CloseReason.ABNORMAL_CLOSURE)]
    with pytest.raises(LocalProtocolError):
        client.send(CloseConnection(code=1000))


def test_one_close_only_and_nothing_after_it() -> None:
    client = Connection(CLIENT)
    client.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE))
    with pytest.raises(LocalProtocolError):
        client.send(CloseConnection(code=CloseReason.NORMAL_CLOSURE))
    for event in (TextMessage(data=""), Ping(), Pong()):
        with pytest.raises(LocalProtocolError):
            client.send(event)


@pytest.mark.parametrize("code, reason, frame", [
    (1000, "", b"\x88\x02\x03\xe8"),
    (None, "", b"\x88\x00"),
    (CloseReason.NO_STATUS_RCVD, "", b"\x88\x00"),          # no code: the empty Close
    (CloseReason.ABNORMAL_CLOSURE, "x", b"\x88\x03\x03\xe8x"),  # local-only: 1000, as wsproto
    (CloseReason.TLS_HANDSHAKE_FAILED, "", b"\x88\x02\x03\xe8"),
    (1004, "r", b"\x88\x03\x03\xe8r"),                     # may not be sent: 1000 (fit_close)
    (999, "", b"\x88\x02\x03\xe8"),
    # The reason cut to 123 bytes at a character boundary: 61 two-byte characters.
    (3000, "é" * 70, b"\x88\x7c\x0b\xb8" + ("é" * 61).encode()),
])
def test_close_codes_are_made_sendable(code: int | None, reason: str, frame: bytes) -> None:
    out = Connection(SERVER).send(CloseConnection(code=code, reason=reason))  # type: ignore[arg-type]
    assert out == frame


def test_a_reason_without_a_code_is_refused() -> None:
    with pytest.raises(TypeError, match="reason without a code"):
        Connection(SERVER).send(CloseConnection(code=None, reason="x"))  # type: ignore[arg-type]


@pytest.mark.parametrize("client_sends", [True, False])
def test_pings_are_delivered_not_answered(client_sends: bool) -> None:
    local, remote = pair(client_sends)
    remote.receive_data(local.send(Ping(payload=b"x" * 23)))
    (event,) = remote.events()
    assert event == Ping(payload=b"x" * 23)
    answer = remote.send(event.response())
    local.receive_data(answer)
    assert list(local.events()) == [Pong(payload=b"x" * 23)]
    if not client_sends:
        assert answer[:2] == b"\x8a\x97"        # the client's Pong is masked


def test_an_unsolicited_pong_is_delivered() -> None:
    client, server = Connection(CLIENT), Connection(SERVER)
    server.receive_data(client.send(Pong(payload=b"beat")))
    assert list(server.events()) == [Pong(payload=b"beat")]


def test_a_violation_is_reported_and_answered_with_its_code() -> None:
    client = Connection(CLIENT)
    client.receive_data(b"\x81\x01a" + b"\x09\x17" + b"x" * 23)   # a Ping without FIN
    events = list(client.events())
    assert events[0] == TextMessage(data="a")
    assert isinstance(events[1], CloseConnection)
    assert events[1].code is CloseReason.PROTOCOL_ERROR
    assert len(events) == 2
    assert client.state is ConnectionState.REMOTE_CLOSING
    # Whatever the answer says, the Close that goes out carries the violation's code.
    frame = client.send(CloseConnection(code=1000))
    assert frame[0] == 0x88 and frame[1] & 0x80        # masked, from the client
    key, payload = frame[2 + 0:2 + 4], frame[6:]
    plain = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert plain[:2] == b"\x03\xea"
    assert plain[2:].decode() == events[1].reason
    assert client.state is ConnectionState.CLOSED


def test_a_server_answers_an_unmasked_frame_with_1002() -> None:
    server = Connection(SERVER)
    server.receive_data(b"\x81\x01a")
    (event,) = server.events()
    assert isinstance(event, CloseConnection) and event.code == 1002
    reason = event.reason or ""
    assert server.send(event.response()) == b"\x88" + bytes([2 + len(reason.encode())]) + \
        b"\x03\xea" + reason.encode()


def test_invalid_utf8_is_1007() -> None:
    client = Connection(CLIENT)
    client.receive_data(b"\x81\x02\xc3\x28")
    (event,) = client.events()
    assert isinstance(event, CloseConnection)
    assert event.code is CloseReason.INVALID_FRAME_PAYLOAD_DATA


def test_a_handshake_event_cannot_be_sent() -> None:
    with pytest.raises(LocalProtocolError):
        Connection(CLIENT).send(Request(target="/", host="example"))


def test_bytes_are_parsed_when_the_events_are_read() -> None:
    """As in wsproto: the state changes as the caller reaches the Close."""
    client = Connection(CLIENT)
    client.receive_data(b"\x81\x01a\x88\x02\x03\xe8")
    assert client.state is ConnectionState.OPEN
    events = client.events()
    assert next(events) == TextMessage(data="a")
    assert client.state is ConnectionState.OPEN
    assert next(events) == CloseConnection(code=1000, reason="")
    assert client.state is ConnectionState.REMOTE_CLOSING


def test_a_generator_left_part_way_keeps_its_place() -> None:
    """simple-websocket reads one event per fresh generator."""
    client = Connection(CLIENT)
    client.receive_data(b"\x81\x01a\x81\x01b")
    assert next(client.events()) == TextMessage(data="a")
    client.receive_data(b"\x81\x01c")
    assert next(client.events()) == TextMessage(data="b")
    assert list(client.events()) == [TextMessage(data="c")]


def test_bytes_after_the_peers_close_are_ignored() -> None:
    client = Connection(CLIENT)
    client.receive_data(b"\x88\x00\x81\x01a")
    assert list(client.events()) == [CloseConnection(code=CloseReason.NO_STATUS_RCVD,
                                                     reason="")]
    client.receive_data(b"\x81\x01b")           # REMOTE_CLOSING: ignored, as in wsproto
    assert list(client.events()) == []
    assert client.send(CloseConnection(code=CloseReason.NO_STATUS_RCVD))[:2] == b"\x88\x80"


def test_trailing_data_is_parsed_first() -> None:
    client = Connection(CLIENT, trailing_data=b"\x81\x01a")
    client.receive_data(b"\x81\x01b")
    assert list(client.events()) == [TextMessage(data="a"), TextMessage(data="b")]


def test_data_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="bytes or None"):
        Connection(CLIENT).receive_data("text")  # type: ignore[arg-type]
