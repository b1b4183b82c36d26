"""Helpers for the capture tests: run wsframe's and Wireshark's dissectors on a
file, write pcap files, and rewrite packets (link types, TCP segments)."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

from wsframe import Opcode, build_frame
from wsframe.dissect import CAPTURE_KEEP
from wsframe.tools.capture import CaptureStats, SummaryRecord, dissect_capture
from wsframe.tools.pcap import Packet, read_packets
from wsframe.tools.session import FrameRecord, NoteRecord, ViolationRecord

TSHARK = shutil.which("tshark")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# A frame as both dissectors describe it: (packet, sender's TCP port, FIN, RSV
# bits, opcode, MASK, payload length, masking key hex, unmasked payload hex).
FrameRow = tuple[int, int, bool, int, int, bool, int, str, str]


def run(data: bytes, **options: Any) -> dict[str, Any]:
    """wsframe on capture bytes: frames, violations, notes and summaries."""
    out: dict[str, Any] = {"frames": [], "violations": [], "notes": [], "summaries": {},
                           "stats": CaptureStats()}
    for record in dissect_capture(io.BytesIO(data), stats=out["stats"], **options):
        if isinstance(record, FrameRecord):
            out["frames"].append(record)
        elif isinstance(record, ViolationRecord):
            out["violations"].append(record)
        elif isinstance(record, NoteRecord):
            out["notes"].append((record.connection, record.text))
        elif isinstance(record, SummaryRecord):
            out["summaries"][record.connection] = record.summary
    return out


def wsframe_rows(data: bytes) -> list[FrameRow]:
    """wsframe's frames of a capture, as rows comparable with tshark's."""
    rows = []
    result = run(data)
    summaries = result["summaries"]
    for record in result["frames"]:
        summary = summaries[record.connection]
        port = int(summary[record.sender].rsplit(":", 1)[1])
        header = record.view.header
        masked = bool(header[1] & 0x80)
        rows.append((record.where.packet, port, record.view.frame.fin, (header[0] >> 4) & 7,
                     header[0] & 0x0F, masked, record.view.length,
                     header[-4:].hex() if masked else "", record.view.frame.payload.hex()))
    return sorted(rows)


def tshark_rows(path: Path) -> list[FrameRow]:
    """Wireshark's WebSocket dissector on the same file (tshark -T json).

    tcp.try_heuristic_first: a client's ephemeral port can be one that
    Wireshark has registered for another protocol (44818, EtherNet/IP, came up
    in 1 of 72 runs here), and tshark gives a connection to the lower port's
    registered dissector before its heuristics; that dissector then took the
    whole connection, handshake included, and tshark showed none of its
    WebSocket frames. HTTP's heuristic recognises the handshake whatever the
    ports are.
    """
    assert TSHARK is not None
    done = subprocess.run([TSHARK, "-r", str(path), "-o", "tcp.try_heuristic_first:TRUE",
                           "-Y", "websocket", "-T", "json", "-x", "--no-duplicate-keys"],
                          capture_output=True, text=True, check=True)
    rows = []
    for packet in json.loads(done.stdout or "[]"):
        layers = packet["_source"]["layers"]
        number = int(_one(layers["frame"])["frame.number"])
        port = int(_one(layers["tcp"])["tcp.srcport"])
        frames = layers["websocket"]
        for ws in frames if isinstance(frames, list) else [frames]:
            length = int(ws.get("websocket.payload_length_ext_64")
                         or ws.get("websocket.payload_length_ext_16")
                         or ws["websocket.payload_length"])
            masked = ws["websocket.mask"] in ("1", "True")
            rows.append((number, port, ws["websocket.fin"] in ("1", "True"),
                         int(ws["websocket.rsv"], 16), int(ws["websocket.opcode"]), masked,
                         length, ws.get("websocket.masking_key", "").replace(":", ""),
                         # (wsframe keeps the first CAPTURE_KEEP bytes of a payload)
                         _raw(ws.get("websocket.payload_raw"))[:2 * CAPTURE_KEEP]))
    return sorted(rows)


def _one(layer: Any) -> dict[str, Any]:
    return layer[0] if isinstance(layer, list) else layer


def _raw(field: Any) -> str:
    if not field:
        return ""
    if isinstance(field[0], list):        # several pieces
        return "".join(piece[0] for piece in field)
    return str(field[0])


# -- writing and rewriting captures -------------------------------------------------------------

def packets_of(data: bytes) -> list[Packet]:
    """Every packet of capture bytes."""
    return list(read_packets(io.BytesIO(data)))


def pcap(packets: list[bytes], linktype: int = 1) -> bytes:
    """A pcap file (microseconds, little-endian) holding ``packets``."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for number, data in enumerate(packets):
        out.append(struct.pack("<IIII", 1_700_000_000, number, len(data), len(data)) + data)
    return b"".join(out)


