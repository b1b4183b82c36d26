"""Masking: every strategy (integer XOR, translate lanes, in place, and the
accelerators when installed) agrees with the definition of RFC 6455 section 5.3,
at every size and offset."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import tracemalloc
from typing import Any

import pytest
from child import run_json

from wsframe import masking


def reference(data: bytes, key: bytes) -> bytes:
    """RFC 6455 5.3, literally: octet i XOR key octet i MOD 4."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


IMPLEMENTATIONS = masking.implementations()

SIZES = [0, 1, 2, 3, 4, 5, 63, 64, 125, 126, 511, 512, 513, 1023, 1024, 1025, 2047, 2048,
         2049, 4097, 32767, 32768, 32771, 65535, 65536, 65537, 200_003]


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("size", SIZES)
def test_every_entry_point_matches_the_rfc_definition(name: str, size: int) -> None:
    apply: Any
    apply, unmask, frame, append, encode = IMPLEMENTATIONS[name]
    rng = random.Random(size)
    data, key = rng.randbytes(size), rng.randbytes(4)
    expected = reference(data, key)
    assert apply(data, key, 0, None) == expected
    # In place in a larger buffer (start/stop), from bytes and from bytearray.
    buffer = rng.randbytes(7) + data + rng.randbytes(5)
    assert apply(buffer, key, 7, 7 + size) == expected
    assert apply(bytearray(buffer), key, 7, 7 + size) == expected
    # A buffered payload unmasked in its own buffer; a frame built at once.
    result = unmask(bytearray(data), key)
    assert type(result) is bytes and result == expected
    assert frame(b"\x82\x7e", data, key) == b"\x82\x7e" + expected
    # A whole frame: the length in its minimal encoding (RFC 6455 5.2), the key.
    length = (bytes((0x80 | size,)) if size < 126 else b"\xfe" + size.to_bytes(2, "big")
              if size < 65536 else b"\xff" + size.to_bytes(8, "big"))
    assert encode(0x82, data, key) == b"\x82" + length + key + expected
    assert masking.mask_small(data, key) == expected
    assert masking.mask_int(data, key) == expected
    # Appended to a message buffer, with the ASCII verdict on the new bytes.
    message = bytearray(b"kept")
    assert append(message, data, key, size + 100) is expected.isascii()
    assert message == b"kept" + expected


def test_masking_twice_gives_the_original() -> None:
    data = random.Random(1).randbytes(100_000)
    key = b"\x12\x34\x56\x78"
    assert masking.apply_mask(masking.apply_mask(data, key), key) == data


def test_accelerator_is_reported() -> None:
    if masking.ACCELERATOR is None:
        assert list(IMPLEMENTATIONS) == ["python"]
    else:
        assert masking.ACCELERATOR == "wsframe._speedups (C)"


def test_import_wsframe_loads_only_the_standard_library() -> None:
    """Issue 25: numpy was imported whenever it was installed. In a child
    process, every module loaded by ``import wsframe`` is the standard
    library's or wsframe's own (its C helper included, when built)."""
    script = ("import sys; before = set(sys.modules); import wsframe, wsframe.extensions; "
              "print('\\n'.join(sorted(set(sys.modules) - before)))")
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True)
    # (The compiled build adds mypyc's shared runtime module, "<hash>__mypyc".)
    loaded = {name.split(".")[0] for name in child.stdout.split()
              if not name.endswith("__mypyc")}
    assert "wsframe" in loaded
    assert loaded - {"wsframe"} <= set(sys.stdlib_module_names), loaded


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_frames_built_one_after_another_keep_their_bytes(name: str) -> None:
    """The send path may XOR into a reused scratch array: a frame already
    returned must not change when the next one is built."""
    _apply, _unmask, frame, _append, _encode = IMPLEMENTATIONS[name]
    rng = random.Random(7)
    first, second = rng.randbytes(100_000), rng.randbytes(100_000)
    key = b"\x01\x02\x03\x04"
    built = frame(b"", first, key)
    frame(b"", second, key)
    assert built == reference(first, key)


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_unmask_append_grows_a_message_piece_by_piece(name: str) -> None:
    """Pieces of one frame, each lined up with its key, appended in order:
    the message is the unmasked payload, whatever ``reserve`` says, and the
    verdict is about the new bytes only."""
    append = IMPLEMENTATIONS[name][3]
    rng = random.Random(3)
    key = rng.randbytes(4)
    text = ("ascii then \u00e9t\u00e9 " * 500).encode()
    masked = reference(text, key)
    message = bytearray()
    verdicts = []
    pos = 0
    for size in (1, 5, 1460, 7, 3000, 16384):
        piece = masked[pos:pos + size]
        lined_up = key[pos % 4:] + key[:pos % 4]
        verdicts.append(append(message, piece, lined_up, len(masked) - pos))
        pos += len(piece)
    assert message == text[:pos]
    assert verdicts == [text[a:b].isascii() for a, b in
                        ((0, 1), (1, 6), (6, 1466), (1466, 1473), (1473, 4473), (4473, pos))]


