"""Generate tests/vectors/conformance.json: python tests/vectors/generate.py

Conformance vectors for a WebSocket *server* receiving from a client, grouped
like the sections of Autobahn|Testsuite they mirror: 1 framing, 2 ping/pong,
3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 10 misc.

The vectors are plain data (see tests/vectors/README.md for the format), and
this generator does not use wsframe: frames are described field by field and
turned into bytes by a 20-line encoder in the test, so an implementation is
never checked against its own encoder. Expected UTF-8 verdicts come from
CPython's one-shot decoder; the byte at which a streaming validator must fail
comes from `first_impossible_prefix` below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "conformance.json"

Vector = dict[str, Any]
VECTORS: list[Vector] = []


# -- building blocks ----------------------------------------------------------

def key_for(index: int) -> str:
    """A deterministic masking key per frame (never all zero)."""
    value = (0x9E3779B1 * (index + 1)) & 0xFFFFFFFF or 1
    return f"{value:08x}"


_frame_counter = 0


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          repeat: tuple[bytes, int] | None = None,
          length_form: str | None = None) -> dict[str, Any]:
    """Describe one masked frame (client to server)."""
    global _frame_counter  # noqa: PLW0603
    _frame_counter += 1
    spec: dict[str, Any] = {"opcode": opcode, "fin": fin, "rsv": rsv,
                            "mask": key_for(_frame_counter)}
    if repeat is not None:
        spec["payload_repeat"] = [repeat[0].hex(), repeat[1]]
    else:
        spec["payload"] = payload.hex()
    if length_form:
        spec["length_form"] = length_form
    return spec


def payload_len(spec: dict[str, Any]) -> int:
    """The payload length a frame spec describes."""
    if "payload_repeat" in spec:
        pattern, count = spec["payload_repeat"]
        return len(bytes.fromhex(pattern)) * int(count)
    return len(bytes.fromhex(spec["payload"]))


def wire_len(spec: dict[str, Any]) -> int:
    """Bytes the frame takes on the wire (masked, minimal length unless forced)."""
    n = payload_len(spec)
    form = spec.get("length_form") or ("7" if n < 126 else "16" if n < 65536 else "64")
    return 2 + {"7": 0, "16": 2, "64": 8}[form] + 4 + n


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def binary(value: bytes) -> dict[str, Any]:
    return {"binary": value.hex()}


def add(vid: str, title: str, frames: list[dict[str, Any]], events: list[dict[str, Any]],
        error: int | None = None, bad_frame: int | None = None,
        fail_at: int | None = None) -> None:
    """Record a vector.

    ``error`` is the close code the receiver must fail with; ``bad_frame`` the
    index of the frame in which the violation is; ``fail_at`` (optional) the
    number of stream bytes after which the error must already be raised.
    """
    vector: Vector = {"id": vid, "title": title, "role": "server", "frames": frames,
                      "events": events}
    if error is not None:
        assert bad_frame is not None
        offset = sum(wire_len(f) for f in frames[:bad_frame])
        vector["error"] = {"code": error, "offset": offset}
        if fail_at is not None:
            vector["error"]["fail_at"] = fail_at
    VECTORS.append(vector)


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


# -- section 1: framing -------------------------------------------------------

for i, n in enumerate((0, 125, 126, 127, 128, 65535, 65536), 1):
    add(f"1.1.{i}", f"text message, payload length {n}",
        [frame(TEXT, repeat=(b"*", n))], [{"text_repeat": ["*", n]}])
    add(f"1.2.{i}", f"binary message, payload length {n}",
        [frame(BINARY, repeat=(b"\xfe", n))], [{"binary_repeat": ["fe", n]}])

# -- section 2: ping/pong -----------------------------------------------------

add("2.1", "ping without payload", [frame(PING)], [{"ping": ""}])
add("2.2", "ping with a small text payload", [frame(PING, b"Hello, world!")],
    [{"ping": b"Hello, world!".hex()}])
add("2.3", "ping with a small binary payload", [frame(PING, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")],
    [{"ping": "00fffefdfcfb00ff"}])
add("2.4", "ping with 125 bytes of payload", [frame(PING, b"\xfe" * 125)],
    [{"ping": "fe" * 125}])
add("2.5", "ping with 126 bytes of payload (control frames carry at most 125)",
    [frame(PING, b"\xfe" * 126)], [], error=1002, bad_frame=0, fail_at=2)
add("2.7", "unsolicited pong without payload", [frame(PONG)], [{"pong": ""}])
add("2.8", "unsolicited pong with payload", [frame(PONG, b"unsolicited pong payload")],
    [{"pong": b"unsolicited pong payload".hex()}])
add("2.9", "unsolicited pong, then ping",
    [frame(PONG, b"unsolicited pong payload"), frame(PING, b"ping payload")],
    [{"pong": b"unsolicited pong payload".hex()}, {"ping": b"ping payload".hex()}])
add("2.10", "10 pings in a row",
    [frame(PING, f"payload-{i}".encode()) for i in range(10)],
    [{"ping": f"payload-{i}".encode().hex()} for i in range(10)])

# -- section 3: reserved bits -------------------------------------------------

add("3.1", "text with RSV1 set", [frame(TEXT, b"Hello, world!", rsv=4)], [],
    error=1002, bad_frame=0, fail_at=1)
for vid, rsv in (("3.2", 2), ("3.3", 3), ("3.4", 4)):
    add(vid, f"text, then text with RSV={rsv}, then ping",
        [frame(TEXT, b"Hello, world!"), frame(TEXT, b"Hello, world!", rsv=rsv),
         frame(PING, b"")], [text("Hello, world!")], error=1002, bad_frame=1)
add("3.5", "binary with RSV=5", [frame(BINARY, bytes(range(8)), rsv=5)], [],
    error=1002, bad_frame=0, fail_at=1)
add("3.6", "ping with RSV=6", [frame(PING, b"Hello, world!", rsv=6)], [],
    error=1002, bad_frame=0, fail_at=1)
add("3.7", "close with RSV=7", [frame(CLOSE, b"", rsv=7)], [], error=1002, bad_frame=0,
    fail_at=1)

# -- section 4: opcodes ---------------------------------------------------------

for group, opcodes in (("4.1", (3, 4, 5, 6, 7)), ("4.2", (11, 12, 13, 14, 15))):
    kind = "non-control" if group == "4.1" else "control"
    add(f"{group}.1", f"reserved {kind} opcode {opcodes[0]}", [frame(opcodes[0])], [],
        error=1002, bad_frame=0, fail_at=1)
    add(f"{group}.2", f"reserved {kind} opcode {opcodes[1]} with payload",
        [frame(opcodes[1], b"reserved opcode payload")], [], error=1002, bad_frame=0)
    for j, op in enumerate(opcodes[2:], 3):
        add(f"{group}.{j}", f"text, reserved {kind} opcode {op}, ping",
            [frame(TEXT, b"Hello, world!"), frame(op, b"reserved opcode payload" * (j > 3)),
             frame(PING)], [text("Hello, world!")], error=1002, bad_frame=1)

# -- section 5: fragmentation ---------------------------------------------------

add("5.1", "ping fragmented into 2 frames", [frame(PING, b"fragment1", fin=False),
                                             frame(CONT, b"fragment2")], [],
    error=1002, bad_frame=0, fail_at=1)
add("5.2", "pong fragmented into 2 frames", [frame(PONG, b"fragment1", fin=False),
                                             frame(CONT, b"fragment2")], [],
    error=1002, bad_frame=0, fail_at=1)
add("5.3", "text message in 2 fragments",
    [frame(TEXT, b"fragment1", fin=False), frame(CONT, b"fragment2")],
    [text("fragment1fragment2")])
add("5.6", "text message in 2 fragments with a ping between them",
    [frame(TEXT, b"fragment1", fin=False), frame(PING, b"ping payload"),
     frame(CONT, b"fragment2")],
    [{"ping": b"ping payload".hex()}, text("fragment1fragment2")])
add("5.9", "continuation (FIN=1) with nothing to continue, then text",
    [frame(CONT, b"non-continuation payload"), frame(TEXT, b"Hello, world!")], [],
    error=1002, bad_frame=0, fail_at=1)
add("5.12", "continuation (FIN=0) with nothing to continue, then text",
    [frame(CONT, b"non-continuation payload", fin=False), frame(TEXT, b"Hello, world!")], [],
    error=1002, bad_frame=0, fail_at=1)
add("5.15", "2-fragment text, then a continuation with nothing to continue",
    [frame(TEXT, b"fragment1", fin=False), frame(CONT, b"fragment2"),
     frame(CONT, b"fragment3", fin=False), frame(TEXT, b"fragment4")],
    [text("fragment1fragment2")], error=1002, bad_frame=2)
add("5.16", "continuation (FIN=0) out of nowhere, then a 2-fragment text",
    [frame(CONT, b"fragment1", fin=False), frame(TEXT, b"fragment2", fin=False),
     frame(CONT, b"fragment3")], [], error=1002, bad_frame=0, fail_at=1)
add("5.17", "continuation (FIN=1) out of nowhere, then a 2-fragment text",
    [frame(CONT, b"fragment1"), frame(TEXT, b"fragment2", fin=False),
     frame(CONT, b"fragment3")], [], error=1002, bad_frame=0, fail_at=1)
add("5.18", "text in 2 fragments that both use the TEXT opcode",
    [frame(TEXT, b"fragment1", fin=False), frame(TEXT, b"fragment2")], [],
    error=1002, bad_frame=1)
add("5.19", "text in 5 fragments with pings between them",
    [frame(TEXT, b"fragment1", fin=False), frame(CONT, b"fragment2", fin=False),
     frame(PING, b"pongme 1!"), frame(CONT, b"fragment3", fin=False),
     frame(CONT, b"fragment4", fin=False), frame(PING, b"pongme 2!"),
     frame(CONT, b"fragment5")],
    [{"ping": b"pongme 1!".hex()}, {"ping": b"pongme 2!".hex()},
     text("fragment1fragment2fragment3fragment4fragment5")])
add("5.x-binary", "binary message in 3 fragments, empty middle one",
    [frame(BINARY, b"\x00\x01", fin=False), frame(CONT, b"", fin=False),
     frame(CONT, b"\x02")], [binary(b"\x00\x01\x02")])
add("5.x-interleaved", "binary frame inside a fragmented text message",
    [frame(TEXT, b"a", fin=False), frame(BINARY, b"b")], [], error=1002, bad_frame=1)

# -- section 6: UTF-8 -------------------------------------------------------------


def utf8_valid(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def completable(prefix: bytes) -> bool:
    """Can ``prefix`` be continued into valid UTF-8? CPython's one-shot decoder
    says "unexpected end of data" exactly for a valid prefix cut inside its
    last character (checked against brute force, see tests/vectors/README.md)."""
    try:
        prefix.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return True


def first_impossible_prefix(data: bytes) -> int:
    """Length of the shortest prefix that cannot start valid UTF-8, or
    len(data) when only the end of the message reveals the error."""
    for k in range(1, len(data) + 1):
        if not completable(data[:k]):
            return k
    return len(data)


def utf8_case(vid: str, title: str, data: bytes) -> None:
    """One text message carrying ``data`` in a single frame."""
    if utf8_valid(data):
        add(vid, title, [frame(TEXT, data)], [text(data.decode("utf-8"))])
    else:
        header = wire_len({"payload": data.hex()}) - len(data)
        add(vid, title, [frame(TEXT, data)], [], error=1007, bad_frame=0,
            fail_at=header + first_impossible_prefix(data))


# "κόσμε" with U+1F79 (omicron with oxia, 3 bytes), as in Markus Kuhn's UTF-8
# test file: 11 bytes. (Python's "κόσμε" literal uses U+03CC and is 10.)
KOSME = bytes.fromhex("cebae1bdb9cf83cebcceb5")
assert len(KOSME) == 11 and KOSME.decode("utf-8") == "κ\u1f79σμε"
add("6.1.1", "empty text message in 3 empty fragments",
    [frame(TEXT, b"", fin=False), frame(CONT, b"", fin=False), frame(CONT, b"")], [text("")])
add("6.1.3", "text in 3 fragments, first and last empty",
    [frame(TEXT, b"", fin=False), frame(CONT, b"middle frame payload", fin=False),
     frame(CONT, b"")], [text("middle frame payload")])
HELLO = "Hello-µ@ßöäüàá-UTF-8!!".encode()
add("6.2.1", "valid UTF-8 in one frame", [frame(TEXT, HELLO)], [text(HELLO.decode())])
add("6.2.2", "valid UTF-8 in 2 fragments split between code points",
    [frame(TEXT, HELLO[:12], fin=False), frame(CONT, HELLO[12:])], [text(HELLO.decode())])
add("6.2.3", "valid UTF-8 in 1-byte fragments (splitting code points)",
    [frame(TEXT if i == 0 else CONT, HELLO[i:i + 1], fin=i == len(HELLO) - 1)
     for i in range(len(HELLO))], [text(HELLO.decode())])
add("6.2.4", "κόσμε in 1-byte fragments",
    [frame(TEXT if i == 0 else CONT, KOSME[i:i + 1], fin=i == len(KOSME) - 1)
     for i in range(len(KOSME))], [text(KOSME.decode())])

BAD = KOSME + b"\xed\xa0\x80" + b"edited"          # a surrogate in the middle
utf8_case("6.3.1", "invalid UTF-8 (a surrogate) in one frame", BAD)
add("6.3.2", "invalid UTF-8 in 1-byte fragments: fails at the bad byte",
    [frame(TEXT if i == 0 else CONT, BAD[i:i + 1], fin=i == len(BAD) - 1)
     for i in range(len(BAD))], [], error=1007, bad_frame=len(KOSME) + 1,
    fail_at=7 * (len(KOSME) + 2))
FAST = KOSME + b"\xf4\x90\x80\x80" + b"edited"     # above U+10FFFF
K = len(KOSME)
add("6.4.1", "fail fast: the bad code point starts the 2nd of 3 fragments",
    [frame(TEXT, FAST[:K], fin=False), frame(CONT, FAST[K:K + 4], fin=False),
     frame(CONT, FAST[K + 4:])], [], error=1007, bad_frame=1, fail_at=(6 + K) + 6 + 2)
add("6.4.2", "fail fast: the bad byte alone in the 2nd of 3 fragments",
    [frame(TEXT, FAST[:K + 1], fin=False), frame(CONT, FAST[K + 1:K + 2], fin=False),
     frame(CONT, FAST[K + 2:])], [], error=1007, bad_frame=1, fail_at=(6 + K + 1) + 6 + 1)
# 6.4.3 / 6.4.4: one frame sent in chops; the stream must fail inside the frame.
utf8_case("6.4.3", "fail fast inside one frame: U+110000", FAST)
utf8_case("6.4.4", "fail fast inside one frame: a surrogate", KOSME + b"\xed\xa0\x80edited")

groups: list[tuple[str, str, list[bytes]]] = [
    ("6.5", "valid UTF-8 sequences", [
        b"hello$world", "hello¢world".encode(), "hello€world".encode(),
        "hello\U00024b62world".encode(), KOSME]),
    ("6.6", "every prefix of κόσμε", [KOSME[:i] for i in range(1, len(KOSME) + 1)]),
    ("6.7", "first sequence of each length",
     [chr(c).encode() for c in (0x0, 0x80, 0x800, 0x10000)]),
    ("6.8", "first 5- and 6-byte sequences (not UTF-8)",
     [b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]),
    ("6.9", "last sequence of each length",
     [chr(c).encode() for c in (0x7F, 0x7FF, 0xFFFF, 0x10FFFF)]),
    ("6.10", "last 4/5/6-byte encodings beyond U+10FFFF",
     [b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf\xbf"]),
    ("6.11", "other boundaries",
     [chr(0xD7FF).encode(), chr(0xE000).encode(), chr(0xFFFD).encode(),
      chr(0x10FFFF).encode(), b"\xf4\x90\x80\x80"]),
    ("6.12", "unexpected continuation bytes",
     [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf",
      b"\x80\xbf\x80\xbf\x80", b"\x80\xbf\x80\xbf\x80\xbf", bytes(range(0x80, 0xC0))]),
    ("6.13", "lonely start bytes, each followed by a space",
     [b"".join(bytes((b, 0x20)) for b in range(lo, hi))
      for lo, hi in ((0xC0, 0xE0), (0xE0, 0xF0), (0xF0, 0xF8), (0xF8, 0xFC), (0xFC, 0xFE))]),
    ("6.14", "sequences with their last continuation byte missing",
     [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
      b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf",
      b"ok\xce", b"ok\xe2\x82", b"ok\xf0\x9f\x98"]),
    ("6.15", "concatenated incomplete sequences",
     [b"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf"
      b"\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"]),
    ("6.16", "impossible bytes", [b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"]),
    ("6.17", "overlong ASCII '/'",
     [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x80\x80\x80\xaf",
      b"\xfc\x80\x80\x80\x80\xaf"]),
    ("6.18", "maximum overlong sequences",
     [b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf8\x87\xbf\xbf\xbf",
      b"\xfc\x83\xbf\xbf\xbf\xbf"]),
    ("6.19", "overlong NUL",
     [b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf8\x80\x80\x80\x80",
      b"\xfc\x80\x80\x80\x80\x80"]),
    ("6.20", "single UTF-16 surrogates",
     [bytes((0xED, b2, b3)) for b2, b3 in ((0xA0, 0x80), (0xAD, 0xBF), (0xAE, 0x80),
                                           (0xAF, 0xBF), (0xB0, 0x80), (0xBE, 0x80),
                                           (0xBF, 0xBF))]),
    ("6.21", "paired UTF-16 surrogates",
     [bytes((0xED, hi1, hi2, 0xED, lo1, lo2))
      for hi1, hi2 in ((0xA0, 0x80), (0xAD, 0xBF), (0xAE, 0x80), (0xAF, 0xBF))
      for lo1, lo2 in ((0xB0, 0x80), (0xBF, 0xBF))]),
    ("6.22", "noncharacters (valid UTF-8)",
     [chr(c).encode() for c in (0xFFFE, 0xFFFF, 0xFDD0, 0xFDEF, 0x1FFFE, 0x1FFFF, 0x10FFFE,
                                0x10FFFF)]),
    ("6.23", "replacement character and mixed text",
     [chr(0xFFFD).encode(), b"zero\x00byte", "mixed ✓ 中文 😀".encode()]),
]
for group, title, payloads in groups:
    for j, data in enumerate(payloads, 1):
        utf8_case(f"{group}.{j}", f"{title}: {data.hex()}", data)

# -- section 7: close ---------------------------------------------------------------

CLOSE_1000 = close_payload(1000)
add("7.1.1", "text message, then close",
    [frame(TEXT, b"Hello World!"), frame(CLOSE, CLOSE_1000)],
    [text("Hello World!"), {"close": [1000, ""]}])
add("7.1.2", "close, then close again (the second is ignored)",
    [frame(CLOSE, CLOSE_1000), frame(CLOSE, CLOSE_1000)], [{"close": [1000, ""]}])
add("7.1.3", "close, then ping (ignored)", [frame(CLOSE, CLOSE_1000), frame(PING)],
    [{"close": [1000, ""]}])
add("7.1.4", "close, then text (ignored)",
    [frame(CLOSE, CLOSE_1000), frame(TEXT, b"Hello World!")], [{"close": [1000, ""]}])
add("7.1.5", "text fragment, close, then the rest of the message (ignored)",
    [frame(TEXT, b"fragment1", fin=False), frame(CLOSE, CLOSE_1000), frame(CONT, b"fragment2")],
    [{"close": [1000, ""]}])
add("7.1.6", "256 KiB text, close, then ping",
    [frame(TEXT, repeat=(b"BAsd7&jh23", 26214)), frame(CLOSE, CLOSE_1000), frame(PING)],
    [{"text_repeat": ["BAsd7&jh23", 26214]}, {"close": [1000, ""]}])
add("7.1.x-garbage", "close, then bytes that are not even a frame (ignored)",
    [frame(CLOSE, CLOSE_1000), frame(3, b"junk", rsv=7)], [{"close": [1000, ""]}])
add("7.3.1", "close with an empty payload", [frame(CLOSE)], [{"close": [None, ""]}])
add("7.3.2", "close with a 1-byte payload", [frame(CLOSE, b"\x03")], [], error=1002,
    bad_frame=0, fail_at=7)
add("7.3.3", "close with a code and no reason", [frame(CLOSE, CLOSE_1000)],
    [{"close": [1000, ""]}])
add("7.3.4", "close with a code and a reason",
    [frame(CLOSE, close_payload(1000, b"Hello World!"))], [{"close": [1000, "Hello World!"]}])
add("7.3.5", "close with a 123-byte reason", [frame(CLOSE, close_payload(1000, b"*" * 123))],
    [{"close": [1000, "*" * 123]}])
add("7.3.6", "close with a 124-byte reason (126-byte control frame)",
    [frame(CLOSE, close_payload(1000, b"*" * 124))], [], error=1002, bad_frame=0, fail_at=2)
add("7.5.1", "close with a reason that is not UTF-8",
    [frame(CLOSE, close_payload(1000, KOSME + b"\xed\xa0\x80edited"))], [], error=1007,
    bad_frame=0)
for j, code in enumerate((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                          1014, 3000, 3999, 4000, 4999), 1):
    add(f"7.7.{j}", f"close with the valid code {code}", [frame(CLOSE, close_payload(code))],
        [{"close": [code, ""]}])
for j, code in enumerate((0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535),
                         1):
    add(f"7.9.{j}", f"close with the invalid code {code}", [frame(CLOSE, close_payload(code))],
        [], error=1002, bad_frame=0, fail_at=8)

# -- section 10: miscellaneous ------------------------------------------------------

MESSAGE = b"*" * 65536
add("10.1.1", "64 KiB text message in 1300-byte fragments",
    [frame(TEXT if i == 0 else CONT, repeat=(b"*", len(MESSAGE[i:i + 1300])),
           fin=i + 1300 >= len(MESSAGE)) for i in range(0, len(MESSAGE), 1300)],
    [{"text_repeat": ["*", 65536]}])


def main() -> None:
    """Write the vectors as JSON."""
    document = {
        "format": "wsframe conformance vectors, version 1 (see README.md in this folder)",
        "vectors": VECTORS,
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(HERE.parent.parent)}: {len(VECTORS)} vectors")


if __name__ == "__main__":
    main()
