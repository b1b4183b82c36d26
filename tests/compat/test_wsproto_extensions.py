"""permessage-deflate through wsframe.compat.wsproto: wsproto's `PerMessageDeflate`
object and attributes, negotiated by wsframe's `negotiate`, compressing with
wsframe's extension."""

from __future__ import annotations

import zlib

import pytest

from wsframe.compat.wsproto import WSConnection
from wsframe.compat.wsproto.connection import CLIENT, SERVER, Connection
from wsframe.compat.wsproto.events import AcceptConnection, Request, TextMessage
from wsframe.compat.wsproto.extensions import (
    SUPPORTED_EXTENSIONS,
    Extension,
    PerMessageDeflate,
)
from wsframe.compat.wsproto.handshake import server_extensions_handshake


def test_the_offer() -> None:
    assert PerMessageDeflate().offer() == "client_max_window_bits=15; server_max_window_bits=15"
    assert PerMessageDeflate(client_no_context_takeover=True, client_max_window_bits=10,
                             server_no_context_takeover=True,
                             server_max_window_bits=12).offer() == (
        "client_max_window_bits=10; server_max_window_bits=12; client_no_context_takeover; "
        "server_no_context_takeover")
    assert {"permessage-deflate": PerMessageDeflate} == SUPPORTED_EXTENSIONS


@pytest.mark.parametrize("bits", [8, 16, 0])
def test_windows_are_9_to_15_bits(bits: int) -> None:
    with pytest.raises(ValueError, match="between 9 and 15"):
        PerMessageDeflate(client_max_window_bits=bits)
    deflate = PerMessageDeflate()
    with pytest.raises(ValueError, match="between 9 and 15"):
        deflate.server_max_window_bits = bits


@pytest.mark.parametrize("offer, wishes, answer", [
    ("permessage-deflate", {}, ""),
    ("permessage-deflate; client_max_window_bits", {}, "client_max_window_bits=15"),
    ("permessage-deflate; client_max_window_bits", {"client_max_window_bits": 11},
     "client_max_window_bits=11"),
    ("permessage-deflate; server_max_window_bits=10", {}, "server_max_window_bits=10"),
    ("permessage-deflate; client_no_context_takeover", {},
     "client_no_context_takeover"),
    ("permessage-deflate", {"server_no_context_takeover": True},
     "server_no_context_takeover"),
])
def test_a_server_accepts(offer: str, wishes: dict[str, object], answer: str) -> None:
    deflate = PerMessageDeflate(**wishes)  # type: ignore[arg-type]
    assert not deflate.enabled()
    assert deflate.accept(offer) == answer
    assert deflate.enabled()


@pytest.mark.parametrize("offer", [
    "permessage-deflate; server_max_window_bits=8",          # zlib cannot compress with 8
    "permessage-deflate; client_max_window_bits=15; client_max_window_bits=15",
    "permessage-deflate; rubbish",
    "permessage-deflate; server_max_window_bits=16",
])
def test_a_server_declines(offer: str) -> None:
    deflate = PerMessageDeflate()
    assert deflate.accept(offer) is None
    assert not deflate.enabled()


def test_the_server_header_takes_the_first_acceptable_offer() -> None:
    deflate = PerMessageDeflate()
    header = server_extensions_handshake(
        ["permessage-deflate; rubbish", "permessage-deflate; server_no_context_takeover",
         "permessage-deflate"], [deflate])
    assert header == b"permessage-deflate; server_no_context_takeover"
    assert deflate.server_no_context_takeover


def test_a_client_finalizes() -> None:
    deflate = PerMessageDeflate()
    deflate.finalize("permessage-deflate; server_max_window_bits=10; "
                     "client_no_context_takeover; client_max_window_bits=9")
    assert deflate.enabled()
    assert (deflate.server_max_window_bits, deflate.client_max_window_bits) == (10, 9)
    assert deflate.client_no_context_takeover and not deflate.server_no_context_takeover
    assert repr(deflate) == ("<PerMessageDeflate client_max_window_bits=9; "
                             "client_no_context_takeover; server_max_window_bits=10>")
    with pytest.raises(ValueError, match="between 9 and 15"):
        PerMessageDeflate().finalize("permessage-deflate; client_max_window_bits=8")


def connected(client_ext: PerMessageDeflate,
              server_ext: PerMessageDeflate) -> tuple[WSConnection, WSConnection]:
    client, server = WSConnection(CLIENT), WSConnection(SERVER)
    server.receive_data(client.send(Request(host="h", target="/", extensions=[client_ext])))
    list(server.events())
    client.receive_data(server.send(AcceptConnection(extensions=[server_ext])))
    (accepted,) = client.events()
    assert isinstance(accepted, AcceptConnection) and accepted.extensions == [client_ext]
    return client, server


@pytest.mark.parametrize("takeover", [True, False])
def test_messages_go_compressed_both_ways(takeover: bool) -> None:
    client, server = connected(PerMessageDeflate(),
                               PerMessageDeflate(server_no_context_takeover=not takeover))
    text = "compress me, " * 20
    first, second = server.send(TextMessage(data=text)), server.send(TextMessage(data=text))
    assert first[0] == 0xC1                      # FIN, RSV1 (compressed), text
    # The payload is raw DEFLATE without its 00 00 ff ff tail (RFC 7692 7.2.1).
    inflate = zlib.decompressobj(-15)
    assert inflate.decompress(first[2:] + b"\x00\x00\xff\xff") == text.encode()
    # With context takeover the second message refers back to the first.
    assert (len(second) < len(first)) is takeover
    client.receive_data(first + second)
    assert list(client.events()) == [TextMessage(data=text), TextMessage(data=text)]
    server.receive_data(client.send(TextMessage(data="a", message_finished=False)) +
                        client.send(TextMessage(data="b")))
    assert "".join(e.data for e in server.events() if isinstance(e, TextMessage)) == "ab"


def test_a_connection_runs_no_foreign_extension() -> None:
    class Foreign(Extension):
        name = "foreign"

        def offer(self) -> bool:
            return True

        def enabled(self) -> bool:
            return True

    with pytest.raises(TypeError, match="frame-level extension hooks"):
        Connection(SERVER, [Foreign()])
    Connection(SERVER, [PerMessageDeflate()])       # not agreed: not run
