"""Regenerate the bundled sample streams: python samples/make_samples.py

Each .bin file is raw bytes as they travel on one direction of a connection.
Masking keys are fixed so the files are reproducible (tests check that the
committed files equal what this script writes).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))  # the checkout, if not installed

from wsframe import CloseCode, Opcode, build_close, build_frame

HERE = Path(__file__).resolve().parent
KEYS = [bytes.fromhex(k) for k in ("37fa213d", "a1b2c3d4", "0badf00d", "cafebabe", "5eed5eed",
                                   "12345678")]


def samples() -> dict[str, bytes]:
    """The sample streams, by file name."""
    k = iter(KEYS)
    valid = b"".join((
        build_frame(Opcode.TEXT, b"Hello", mask=next(k)),                 # RFC 6455 5.7
        build_frame(Opcode.TEXT, b"Hel", fin=False, mask=next(k)),        # a fragmented
        build_frame(Opcode.PING, b"ping?", mask=next(k)),                 # message with a
        build_frame(Opcode.CONTINUATION, "lo, wörld".encode(), mask=next(k)),  # ping inside
        build_close(CloseCode.NORMAL_CLOSURE, "bye", mask=next(k)),
    ))
    reserved = b"".join((
        build_frame(Opcode.TEXT, b"hi", mask=KEYS[0]),
        # Opcode 0x3 is reserved (RFC 6455 5.2); build_frame refuses to write
        # it, so the broken peer's frame is spelled out by hand.
        bytes((0x83, 0x82)) + KEYS[1] + bytes(b ^ KEYS[1][i] for i, b in enumerate(b"??")),
        build_frame(Opcode.TEXT, b"never read", mask=KEYS[2]),
    ))
    overloaded = build_close(CloseCode.TRY_AGAIN_LATER, "server overloaded, retry later")
    return {
        "valid-exchange.bin": valid,         # client -> server (masked)
        "reserved-opcode.bin": reserved,     # client -> server, ends in a 1002 violation
        "try-again-later.bin": overloaded,   # server -> client (unmasked): 1013
    }


if __name__ == "__main__":
    for name, data in samples().items():
        (HERE / name).write_bytes(data)
        print(f"wrote samples/{name} ({len(data)} bytes)")
