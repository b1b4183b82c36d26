"""Write the seed corpus of every fuzz target: generated here, never committed.

    python fuzz/make_corpus.py fuzz/corpus          # fuzz/corpus/<target>/<sha1>
    python fuzz/make_corpus.py --zip "$OUT"         # $OUT/fuzz_<target>_seed_corpus.zip

Seeds are valid inputs and near misses, in each harness's input format
(see fuzz/contract.py `Input` and each harness's module documentation):

* frames: every conformance vector (tests/vectors), in several modes;
* handshake: client requests and server answers, with and without
  permessage-deflate offers, plus the malformed offers of issue 21;
* connection, deflate: exchanges written by wsframe's own writer for the
  peer's role, compressed with each set of permessage-deflate parameters;
* compat: requests and a client's frames for a server, 101 answers (with
  an ``{ACCEPT}`` placeholder) and a server's frames for a client, refusals;
* capture: the sample captures (samples/*.pcap, *.pcapng), synthesized
  connections that carry a handshake and frames, and raw streams
  (samples/*.bin, compressed exchanges) for `wsframe dissect file.bin`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(ROOT))          # the checkout, if wsframe is not installed

from wsframe import MessageWriter, Role  # noqa: E402
from wsframe.extensions.permessage_deflate import DeflateParams, PerMessageDeflate  # noqa: E402
from wsframe.handshake import client_request, server_response  # noqa: E402

TARGETS = ("frames", "handshake", "connection", "deflate", "capture", "compat")
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
MASK = b"\x37\xfa\x21\x3d"
PARAMS = (DeflateParams(),
          DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
          DeflateParams(server_max_window_bits=9, client_max_window_bits=9))


def encode(spec: dict[str, object]) -> bytes:
    """A vector frame spec as bytes (the same format as tests/vectors/README.md)."""
    if "payload_repeat" in spec:
        repeat: list[Any] = spec["payload_repeat"]  # type: ignore[assignment]
        pattern, count = str(repeat[0]), int(repeat[1])
        payload = bytes.fromhex(pattern) * min(count, 300)   # keep seeds small
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


def framed(control: int, cuts: list[int], payload: bytes, extra: bytes = b"") -> bytes:
    """An input in the harnesses' format: the control byte, the cut points,
    ``extra`` (per-harness settings read after the cuts), the payload."""
    head = bytes((control, len(cuts))) + b"".join(cut.to_bytes(2, "big") for cut in cuts)
    return head + extra + payload


def _boundaries(parts: list[bytes]) -> list[int]:
    out, at = [], 0
    for part in parts[:-1]:
        at += len(part)
        out.append(at)
    return out


def exchange(sender: Role, params: DeflateParams | None) -> list[bytes]:
    """A peer's messages as ``sender`` writes them (masked if a client)."""
    extensions = [] if params is None else [PerMessageDeflate(sender, params)]
    writer = MessageWriter(sender, extensions=extensions, mask_source=lambda n: MASK[:n])
    return [writer.text("Hello, WebSocket"), writer.binary(bytes(range(40)) * 3),
            writer.text("fragmented " * 6, fragment_size=16), writer.ping(b"are you there"),
            writer.text("Hello, WebSocket"), writer.close(1000, "bye")]


def frames_seeds() -> Iterator[bytes]:
    """Every conformance vector, in the frame harness's modes."""
    vectors = json.loads((ROOT / "tests/vectors/conformance.json").read_text())["vectors"]
    for vector in vectors:
        stream = b"".join(encode(spec) for spec in vector["frames"])
        for control in (0x01, 0x09, 0x31, 0x05, 0x71):   # server role, various modes
            yield bytes((control,)) + stream


