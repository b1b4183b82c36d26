"""The capture reader (wsframe.tools: pcap/pcapng, TCP reassembly, the
session that follows the handshake, the dissector, the report): the oracle
of fuzz/fuzz_capture.py.

Input: a control byte, then either a whole capture file or the pieces of
one TCP connection that the harness wraps into a pcap file itself (so that
the fuzzer reaches the HTTP Upgrade and the frames without first having to
learn checksums of nothing and sequence numbers):

    control bit 0     0 = the rest is a capture file, as `wsframe dissect` reads it;
                      1 = a connection: cut points, a byte of directions (one
                      bit per piece: 0 = client to server), a byte of TCP
                      flags (SYN first, FINs, RST at the end, two pieces
                      swapped, a piece lost), then the bytes both sides sent
    control bit 1     max_message_size 4096, else the CLI's default
    control bit 2     the report as JSON, else text
    control bit 3     the report verbose (the RFC 6455 5.2 diagram per frame)
    control bit 4     assume permessage-deflate when the handshake is not seen

Checks: only `CaptureError` (the damaged-file error the CLI turns into one
line and exit status 2) leaves `dissect_capture` or the report; memory stays
within a budget proportional to the input (plus a constant), whatever the
bytes declare or inflate to.
"""

from __future__ import annotations

import io
import struct

from contract import Input, MiB, check_memory, only, peak_memory, pieces

from wsframe.dissect import CAPTURE_MAX_MESSAGE_SIZE
from wsframe.extensions.permessage_deflate import DeflateParams
from wsframe.tools.capture import CaptureReport, CaptureStats, dissect_capture
from wsframe.tools.pcap import CaptureError

CLIENT = (b"\x0a\x00\x00\x01", 50000)
SERVER = (b"\x0a\x00\x00\x02", 80)
SYN, FIN, RST, ACK, PSH = 0x02, 0x01, 0x04, 0x10, 0x08
LINKTYPE_RAW = 101


def pcap(packets: list[bytes], linktype: int = LINKTYPE_RAW) -> bytes:
    """A pcap file (little-endian, microseconds) holding ``packets``."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for number, packet in enumerate(packets):
        out.append(struct.pack("<IIII", 1_700_000_000, number, len(packet), len(packet)))
        out.append(packet)
    return b"".join(out)


def tcp_packet(source: tuple[bytes, int], target: tuple[bytes, int], seq: int, ack: int,
               flags: int, payload: bytes = b"") -> bytes:
    """An IPv4 packet carrying one TCP segment (checksums left at zero)."""
    tcp = struct.pack(">HHIIBBHHH", source[1], target[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, source[0], target[0])
    return ip + tcp + payload


def connection(data: list[bytes], directions: int, flags: int) -> bytes:
    """One TCP connection as a pcap file: ``data[i]`` sent by the client if bit
    i of ``directions`` is 0, else by the server; ``flags`` as in the module
    documentation."""
    seq = {0: 1000, 1: 9000}
    ends = {0: (CLIENT, SERVER), 1: (SERVER, CLIENT)}
    packets = []
    if flags & 1:
        packets.append(tcp_packet(CLIENT, SERVER, seq[0] - 1, 0, SYN))
        packets.append(tcp_packet(SERVER, CLIENT, seq[1] - 1, seq[0], SYN | ACK))
    segments = []
    for number, piece in enumerate(data):
        side = (directions >> (number % 8)) & 1
        source, target = ends[side]
        segments.append(tcp_packet(source, target, seq[side], seq[1 - side], ACK | PSH, piece))
        seq[side] += len(piece)
    if flags & 8 and len(segments) > 1:           # two pieces arrive out of order
        segments[0], segments[1] = segments[1], segments[0]
    if flags & 16 and len(segments) > 2:          # a piece is lost (a gap)
        del segments[1]
    packets += segments
    if flags & 2:
        for side in (0, 1):
            source, target = ends[side]
            packets.append(tcp_packet(source, target, seq[side], seq[1 - side], FIN | ACK))
    if flags & 4:
        packets.append(tcp_packet(CLIENT, SERVER, seq[0], 0, RST))
    return pcap(packets)


def check(data: bytes) -> None:
    """Raise AssertionError (or the escaped exception) if ``data`` breaks a property."""
    source = Input(data)
    control = source.byte()
    if control & 1:
        cuts = source.cuts()
        directions, flags = source.byte(), source.byte()
        capture = connection(pieces(source.rest(), cuts), directions, flags)
    else:
        capture = source.rest()
    limit = 4096 if control & 2 else None
    deflate = DeflateParams() if control & 16 else None

    def run() -> None:
        _dissect(capture, limit, deflate, json_output=bool(control & 4),
                 verbose=bool(control & 8))

    _, peak = peak_memory(run)
    check_memory(peak, 128 * len(capture) + 8 * MiB, "dissect_capture")


def _dissect(capture: bytes, limit: int | None, deflate: DeflateParams | None, *,
             json_output: bool, verbose: bool) -> None:
    out = io.StringIO()
    stats = CaptureStats()
    report = CaptureReport(out, json_output=json_output, verbose=verbose)
    with only((CaptureError,), "dissect_capture / CaptureReport"):
        try:
            for record in dissect_capture(io.BytesIO(capture), deflate=deflate, stats=stats,
                                          max_message_size=limit or CAPTURE_MAX_MESSAGE_SIZE):
                report.record(record)
        except CaptureError:
            pass
        report.end(stats)