def ip_of(ethernet: bytes) -> bytes:
    """The IP packet inside an Ethernet frame."""
    return ethernet[14:]


def tcp_parts(ethernet: bytes) -> tuple[int, int, int]:
    """(offset of the TCP header, offset of the payload, IP total length) in an
    Ethernet/IPv4 frame."""
    ip_header = (ethernet[14] & 0x0F) * 4
    tcp = 14 + ip_header
    payload = tcp + (ethernet[tcp + 12] >> 4) * 4
    return tcp, payload, int.from_bytes(ethernet[16:18], "big")


def payload_of(ethernet: bytes) -> bytes:
    """The TCP payload of an Ethernet/IPv4 frame."""
    _tcp, payload, _total = tcp_parts(ethernet)
    return ethernet[payload:]


def with_port(ethernet: bytes, old: int, new: int) -> bytes:
    """The same Ethernet/IPv4 segment with TCP port ``old`` (source or
    destination) renamed ``new`` (checksums are not recomputed: nothing here
    checks them)."""
    tcp, _payload, _total = tcp_parts(ethernet)
    out = bytearray(ethernet)
    for at in (tcp, tcp + 2):
        if int.from_bytes(out[at:at + 2], "big") == old:
            out[at:at + 2] = new.to_bytes(2, "big")
    return bytes(out)


def with_payload(ethernet: bytes, start: int, end: int) -> bytes:
    """The same segment carrying only payload bytes [start:end) (seq and the IP
    length adjusted; checksums are not recomputed: nothing here checks them)."""
    tcp, payload, _total = tcp_parts(ethernet)
    seq = int.from_bytes(ethernet[tcp + 4:tcp + 8], "big")
    body = ethernet[payload + start:payload + end]
    header = bytearray(ethernet[:payload])
    header[tcp + 4:tcp + 8] = ((seq + start) % 2**32).to_bytes(4, "big")
    header[16:18] = (payload - 14 + len(body)).to_bytes(2, "big")
    return bytes(header) + body


def compared_with_tshark(data: bytes, path: Path) -> tuple[list[FrameRow], list[FrameRow]]:
    """wsframe's and tshark's frames of the capture at ``path`` (holding ``data``).

    The one explained difference (docs/captures.md): at a violation wsframe
    stops reading that direction, as its receiver must (RFC 6455 7.1.7), and
    tshark goes on showing frames. tshark's frames of that direction from
    there on that wsframe did not show are checked apart (the first must be
    the frame wsframe flagged) and left out of the comparison.
    """
    ours = wsframe_rows(data)
    theirs = tshark_rows(path)
    shown = set(ours)
    result = run(data)
    for violation in result["violations"]:
        summary = result["summaries"][violation.connection]
        port = int(summary[violation.sender].rsplit(":", 1)[1])
        after = [row for row in theirs if row[1] == port and row[0] >= violation.where.packet
                 and row not in shown]
        header = violation.verdict.error_header
        assert after, f"tshark does not show the frame wsframe flagged: {violation}"
        assert (after[0][2], after[0][3], after[0][4], after[0][5]) == (
            bool(header[0] & 0x80), (header[0] >> 4) & 7, header[0] & 0x0F,
            bool(header[1] & 0x80)), (after[0], header.hex())
        theirs = [row for row in theirs if row not in after]
    return ours, theirs


# -- pcapng ---------------------------------------------------------------------------------------

def block(block_type: int, body: bytes, *, order: str = "<", length: int | None = None) -> bytes:
    """A pcapng block: type, length, ``body`` padded to 4 bytes, length again
    (``length``: a lie to write instead of the real one)."""
    body += bytes(-len(body) % 4)
    size = 12 + len(body) if length is None else length
    return struct.pack(order + "II", block_type, size) + body + struct.pack(order + "I", size)