def requests() -> list[bytes]:
    """Client requests, valid and not."""
    heads = [client_request("example.com", "/chat", key=KEY)[0],
             client_request("example.com", "/", key=KEY, subprotocols=["chat", "v1.json"],
                            extensions="permessage-deflate; client_max_window_bits")[0],
             client_request("[::1]:9001", "/x?y=1", key=KEY, origin="http://example.com",
                            extensions="permessage-deflate; server_no_context_takeover; "
                                       "client_no_context_takeover; server_max_window_bits=10, "
                                       "permessage-deflate, x-webkit-deflate-frame")[0]]
    request = heads[0].decode()
    for offer in ("permessage-deflate;;", 'permessage-deflate; a="b',
                  "permessage-deflate; x; ,;", "permessage-deflate; server_max_window_bits=8",
                  'permessage-deflate; client_max_window_bits="12"',
                  "permessage-deflate; client_max_window_bits=016"):
        heads.append(request.replace("\r\n\r\n", f"\r\nSec-WebSocket-Extensions: {offer}"
                                                 "\r\n\r\n").encode())
    heads += [request.replace("HTTP/1.1", "HTTP/1.0").encode(),
              request.replace("GET", "POST").encode(),
              request.replace("Version: 13", "Version: 8").encode(),
              request.replace(KEY, "c2hvcnQ=").encode(),
              request.replace("\r\nHost: example.com", "").encode(),
              request.replace("\r\n\r\n", "\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n").encode(),
              heads[0] + b"\x81\x85" + MASK + b"early",
              # an HTTP/2 extended CONNECT (RFC 8441), pseudo-headers spelled Pseudo-*
              b"CONNECT /chat HTTP/1.1\r\nPseudo-Method: CONNECT\r\nPseudo-Protocol: websocket"
              b"\r\nPseudo-Scheme: https\r\nPseudo-Path: /chat\r\nPseudo-Authority: example.com"
              b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, v1.json\r\n"
              b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"]
    return heads


def responses() -> list[bytes]:
    """Server answers, valid and not."""
    ok = server_response(KEY, extensions="permessage-deflate; client_max_window_bits=12",
                         subprotocol="chat")
    return [server_response(KEY), ok,
            ok.replace(b"chat", b"other"),
            ok.replace(b"=12", b"=8"),
            ok + b"\x81\x05Hello",
            b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            # refusals with a body (BodyReader): Content-Length, chunked, until EOF
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!",
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello"
            b"\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\ntry again later"]


def handshake_seeds() -> Iterator[bytes]:
    """Heads, whole and cut in two places."""
    for head in requests() + responses():
        for control in (0x00, 0x03, 0x0D):
            yield framed(control, [], head)
        yield framed(0x06, [len(head) // 3, len(head) - 2], head)


def connection_seeds() -> Iterator[bytes]:
    """A peer's exchange for each role, with each set of deflate parameters."""
    for choice, params in enumerate((None, *PARAMS)):
        for role in (Role.SERVER, Role.CLIENT):
            peer = Role.CLIENT if role is Role.SERVER else Role.SERVER
            parts = exchange(peer, params)
            cuts = _boundaries(parts)
            actions = bytes(range(len(cuts)))
            for limit in (1, 3):
                control = (role is Role.SERVER) | limit << 1 | choice << 4
                yield framed(control, cuts, b"".join(parts), actions)
                yield framed(control | 8, cuts, b"".join(parts), actions)
                # auto_reply=False; pieces of a text message, a Ping, EOF
                yield framed(control | 0x40, cuts, b"".join(parts), b"\x06\x03\x06\x01\x04")
                yield framed(control, cuts, b"".join(parts), b"\x06\x05\x01\x07\x02")


def deflate_seeds() -> Iterator[bytes]:
    """Compressed exchanges (raw mode) and payloads for the round trip."""
    for choice, params in enumerate(PARAMS):
        for role in (Role.SERVER, Role.CLIENT):
            peer = Role.CLIENT if role is Role.SERVER else Role.SERVER
            parts = exchange(peer, params)
            stream = b"".join(parts)
            control = (role is Role.SERVER) | 3 << 1 | choice << 4
            yield framed(control, [], stream)
            yield framed(control | 8, _boundaries(parts), stream)
            yield framed(control & ~6 | 2, [len(stream) // 2], stream)       # limit 64
            text = "permessage-deflate " * 5 + "\u00e9t\u00e9 \U0001f600"
            payload = text.encode() + bytes(range(256))
            yield framed(control | 0x40, [len(text.encode()), len(text.encode()) + 100],
                         payload)
            yield framed(control | 0xC0, [10, 200], payload)


def capture_seeds() -> Iterator[bytes]:
    """The sample captures, and synthesized connections."""
    for path in sorted((ROOT / "samples").glob("capture-*.pcap*")):
        yield b"\x00" + path.read_bytes()
        yield b"\x02" + path.read_bytes()
    for name in ("valid-exchange.bin", "reserved-opcode.bin", "try-again-later.bin"):
        raw = (ROOT / "samples" / name).read_bytes()
        for control in (0x60, 0x20, 0xE0):
            yield framed(control, [len(raw) // 2], raw)
    for role in (Role.SERVER, Role.CLIENT):
        parts = exchange(Role.CLIENT if role is Role.SERVER else Role.SERVER, PARAMS[0])
        control = 0x30 | (0x40 if role is Role.SERVER else 0)
        yield framed(control, _boundaries(parts), b"".join(parts))
        yield framed(control | 0x80, [3, 30], b"".join(parts))
    request = requests()[1]
    response = server_response(KEY, extensions="permessage-deflate; client_max_window_bits=12",
                               subprotocol="chat")
    plain = server_response(KEY)
    for answer, params in ((plain, None),
                           (response, DeflateParams(client_max_window_bits=12))):
        client = exchange(Role.CLIENT, params)
        server = exchange(Role.SERVER, params)
        parts = [request, answer, client[0], server[0], client[1], server[1], client[5],
                 server[5]]
        directions = 0b10101010
        for flags in (0x03, 0x07, 0x0B, 0x13, 0x00):
            for control in (0x01, 0x07, 0x09, 0x41, 0x43):
                yield framed(control, _boundaries(parts), b"".join(parts),
                             bytes((directions, flags, 5 + flags)))


def compat_seeds() -> Iterator[bytes]:
    """wsproto's API: a server reading requests and a client's frames, a client
    reading answers (``{ACCEPT}`` answers its random key) and a server's frames."""
    for params, control in ((None, 0), (DeflateParams(client_max_window_bits=12), 2)):
        client = exchange(Role.CLIENT, params)
        server = exchange(Role.SERVER, params)
        for request in requests()[:5]:
            yield framed(control, [len(request)], request + b"".join(client))
            yield framed(control | 4, [len(request), len(request) + 20],
                         request + b"".join(client))
        extensions = "" if params is None else \
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n"
        answer = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
                  "Sec-WebSocket-Protocol: chat\r\n" + extensions + "\r\n").encode()
        yield framed(control | 1, [len(answer)], answer + b"".join(server))
        yield framed(control | 5, [], answer + b"".join(server[:3]))
    for refusal in responses()[-3:]:
        yield framed(1, [len(refusal) - 3], refusal)


SEEDS = {"frames": frames_seeds, "handshake": handshake_seeds, "connection": connection_seeds,
         "deflate": deflate_seeds, "capture": capture_seeds, "compat": compat_seeds}


def main() -> None:
    """Write one directory (or one zip) of seeds per target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", default=str(ROOT / "fuzz/corpus"),
                        help="write <directory>/<target>/<sha1> (default: fuzz/corpus)")
    parser.add_argument("--zip", metavar="OUT",
                        help="write OUT/fuzz_<target>_seed_corpus.zip instead (OSS-Fuzz)")
    args = parser.parse_args()
    for target in TARGETS:
        seeds = {hashlib.sha1(seed).hexdigest(): seed for seed in SEEDS[target]()}
        if args.zip:
            path = Path(args.zip) / f"fuzz_{target}_seed_corpus.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, seed in sorted(seeds.items()):
                    archive.writestr(name, seed)
        else:
            path = Path(args.directory) / target
            path.mkdir(parents=True, exist_ok=True)
            for name, seed in seeds.items():
                (path / name).write_bytes(seed)
        print(f"{target}: {len(seeds)} seeds in {path}")


if __name__ == "__main__":
    main()
