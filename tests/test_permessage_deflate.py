"""permessage-deflate (RFC 7692): examples, round trips, negotiation, limits,
and interoperability with websockets' own implementation."""

from __future__ import annotations

import random
import tracemalloc
import zlib

import pytest
from splitting import SPLIT_MODES, chunks, run

from wsframe import (
    BinaryMessage,
    MessageReader,
    MessageWriter,
    Opcode,
    Ping,
    ProtocolError,
    Role,
    TextMessage,
    Violation,
    build_frame,
)
from wsframe.extensions.permessage_deflate import (
    DeflateParams,
    PerMessageDeflate,
    accept_offer,
    accept_response,
    offer,
)
from wsframe.handshake import HandshakeError

# RFC 7692 section 7.2.3: "Hello" in every shape the RFC shows (server to
# client, so unmasked), as (section, frames on the wire).
RFC_EXAMPLES = [
    ("7.2.3.1 one compressed block", "c107f248cdc9c90700"),
    ("7.2.3.1 fragmented", "4103f248cd" + "8004c9c90700"),
    ("7.2.3.3 no compression (stored block)", "c10b0005" "00faff48656c6c6f00"),
    ("7.2.3.4 BFINAL set to 1", "c108f348cdc9c9070000"),
    ("7.2.3.5 two DEFLATE blocks", "c10df24805000000ffffcac9c90700"),
]


def client(extension: PerMessageDeflate | None = None) -> MessageReader:
    return MessageReader(Role.CLIENT, extensions=[extension or PerMessageDeflate(Role.CLIENT)])


@pytest.mark.parametrize(("name", "wire"), RFC_EXAMPLES, ids=[e[0] for e in RFC_EXAMPLES])
@pytest.mark.parametrize("mode", SPLIT_MODES)
def test_rfc_7692_examples_decode(name: str, wire: str, mode: str) -> None:
    events, error = run(client().feed, chunks(bytes.fromhex(wire), mode))
    assert (events, error) == ([TextMessage("Hello")], None)


def test_rfc_7692_context_takeover_example() -> None:
    """7.2.3.2: the second "Hello" refers back to the first through the shared window."""
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER)])
    first, second = writer.text("Hello"), writer.text("Hello")
    assert first.hex() == "c107f248cdc9c90700"
    assert second.hex() == "c105f200110000"
    reader = client()
    assert list(reader.feed(first + second)) == [TextMessage("Hello"), TextMessage("Hello")]


def test_no_context_takeover_compresses_each_message_alone() -> None:
    params = DeflateParams(server_no_context_takeover=True)
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER, params)])
    assert writer.text("Hello").hex() == writer.text("Hello").hex() == "c107f248cdc9c90700"
    reader = client(PerMessageDeflate(Role.CLIENT, params))
    wire = writer.text("Hello") + writer.text("Hello")
    assert list(reader.feed(wire)) == [TextMessage("Hello")] * 2


def test_empty_message_is_one_zero_byte() -> None:
    """An empty message compresses to the single byte 0x00 (the empty stored
    block's header once 00 00 ff ff is removed)."""
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER)])
    assert writer.binary(b"") == bytes.fromhex("c20100")
    assert list(client().feed(bytes.fromhex("c20100"))) == [BinaryMessage(b"")]


@pytest.mark.parametrize("seed", range(8))
def test_round_trip_random_windows_and_takeover(seed: int) -> None:
    rng = random.Random(seed)
    params = DeflateParams(
        server_no_context_takeover=rng.random() < 0.5,
        client_no_context_takeover=rng.random() < 0.5,
        server_max_window_bits=rng.randint(9, 15),
        client_max_window_bits=rng.randint(9, 15))
    for sender_role in (Role.SERVER, Role.CLIENT):
        receiver_role = Role.CLIENT if sender_role is Role.SERVER else Role.SERVER
        writer = MessageWriter(sender_role, extensions=[PerMessageDeflate(sender_role, params)])
        reader = MessageReader(receiver_role, max_message_size=None,
                               extensions=[PerMessageDeflate(receiver_role, params)])
        messages = []
        wire = b""
        for _ in range(20):
            if rng.random() < 0.5:
                text = "".join(rng.choice("abcκόσμε😀 ") for _ in range(rng.randint(0, 3000)))
                messages.append(TextMessage(text))
                wire += writer.text(text, fragment_size=rng.choice([None, 7, 100]))
            else:
                data = rng.randbytes(rng.randint(0, 3000)) * rng.randint(1, 3)
                messages.append(BinaryMessage(data))
                wire += writer.binary(data, fragment_size=rng.choice([None, 50]))
            if rng.random() < 0.2:
                messages.append(Ping(b"p"))
                wire += writer.ping(b"p")
        events, error = run(reader.feed, chunks(wire, "random", seed))
        assert error is None and events == messages


# -- protection ----------------------------------------------------------------------

