"""wsframe.compat.wsproto beside the real wsproto (requirements/test.txt pins 1.3.2):
the same received bytes, whole and one byte at a time, give the same messages,
control events and close codes on both.

Pieces are compared per message (the two cut a message into pieces at
different places; wsproto also hands up empty ones), violations by their
close code (the reasons are each library's own words).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import pytest
import wsproto.connection as real_connection
import wsproto.events as real_events

from wsframe.compat.wsproto import connection as compat_connection
from wsframe.compat.wsproto import events as compat_events

Summary = list[tuple[str, object]]


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """A server-to-client frame (unmasked), minimal length encoding."""
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 2**16:
        return bytes([first, 126]) + struct.pack("!H", n) + payload
    return bytes([first, 127]) + struct.pack("!Q", n) + payload


def close(code: int, reason: bytes = b"") -> bytes:
    return frame(0x8, struct.pack("!H", code) + reason)


STREAMS = {
    "text": frame(0x1, "héllo".encode()),
    "binary, 70 KiB": frame(0x2, bytes(range(256)) * 280),
    "fragmented with a ping between": frame(0x1, b"ab", fin=False) + frame(0x9, b"p")
    + frame(0x0, b"cd", fin=False) + frame(0x0, b"", fin=True),
    "a character split across frames": frame(0x1, "😎".encode()[:1], fin=False)
    + frame(0x0, "😎".encode()[1:]),
    "empty messages": frame(0x1) + frame(0x2),
    "pong then close with a reason": frame(0xA, b"x") + close(1000, b"bye"),
    "close without a code": frame(0x8),
    "close 4999": close(4999, b"app"),
    "bytes after the close are not read": close(1001) + frame(0x1, b"late"),
    "reserved opcode": frame(0x3, b"x"),
    "reserved control opcode": frame(0xB),
    "RSV1 without an extension": frame(0x1, b"x", rsv=0x40),
    "a fragmented ping": frame(0x9, b"p", fin=False),
    "a ping of 126 bytes": bytes([0x89, 126]) + struct.pack("!H", 126) + b"p" * 126,
    "a continuation without a message": frame(0x0, b"x"),
    "a new message inside one": frame(0x1, b"a", fin=False) + frame(0x1, b"b"),
    "invalid UTF-8": frame(0x1, b"\xc3\x28"),
    "invalid UTF-8 across frames": frame(0x1, b"\xf0\x9f", fin=False) + frame(0x0, b"A"),
    "a close of one byte": frame(0x8, b"\x03"),
    "close code 999": close(999),
    "close code 1005 on the wire": close(1005),
    "close code 1006 on the wire": close(1006),
    "close code 2000 (reserved)": close(2000),
    "close code 5000": close(5000),
    "a close reason that is not UTF-8": close(1000, b"\xff"),
    "a 2-byte length for 5 bytes": bytes([0x81, 126, 0, 5]) + b"hello",
    "a masked frame to a client": bytes([0x81, 0x81]) + b"mask" + bytes([ord("a") ^ ord("m")]),
}


def summary(events: Iterable[object]) -> Summary:
    """Messages joined per message; control events; a close by its code."""
    out: Summary = []
    piece: list[object] = []
    for event in events:
        name = type(event).__name__
        if name in ("TextMessage", "BytesMessage"):
            piece.append(event.data)  # type: ignore[attr-defined]
            if event.message_finished:  # type: ignore[attr-defined]
                joined = "".join(piece) if name == "TextMessage" else b"".join(piece)  # type: ignore[arg-type]
                out.append((name, joined))
                piece = []
        elif name in ("Ping", "Pong"):
            out.append((name, event.payload))  # type: ignore[attr-defined]
        else:
            out.append((name, int(event.code)))  # type: ignore[attr-defined]
    if any(piece):              # what was handed up of a message left unfinished
        out.append(("unfinished", "".join(piece) if isinstance(piece[0], str)  # type: ignore[arg-type]
                    else b"".join(piece)))  # type: ignore[arg-type]
    return out


def run(module: object, data: bytes, split: bool) -> Summary:
    connection = module.Connection(module.ConnectionType.CLIENT)  # type: ignore[attr-defined]
    events: list[object] = []
    for i in range(len(data)) if split else [None]:
        connection.receive_data(data if i is None else data[i:i + 1])
        new = list(connection.events())
        events += new
        if any(type(e).__name__ == "CloseConnection" for e in new):
            break
    return summary(events)


@pytest.mark.parametrize("split", [False, True], ids=["whole", "byte by byte"])
@pytest.mark.parametrize("name", list(STREAMS))
def test_the_same_events_as_wsproto(name: str, split: bool) -> None:
    data = STREAMS[name]
    assert run(compat_connection, data, split) == run(real_connection, data, split)


@pytest.mark.parametrize("event", [
    "TextMessage(data='x')", "BytesMessage(data=b'x', message_finished=False)",
    "Ping(payload=b'abc')", "Pong()", "CloseConnection(code=1000, reason='bye')",
    "CloseConnection(code=4000)", "RejectConnection(status_code=403, has_body=True)",
    "RejectData(data=b'no', body_finished=False)",
    "Request(host='h', target='/', subprotocols=['a'])",
    "AcceptConnection(subprotocol='a')"])
def test_events_print_and_compare_alike(event: str) -> None:
    """Embedders' tests compare events and their reprs (simple-websocket's do)."""
    real = eval(event, vars(real_events))
    ours = eval(event, vars(compat_events))
    assert repr(ours) == repr(real)
    assert ours == eval(event, vars(compat_events))
    if hasattr(real, "response"):
        assert repr(ours.response()) == repr(real.response())


def test_server_frames_are_byte_for_byte_wsproto_s() -> None:
    real = real_connection.Connection(real_connection.ConnectionType.SERVER)
    ours = compat_connection.Connection(compat_connection.ConnectionType.SERVER)
    for name in ("TextMessage(data='héllo' * 30)", "BytesMessage(data=bytes(70000))",
                 "TextMessage(data='a', message_finished=False)", "Ping(payload=b'p')",
                 "TextMessage(data='b')", "Pong(payload=b'')",
                 "CloseConnection(code=1001, reason='é' * 80)"):
        assert ours.send(eval(name, vars(compat_events))) == \
            bytes(real.send(eval(name, vars(real_events)))), name