PAYLOAD_BUFFERS = masking.payload_buffers()


@pytest.mark.parametrize("name", PAYLOAD_BUFFERS)
@pytest.mark.parametrize("size", [0, 1, 5, 1460, 65535, 65536, 65537, 300_007])
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "plain"])
def test_payload_buffer_gives_the_payload_unmasked_piece_by_piece(
        name: str, size: int, masked: bool) -> None:
    """Pieces of every size and alignment (the key lines up with each
    piece's place in the payload): `take` gives the RFC's unmasked payload,
    ``len`` counts what was appended, and the buffer is empty afterwards."""
    new = PAYLOAD_BUFFERS[name]
    rng = random.Random(size)
    data, key = rng.randbytes(size), rng.randbytes(4)
    buffer = new(key if masked else None, size)
    pos = 0
    for step in itertools.cycle((1, 3, 1460, 7, 70_000, 2)):
        if pos >= size:
            break
        buffer.append(memoryview(data)[pos:pos + step] if step == 3 else data[pos:pos + step])
        pos = min(size, pos + step)
        assert len(buffer) == pos
    result = buffer.take()
    assert type(result) is bytes
    assert result == (reference(data, key) if masked else data)
    assert len(buffer) == 0 and buffer.take() == b""


@pytest.mark.parametrize("name", PAYLOAD_BUFFERS)
def test_payload_buffer_refuses_more_than_the_declared_length(name: str) -> None:
    buffer = PAYLOAD_BUFFERS[name](b"\x01\x02\x03\x04", 5)
    buffer.append(b"abc")
    with pytest.raises(ValueError, match="past the declared length"):
        buffer.append(b"def")
    assert len(buffer) == 3                 # nothing of the refused piece was kept
    assert buffer.take() == reference(b"abc", b"\x01\x02\x03\x04")


@pytest.mark.parametrize("name", PAYLOAD_BUFFERS)
def test_payload_buffer_memory_follows_the_bytes_received(name: str) -> None:
    """A payload declaring 1 GiB of which 256 KiB arrive: the buffer holds
    at most four times what arrived (the C helper's growth; pure Python's
    bytearray a little more than it), never the declared length."""
    pieces = [random.Random(9).randbytes(16384)] * 16        # made before tracing
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        buffer = PAYLOAD_BUFFERS[name](b"\x01\x02\x03\x04", 2**30)
        for piece in pieces:
            buffer.append(piece)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(buffer) == 256 * 1024
    assert peak < 4 * 256 * 1024 + 64 * 1024 + 16 * 1024, f"peak {peak} bytes"