def test_decompression_bomb_fails_with_1009_without_inflating_it() -> None:
    """A 1 KiB message that would inflate to 64 MiB: 1009, with peak memory near
    the limit, not near 64 MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(64 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    assert len(bomb) < 70 * 1024
    wire = build_frame(Opcode.BINARY, bomb, rsv1=True)
    reader = MessageReader(Role.CLIENT, max_message_size=2**20, max_frame_size=None,
                           extensions=[PerMessageDeflate(Role.CLIENT)])
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError) as info:
            list(reader.feed(wire))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009 and info.value.violation is Violation.MESSAGE_TOO_BIG
    assert peak < 4 * 2**20, f"peak {peak} bytes"


def test_small_compressed_message_over_the_limit() -> None:
    writer = MessageWriter(Role.SERVER, extensions=[PerMessageDeflate(Role.SERVER)])
    wire = writer.text("a" * 5000)
    assert len(wire) < 100
    reader = MessageReader(Role.CLIENT, max_message_size=4999,
                           extensions=[PerMessageDeflate(Role.CLIENT)])
    with pytest.raises(ProtocolError) as info:
        list(reader.feed(wire))
    assert info.value.code == 1009
    ok = MessageReader(Role.CLIENT, max_message_size=5000,
                       extensions=[PerMessageDeflate(Role.CLIENT)])
    assert list(ok.feed(wire)) == [TextMessage("a" * 5000)]


def test_corrupt_deflate_data_is_1007() -> None:
    wire = build_frame(Opcode.TEXT, b"\xff\xff\xff\xff garbage", rsv1=True)
    for mode in SPLIT_MODES:
        events, error = run(client().feed, chunks(wire, mode))
        assert events == [] and error is not None
        assert error.code == 1007 and error.violation is Violation.INVALID_COMPRESSED_DATA
        assert error.offset == 0


def test_rsv1_without_negotiation_is_1002() -> None:
    wire = bytes.fromhex("c107f248cdc9c90700")
    _events, error = run(MessageReader(Role.CLIENT).feed, [wire])
    assert error is not None and error.violation is Violation.RESERVED_BITS


@pytest.mark.parametrize("wire", [
    "4103f248cd" + "c004c9c90700",      # RSV1 on a continuation frame
    "c900",                             # RSV1 on a ping
    "c80203e8",                         # RSV1 on a close
])
def test_rsv1_on_continuation_or_control_is_1002_even_with_deflate(wire: str) -> None:
    _events, error = run(client().feed, [bytes.fromhex(wire)])
    assert error is not None and error.code == 1002
    assert error.violation is Violation.EXTENSION_BITS_ON_CONTROL_OR_CONTINUATION
    assert error.rfc == 7692


def test_rsv2_stays_reserved_with_deflate() -> None:
    _events, error = run(client().feed, [bytes.fromhex("a100")])
    assert error is not None and error.violation is Violation.RESERVED_BITS


def test_uncompressed_messages_still_work_with_deflate_negotiated() -> None:
    wire = build_frame(Opcode.TEXT, b"plain") + bytes.fromhex("c107f248cdc9c90700")
    assert list(client().feed(wire)) == [TextMessage("plain"), TextMessage("Hello")]


# -- negotiation ------------------------------------------------------------------------

def test_offer_and_accept() -> None:
    # Memory-conscious defaults (12-bit windows, chosen on benchmarks/corpus.py).
    assert offer() == "permessage-deflate; client_max_window_bits=12"
    response, extension = accept_offer(offer())  # type: ignore[misc]
    assert response == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    client_side = accept_response(response)
    assert client_side.params == DeflateParams(server_max_window_bits=12,
                                               client_max_window_bits=12)
    assert extension.role is Role.SERVER
    assert (extension.local_window_bits, extension.remote_window_bits) == (12, 12)
    # A server that does not lower the client's window: the client keeps its offer.
    assert accept_response("permessage-deflate").local_window_bits == 12
    # None asks for zlib's largest window, and says nothing about it.
    response, extension = accept_offer(  # type: ignore[misc]
        "permessage-deflate; client_max_window_bits", server_max_window_bits=None,
        client_max_window_bits=None)
    assert response == "permessage-deflate"
    assert (extension.local_window_bits, extension.remote_window_bits) == (15, 15)


def test_accept_honours_the_clients_requests() -> None:
    header = ("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
              "client_max_window_bits")
    response, extension = accept_offer(header)  # type: ignore[misc]
    assert response == ("permessage-deflate; server_no_context_takeover; "
                        "server_max_window_bits=10; client_max_window_bits=12")
    assert extension.local_window_bits == 10 and extension.local_no_context_takeover
    sent = DeflateParams(server_no_context_takeover=True, server_max_window_bits=10,
                         client_max_window_bits=True)
    client_side = accept_response(response, sent)
    assert client_side.remote_window_bits == 10 and client_side.remote_no_context_takeover


def test_server_wishes_are_applied_only_where_allowed() -> None:
    response, _ = accept_offer("permessage-deflate", client_max_window_bits=10,  # type: ignore[misc]
                               client_no_context_takeover=True)
    assert response == ("permessage-deflate; client_no_context_takeover; "
                        "server_max_window_bits=12")
    response, _ = accept_offer("permessage-deflate; client_max_window_bits",  # type: ignore[misc]
                               client_max_window_bits=10)
    assert response == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10"


@pytest.mark.parametrize("header", [
    "permessage-deflate; unknown_param",
    "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=010",
    "permessage-deflate; client_max_window_bits=abc",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; server_max_window_bits=8",        # zlib cannot compress with 8
    "x-other-extension",
])
def test_invalid_offers_are_declined(header: str) -> None:
    assert accept_offer(header) is None


def test_first_acceptable_offer_wins() -> None:
    header = ("permessage-deflate; server_max_window_bits=8, "
              "permessage-deflate; server_no_context_takeover, permessage-deflate")
    response, _ = accept_offer(header)  # type: ignore[misc]
    assert response == "permessage-deflate; server_no_context_takeover; server_max_window_bits=12"


def test_quoted_parameter_values() -> None:
    response, _ = accept_offer('permessage-deflate; server_max_window_bits="12"')  # type: ignore[misc]
    assert response == "permessage-deflate; server_max_window_bits=12"


@pytest.mark.parametrize(("response", "sent"), [
    ("permessage-deflate; client_max_window_bits=10", DeflateParams()),
    ("permessage-deflate; server_max_window_bits=12",
     DeflateParams(server_max_window_bits=10)),
    ("permessage-deflate", DeflateParams(server_no_context_takeover=True)),
    ("permessage-deflate; bogus", None),
    ("permessage-deflate, permessage-deflate", None),
    ("x-other", None),
])
def test_client_rejects_invalid_responses(response: str, sent: DeflateParams | None) -> None:
    with pytest.raises(HandshakeError):
        accept_response(response, sent)


# -- interoperability with websockets' permessage-deflate ------------------------------

def _websockets_extension(role: Role, params: DeflateParams):  # type: ignore[no-untyped-def]
    from websockets.extensions.permessage_deflate import PerMessageDeflate as WsDeflate

    server = role is Role.SERVER
    return WsDeflate(
        remote_no_context_takeover=params.client_no_context_takeover if server
        else params.server_no_context_takeover,
        local_no_context_takeover=params.server_no_context_takeover if server
        else params.client_no_context_takeover,
        remote_max_window_bits=(params.client_max_window_bits if server
                                else params.server_max_window_bits) or 15,
        local_max_window_bits=(params.server_max_window_bits if server
                               else params.client_max_window_bits) or 15)


@pytest.mark.parametrize("takeover", [True, False])
def test_websockets_compresses_wsframe_inflates(takeover: bool) -> None:
    from websockets.frames import Frame
    from websockets.frames import Opcode as WsOpcode

    params = DeflateParams(server_no_context_takeover=not takeover, server_max_window_bits=12)
    theirs = _websockets_extension(Role.SERVER, params)
    texts = ["Hello", "Hello", "κόσμε " * 500, ""]
    wire = b""
    for text in texts:
        wire += Frame(WsOpcode.TEXT, text.encode()).serialize(mask=False, extensions=[theirs])
    assert wire[0] == 0xC1          # RSV1 | FIN | TEXT: compressed by websockets
    reader = client(PerMessageDeflate(Role.CLIENT, params))
    assert list(reader.feed(wire)) == [TextMessage(t) for t in texts]


@pytest.mark.parametrize("takeover", [True, False])
def test_wsframe_compresses_websockets_inflates(takeover: bool) -> None:
    from websockets.protocol import Protocol, Side

    params = DeflateParams(client_no_context_takeover=not takeover, client_max_window_bits=11)
    writer = MessageWriter(Role.CLIENT, extensions=[PerMessageDeflate(Role.CLIENT, params)])
    protocol = Protocol(Side.SERVER, max_size=None)
    protocol.extensions = [_websockets_extension(Role.SERVER, params)]
    payloads = [b"Hello", b"Hello", bytes(range(256)) * 100, b""]
    for payload in payloads:
        protocol.receive_data(writer.binary(payload, fragment_size=1000))
    frames = protocol.events_received()
    assert protocol.parser_exc is None
    assembled, current = [], b""
    for frame in frames:
        current += frame.data
        if frame.fin:
            assembled.append(current)
            current = b""
    assert assembled == payloads


def test_the_extensions_package_exports_permessage_deflate() -> None:
    # `from wsframe.extensions import PerMessageDeflate` is what a user tries
    # first: the same objects as the defining module's, and a working offer.
    import wsframe.extensions as package
    from wsframe.extensions import permessage_deflate as module

    for name in ("PerMessageDeflate", "offer", "accept_offer", "accept_response"):
        assert getattr(package, name) is getattr(module, name)
        assert name in package.__all__
    assert package.offer() == "permessage-deflate; client_max_window_bits=12"
    extension = package.PerMessageDeflate(Role.SERVER)
    assert extension.rsv_bits == 0x40     # RSV1 (RFC 7692 6)
