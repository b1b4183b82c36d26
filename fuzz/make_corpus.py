"""Write the seed corpus: every conformance vector (tests/vectors) as an input
for fuzz/harness.py, once for each role/limit/mode setting that fits it.

    python fuzz/make_corpus.py fuzz/corpus
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def encode(spec: dict[str, object]) -> bytes:
    """A vector frame spec as bytes (the same format as tests/vectors/README.md)."""
    if "payload_repeat" in spec:
        pattern, count = spec["payload_repeat"]  # type: ignore[misc]
        payload = bytes.fromhex(pattern) * min(int(count), 300)   # keep seeds small
    else:
        payload = bytes.fromhex(str(spec["payload"]))
    n = len(payload)
    first = (0x80 if spec["fin"] else 0) | int(spec["rsv"]) << 4 | int(spec["opcode"])  # type: ignore[call-overload]
    key = bytes.fromhex(str(spec["mask"]))
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 65536:
        head = bytes((first, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 0xFF)) + n.to_bytes(8, "big")
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def main() -> None:
    """Write one file per (vector, setting)."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "fuzz/corpus")
    out.mkdir(parents=True, exist_ok=True)
    vectors = json.loads((ROOT / "tests/vectors/conformance.json").read_text())["vectors"]
    count = 0
    for vector in vectors:
        stream = b"".join(encode(spec) for spec in vector["frames"])
        for control in (0x01, 0x09, 0x31, 0x05, 0x71):       # server role, various modes
            data = bytes((control,)) + stream
            name = hashlib.sha1(data).hexdigest()   # a content-addressed file name
            (out / name).write_bytes(data)
            count += 1
    print(f"wrote {count} seed inputs to {out}")


if __name__ == "__main__":
    main()