def shb(order: str = "<") -> bytes:
    """A pcapng Section Header Block (version 1.0, section length unknown)."""
    return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order=order)


def idb(linktype: int = 1, order: str = "<") -> bytes:
    """An Interface Description Block (snap length 262144, no options)."""
    return block(1, struct.pack(order + "HHI", linktype, 0, 262144), order=order)


def epb(data: bytes, interface: int = 0, order: str = "<") -> bytes:
    """An Enhanced Packet Block holding ``data`` (time 0)."""
    return block(6, struct.pack(order + "IIIII", interface, 0, 0, len(data), len(data)) + data,
                 order=order)


def pcapng(packets: list[bytes], linktype: int = 1, order: str = "<") -> bytes:
    """A pcapng file: one section, one interface, ``packets`` in Enhanced Packet Blocks."""
    return shb(order) + idb(linktype, order) + b"".join(epb(p, order=order) for p in packets)


# -- crafting connections ------------------------------------------------------------------------

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


def tcp_packet(src: tuple[str, int], dst: tuple[str, int], seq: int, flags: int = ACK,
               payload: bytes = b"", ack: int = 0) -> bytes:
    """An Ethernet/IPv4/TCP frame (checksums zero: nothing here checks them)."""
    tcp = struct.pack(">HHIIBBHHH", src[1], dst[1], seq % 2**32, ack % 2**32, 5 << 4, flags,
                      65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6,
                     0, bytes(int(x) for x in src[0].split(".")),
                     bytes(int(x) for x in dst[0].split(".")))
    return bytes(6) + bytes(6) + b"\x08\x00" + ip + tcp + payload


class Conversation:
    """The packets of one TCP connection, written as its two sides talk."""

    def __init__(self, client: tuple[str, int] = ("10.0.0.1", 40000),
                 server: tuple[str, int] = ("10.0.0.2", 80), *, syn: bool = True) -> None:
        self.ends = {"client": client, "server": server}
        self.seq = {"client": 1000, "server": 5000}
        self.packets: list[bytes] = []
        if syn:
            self.packets.append(tcp_packet(client, server, 999, SYN))
            self.packets.append(tcp_packet(server, client, 4999, SYN | ACK, ack=1000))

    def send(self, side: str, data: bytes, flags: int = ACK) -> None:
        """``side`` sends ``data``, in segments of at most 1,460 bytes."""
        other = "server" if side == "client" else "client"
        for at in range(0, max(len(data), 1), 1460):
            piece = data[at:at + 1460]
            last = at + 1460 >= len(data)
            bits = flags if last else flags & ~FIN
            self.packets.append(tcp_packet(self.ends[side], self.ends[other], self.seq[side],
                                           bits, piece))
            self.seq[side] += len(piece) + (1 if bits & FIN else 0)

    def close(self) -> None:
        """FIN both ways."""
        self.send("client", b"", ACK | FIN)
        self.send("server", b"", ACK | FIN)


def deflate_bomb(messages: int = 16, size: int = 16 * 2**20, fragments: int = 4, *,
                 text: bool = False) -> bytes:
    """A capture of one WebSocket connection with permessage-deflate where the
    client sends ``messages`` messages of ``size`` zero bytes each, compressed
    (about 1,000:1), each in ``fragments`` frames (``text``: text messages):
    little traffic that inflates to a lot (what a tool must not keep whole)."""
    accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    talk = Conversation()
    talk.send("client", b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    talk.send("server", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode()
              + b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    for _ in range(messages):
        body = compressor.compress(bytes(size)) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert body.endswith(b"\x00\x00\xff\xff")
        body = body[:-4]
        step = -(-len(body) // fragments)
        pieces = [body[i:i + step] for i in range(0, len(body), step)]
        for i, piece in enumerate(pieces):
            first = Opcode.TEXT if text else Opcode.BINARY
            frame = build_frame(first if i == 0 else Opcode.CONTINUATION, piece,
                                fin=i == len(pieces) - 1, rsv1=i == 0, mask=b"abcd",
                                validate=False)
            talk.send("client", frame)
    talk.send("client", build_frame(Opcode.CLOSE, b"\x03\xe8", mask=b"abcd"))
    talk.send("server", build_frame(Opcode.CLOSE, b"\x03\xe8"))
    talk.close()
    return pcap(talk.packets)
