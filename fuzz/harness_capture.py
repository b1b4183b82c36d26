"""The capture reader (wsframe.tools: pcap/pcapng, TCP reassembly, the
session that follows the handshake, the dissector, the report): the oracle
of fuzz/fuzz_capture.py.

Input: a control byte, then either a whole capture file or the pieces of
one TCP connection that the harness wraps into a pcap file itself (so that
the fuzzer reaches the HTTP Upgrade and the frames without first having to
learn pcap records and sequence numbers):

    control bit 0     0 = the rest is a capture file, as `wsframe dissect` reads it;
                      1 = a connection: cut points, a byte of directions (one
                      bit per piece: 0 = client to server), a byte of TCP
                      flags (SYN first, FINs, RST at the end, two pieces
                      swapped, a piece lost), a byte of re-cut size (bit 6),
                      then the bytes both sides sent
    control bit 1     max_message_size 4096, else the CLI's default
    control bit 2     the report as JSON, else text
    control bit 3     the report verbose (the RFC 6455 5.2 diagram per frame)
    control bit 4     assume permessage-deflate when the handshake is not seen
    control bit 5     the rest is not a capture: cut points, then a raw
                      WebSocket stream as `wsframe dissect file.bin` reads it
                      (`Dissector`; bit 6: as the server reads it, bit 7:
                      keep 64 bytes of each payload), compared whole and cut
    control bit 6     (a connection) also dissect the same bytes in other TCP
                      segments (each piece re-cut into segments of 1-16
                      bytes, the byte read after the flags) and compare

Checks: only `CaptureError` (the damaged-file error the CLI turns into one
line and exit status 2) leaves `dissect_capture` or the report, nothing
leaves the raw `Dissector`; memory stays within a budget proportional to the
input (plus a constant), whatever the bytes declare or inflate to; the raw
dissection (frames, their text, the verdict) does not depend on the cuts;
the same connection in other TCP segments gives the same report, packet
numbers and times aside.
"""

from __future__ import annotations

import io
import json
import re
import struct
from typing import Any

from contract import Input, MiB, check_memory, only, peak_memory, pieces

from wsframe import Role
from wsframe.dissect import CAPTURE_MAX_MESSAGE_SIZE, Dissector
from wsframe.extensions.permessage_deflate import DeflateParams, PerMessageDeflate
from wsframe.render import frame_json, render_frame, render_verdict, verdict_json
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


def connection(data: list[bytes], sides: list[int], flags: int) -> bytes:
    """One TCP connection as a pcap file: ``data[i]`` sent by the client if
    ``sides[i]`` is 0, else by the server; ``flags`` as in the module
    documentation."""
    seq = {0: 1000, 1: 9000}
    ends = {0: (CLIENT, SERVER), 1: (SERVER, CLIENT)}
    packets = []
    if flags & 1:
        packets.append(tcp_packet(CLIENT, SERVER, seq[0] - 1, 0, SYN))
        packets.append(tcp_packet(SERVER, CLIENT, seq[1] - 1, seq[0], SYN | ACK))
    segments = []
    for piece, side in zip(data, sides, strict=True):
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
    if control & 32:
        _check_raw(control, source.cuts(), source.rest())
        return
    limit = 4096 if control & 2 else None
    deflate = DeflateParams() if control & 16 else None
    if control & 1:
        cuts = source.cuts()
        directions, flags = source.byte(), source.byte()
        size = 1 + source.byte() % 16
        parts = pieces(source.rest(), cuts)
        sides = [(directions >> (number % 8)) & 1 for number in range(len(parts))]
        capture = connection(parts, sides, flags)
        if control & 64 and not flags & 0x18:
            _check_segmentation(parts, sides, flags, size, limit, deflate)
    else:
        capture = source.rest()

    def run() -> None:
        _dissect(capture, limit, deflate, json_output=bool(control & 4),
                 verbose=bool(control & 8))

    _, peak = peak_memory(run)
    check_memory(peak, 128 * len(capture) + 8 * MiB, "dissect_capture")


def _check_segmentation(parts: list[bytes], sides: list[int], flags: int, size: int,
                        limit: int | None, deflate: DeflateParams | None) -> None:
    """The same bytes in other TCP segments (each piece re-cut into segments
    of ``size`` bytes, same directions) dissect to the same report, but for
    packet numbers and times."""
    segments: list[bytes] = []
    segment_sides: list[int] = []
    for part, side in zip(parts, sides, strict=True):
        for at in range(0, len(part), size) if part else [0]:
            segments.append(part[at:at + size])
            segment_sides.append(side)
    first = _report(connection(parts, sides, flags), limit, deflate)
    second = _report(connection(segments, segment_sides, flags), limit, deflate)
    assert first == second, f"segmentation changes the dissection: {first!r} != {second!r}"


_PLACE = re.compile(r"\b(packets?|pkt) \d+")


def _report(capture: bytes, limit: int | None, deflate: DeflateParams | None) -> Any:
    out = io.StringIO()
    _dissect(capture, limit, deflate, json_output=True, verbose=False, out=out)
    return _without_places(json.loads(out.getvalue()))


#: What `_without_places` leaves out: where things were in the capture.
_PLACES = ("packet", "packet_byte", "time", "packets", "tcp_segments")


def _without_places(value: Any) -> Any:
    """The report without packet numbers, times and packet counts."""
    if isinstance(value, dict):
        return {key: _without_places(item) for key, item in value.items()
                if key not in _PLACES}
    if isinstance(value, list):
        return [_without_places(item) for item in value]
    if isinstance(value, str):
        return _PLACE.sub(r"\1 N", value)
    return value


def _dissect(capture: bytes, limit: int | None, deflate: DeflateParams | None, *,
             json_output: bool, verbose: bool, out: io.StringIO | None = None) -> None:
    out = out if out is not None else io.StringIO()
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


def _raw(data: list[bytes], role: Role, deflate: bool, keep: int | None) -> tuple[Any, ...]:
    """`wsframe dissect file.bin`'s dissection of the pieces: every frame as
    JSON and as text, then the verdict."""
    extensions = [PerMessageDeflate(role, DeflateParams())] if deflate else []
    dissector = Dissector(role, extensions=extensions, keep=keep)
    frames: list[Any] = []
    with only((), "Dissector"):
        for piece in data:
            for view in dissector.feed(piece):
                frames.append((frame_json(view), render_frame(view, role)))
        verdict = dissector.finish()
        if verdict.error is not None:
            # Reading stops at the read that broke a rule (wsframe dissect stops
            # too), so "bytes read" and the broken frame's header as far as it
            # was read follow the reads, not the stream: left out.
            verdict.length = 0
            verdict.error_header = b""
        return frames, verdict_json(verdict), render_verdict(verdict)


def _check_raw(control: int, cuts: list[int], stream: bytes) -> None:
    """A raw WebSocket stream as `wsframe dissect` reads a file: nothing
    escapes; the same frames and verdict whole and in pieces; memory bounded."""
    role = Role.SERVER if control & 64 else Role.CLIENT
    keep = 64 if control & 128 else None
    whole, peak = peak_memory(lambda: _raw([stream], role, bool(control & 16), keep))
    check_memory(peak, 128 * len(stream) + 8 * MiB, "Dissector")
    split = _raw(pieces(stream, cuts), role, bool(control & 16), keep)
    assert whole == split, f"Dissector split invariance: {whole!r} != {split!r}"