# Hostile arguments: each entry point of each implementation either gives the
# RFC's answer or raises TypeError / ValueError / BufferError / OverflowError.
# In a child process, so that a crash in C fails this test instead of pytest.
# (Issue 21: the C helper wrote through NULL on an empty bytearray.)
_HOSTILE = r'''
import json, sys
from wsframe import masking
apply, unmask, frame, append, encode = masking.implementations()[sys.argv[1]]
K = b"\x01\x02\x03\x04"
def held():
    buffer = bytearray(b"abc")
    return buffer, memoryview(buffer)          # exported: it cannot grow
aliased = bytearray(b"abcd")
calls = {
  "apply": [(b"", K, 0, None), (b"", K, 0, 0), (bytearray(), K, 0, None),
            (memoryview(b""), K, 0, None), (b"abc", K, -1, None), (b"abc", K, 2, 1),
            (b"abc", K, 0, 10), (b"abc", K, 2**70, None), (b"abc", K, 0, -2**70),
            (b"abc", b"", 0, None), (b"abc", b"12345", 0, None), (b"abc", None, 0, None),
            (None, K, 0, None), (b"abc", K, "0", None), (memoryview(b"abcdefgh")[::2], K, 0, None),
            ("text", K, 0, None), (aliased, aliased, 0, None)],
  "unmask": [(bytearray(), K), (bytearray(b"ab"), b"123"), (b"abc", K), (None, K),
             (bytearray(b"ab"), None), (aliased, aliased)],
  "frame": [(b"", b"", K), (b"", b"", b""), (None, b"", K), (b"x", b"", None),
            (b"x", memoryview(b"abcdefgh")[::2], K), (b"x", "text", K)],
  "append": [(bytearray(), b"", K, 0), (bytearray(), b"", K, -5), (bytearray(), b"ab", K, -1),
             (bytearray(), b"ab", K, 0), (bytearray(), b"ab", K, 2**70),
             (bytearray(), b"ab", K, -2**70),
             (b"", b"ab", K, 1), (aliased, aliased, K, 10), (bytearray(), b"ab", b"", 1),
             (bytearray(), None, K, 1), (bytearray(), b"ab", K, "1"), (bytearray(), b"", b"", 0),
             (held()[0], b"ab", K, 100000), (bytearray(), b"ab", K, None)],
  "encode": [(0x82, b"", K), (256, b"", K), (-1, b"", K), (2**70, b"", K), ("1", b"", K),
             (0x82, b"ab", b""), (0x82, None, K), (0x82, "text", K),
             (0x82, memoryview(b"abcdefgh")[::2], K)],
}
new = masking.payload_buffers()[sys.argv[1]]
def payload(key, length, *pieces):
    buffer = new(key, length)
    for piece in pieces:
        buffer.append(piece)
    return buffer.take()
calls["payload"] = [(K, 0), (None, 0), (K, 3, b"abc"), (K, -1), (K, 2**70), (K, "3"),
                    (b"123", 3), (None, None), (K, 2, b"abc"), (K, 3, None), (K, 3, "abc"),
                    (K, 8, memoryview(b"abcdefgh")[::2]), (K, 2**62, b"ab")]
functions = {"apply": apply, "unmask": unmask, "frame": frame, "append": append,
             "encode": encode, "payload": payload}
outcomes = []
for name, argument_lists in calls.items():
    for args in argument_lists:
        try:
            result = functions[name](*args)
        except (TypeError, ValueError, BufferError, OverflowError) as exc:
            outcomes.append([name, type(exc).__name__])
        else:
            outcomes.append([name, "ok", result.hex() if isinstance(result, bytes) else result])
print(json.dumps(outcomes))
'''


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_hostile_arguments_raise_and_never_crash(name: str) -> None:
    outcomes = run_json(_HOSTILE, name)
    assert len(outcomes) == 52 + 13
    ok = [outcome for outcome in outcomes if outcome[1] == "ok"]
    # What succeeds is the RFC's answer: empty input gives empty output, a
    # slice within the data is masked, an empty piece is "all ASCII".
    assert ["apply", "ok", ""] in ok and ["frame", "ok", ""] in ok
    assert ["encode", "ok", "828001020304"] in ok         # an empty masked frame
    appended = [outcome for outcome in ok if outcome[0] == "append"]
    assert appended and all(outcome[2] is True for outcome in appended)
    payloads = [outcome for outcome in outcomes if outcome[0] == "payload"]
    assert [outcome[1:] for outcome in payloads if outcome[1] == "ok"] == [
        ["ok", ""], ["ok", ""], ["ok", "606060"], ["ok", "6060"]]
