"""Capture dissection against forged and damaged files (issue 21): every
damage is one line on stderr naming the file, the block and its byte offset,
exit status 2 (never a traceback, never the status 1 that means "violation
found"); the reassembly stays n log n; memory stays within the documented caps."""

from __future__ import annotations

import io
import json
import random
import re
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from capture_tools import (
    ACK,
    SAMPLES,
    SYN,
    Conversation,
    block,
    deflate_bomb,
    epb,
    idb,
    packets_of,
    pcap,
    pcapng,
    run,
    shb,
    tcp_packet,
)

from wsframe import Opcode, build_frame
from wsframe.cli import main
from wsframe.dissect import CAPTURE_KEEP, frame_json, render_frame_line
from wsframe.tools.capture import CaptureStats, SummaryRecord, dissect_capture
from wsframe.tools.pcap import CaptureError, Packet, Segment, decode, read_packets
from wsframe.tools.session import FrameRecord, Session
from wsframe.tools.tcp import DEFAULT_MAX_PENDING, SEGMENT_COST, TcpConnections

DEFLATE = (SAMPLES / "capture-deflate.pcap").read_bytes()
PACKETS = [p.data for p in packets_of(DEFLATE)]


def _epb_header(captured: int) -> bytes:
    return struct.pack("<IIIII", 0, 0, 0, captured, captured)


DAMAGED = {
    "shb-length-12": (struct.pack("<II", 0x0A0D0D0A, 12) + b"\x4d\x3c\x2b\x1a",
                      "the Section Header Block at byte 0 has a bad length: 12 (a multiple of "
                      "4, at least 28)"),
    "shb-bad-byte-order": (struct.pack("<II", 0x0A0D0D0A, 28) + b"\x01\x02\x03\x04",
                           "the Section Header Block at byte 0 has a bad byte-order magic "
                           "(01 02 03 04)"),
    "idb-short": (shb() + block(1, b""),
                  "the Interface Description Block at byte 28 has a bad length: 12 (a multiple "
                  "of 4, at least 20)"),
    "epb-short": (shb() + idb() + block(6, bytes(8)),
                  "the Enhanced Packet Block at byte 48 has a bad length: 20 (a multiple of 4, "
                  "at least 32)"),
    "spb-short": (shb() + idb() + block(3, b""),
                  "the Simple Packet Block at byte 48 has a bad length: 12 (a multiple of 4, "
                  "at least 16)"),
    "pb-short": (shb() + idb() + block(2, bytes(4)),
                 "the Packet Block at byte 48 has a bad length: 16 (a multiple of 4, at least "
                 "32)"),
    "zero-length-block": (shb() + idb() + struct.pack("<II", 6, 0),
                          "the Enhanced Packet Block at byte 48 has a bad length: 0 (a multiple "
                          "of 4, at least 32)"),
    "epb-captured-lies": (shb() + idb() + block(6, _epb_header(1000) + b"ab"),
                          "the Enhanced Packet Block at byte 48 claims 1,000 captured bytes; "
                          "the block holds 4"),
    "epb-huge": (shb() + idb() + struct.pack("<II", 6, 0xFFFFFFF0),
                 "the Enhanced Packet Block at byte 48 claims 4,294,967,280 bytes, more than a "
                 "packet block can have (327,724)"),
    "big-endian-length-read-as-little": (
        shb(">") + idb(order=">") + struct.pack("<II", 6, 64) + bytes(60),
        "the file ends inside the block of type 0x6000000 at byte 48 (1,073,741,752 bytes "
        "short)"),
    "trailer-disagrees": (pcapng(PACKETS[:1])[:-4] + struct.pack("<I", 7),
                          "the Enhanced Packet Block at byte 48: its trailing length 7 differs "
                          "from its leading length 108"),
    "cut-in-a-block": (pcapng(PACKETS[:3])[:-3],
                       "the file ends inside the Enhanced Packet Block at byte 264 (3 bytes "
                       "short)"),
    "unknown-interface": (shb() + idb() + epb(b"x", interface=3),
                          "the Enhanced Packet Block at byte 48 refers to interface 3, which "
                          "was not described"),
    "pcap-global-header-cut": (pcap(PACKETS[:1])[:10],
                               "the file ends inside the pcap file header at byte 0 (14 bytes "
                               "short)"),
    "pcap-record-header-cut": (pcap(PACKETS[:1])[:30],
                               "the file ends inside the record of packet 1 at byte 24 (10 "
                               "bytes short)"),
    "pcap-huge-incl-len": (pcap([])[:24] + struct.pack("<IIII", 0, 0, 0xFFFFFFFF, 10),
                           "the record of packet 1 at byte 24 claims 4,294,967,295 captured "
                           "bytes, more than a packet can have (262,144)"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damage_is_one_line_naming_file_block_and_offset(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, message = DAMAGED[name]
    path = tmp_path / f"{name}.pcapng"
    path.write_bytes(data)
    assert main(["dissect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"wsframe: error: {path}: {message}\n"
    with pytest.raises(CaptureError) as caught:
        list(read_packets(io.BytesIO(data)))
    assert str(caught.value) == message


def test_a_big_block_of_another_type_is_skipped_in_pieces() -> None:
    data = shb() + idb() + block(0x99, bytes(300_000)) + epb(PACKETS[0])
    (packet,) = read_packets(io.BytesIO(data))
    assert packet.data == PACKETS[0] and packet.number == 1


def test_a_big_endian_section_reads_as_the_little_endian_one() -> None:
    assert [p.data for p in read_packets(io.BytesIO(pcapng(PACKETS, order=">")))] == PACKETS


def _forged(offset: int, value: int) -> bytes:
    packet = bytearray(tcp_packet(("10.0.0.1", 1), ("10.0.0.2", 2), 0, ACK, b"payload"))
    packet[offset] = value
    return bytes(packet)


@pytest.mark.parametrize(("offset", "value"), [
    (14, 0x44),           # IPv4 header length 16 (< 20, RFC 791)
    (14, 0x40),           # IPv4 header length 0
    (16 + 1, 10),         # IPv4 total length 10, shorter than its header
    (14 + 20 + 12, 0x40),  # TCP data offset 4 (< 5, RFC 9293 3.1)
    (14 + 20 + 12, 0xF0),  # TCP data offset 15: past the segment's end
], ids=["ihl-4", "ihl-0", "total-short", "tcp-offset-4", "tcp-offset-past-end"])
def test_forged_ip_and_tcp_headers_are_not_segments(offset: int, value: int) -> None:
    stats = CaptureStats()
    assert list(dissect_capture(io.BytesIO(pcap([_forged(offset, value)])), stats=stats)) == []
    assert (stats.packets, stats.tcp_segments) == (1, 0)


# -- TCP reassembly: n log n, bounded ----------------------------------------------------------

def _one_byte_segments(count: int) -> list[Segment]:
    """A SYN, then ``count`` one-byte segments of one direction, the first held
    back to the end and the others in reverse order: all wait until the last."""
    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 80)
    packets = [tcp_packet(client, server, 1000 + i, ACK, bytes([i & 0xFF]))
               for i in range(count)]
    order = [tcp_packet(client, server, 999, SYN), *reversed(packets[1:]), packets[0]]
    segments = [decode(Packet(n, 0.0, 1, data, len(data))) for n, data in enumerate(order, 1)]
    assert all(s is not None for s in segments)
    return segments  # type: ignore[return-value]


def _reassemble(segments: list[Segment]) -> tuple[float, bytes]:
    connections = TcpConnections(max_pending=2**40, max_total_pending=None)
    out = []
    started = time.process_time()
    for segment in segments:
        _connection, chunks, _new = connections.add(segment)
        out += [chunk.data for chunk in chunks]
    return time.process_time() - started, b"".join(out)


def test_out_of_order_reassembly_is_not_quadratic() -> None:
    """A complexity check, not a speed claim: 4x the segments may cost 8x the
    time at most (n log n gives about 4.5x; the quadratic reader took 16x:
    0.6 s for 10,000, 9.9 s for 40,000). Each size's best of three runs: one
    run's pause (a garbage collection, the host) once made 9.5x of it."""
    small, large = _one_byte_segments(10_000), _one_byte_segments(40_000)
    _reassemble(small)                                  # warm up
    small_runs = [_reassemble(small) for _ in range(3)]
    large_runs = [_reassemble(large) for _ in range(3)]
    small_time, small_data = min(small_runs)
    large_time, large_data = min(large_runs)
    assert small_data == bytes(i & 0xFF for i in range(10_000))
    assert large_data == bytes(i & 0xFF for i in range(40_000))
    assert large_time < 8 * max(small_time, 0.01), (small_time, large_time)


def test_held_segments_count_what_they_cost() -> None:
    """One-byte segments cost their packet and ~640 bytes of objects each: the
    4 MiB out-of-order buffer fills after ~6,000 of them, not 4 million."""
    connections = TcpConnections()
    syn, *segments = _one_byte_segments(8_000)
    connection, _chunks, _new = connections.add(syn)
    assert connection is not None
    stream = connection.from_a
    count = 0
    while stream.gap is None:
        segment = segments[count]
        assert connections.add(segment)[1] == []
        count += 1
    per_segment = len(segment.packet.data) + 1 + SEGMENT_COST
    assert count == DEFAULT_MAX_PENDING // per_segment + 1
    assert stream.gap.why == (f"{count:,} bytes in {count:,} segments arrived after "
                              "a hole the capture never filled")
    assert connections.budget.used == 0                # released


# -- connections that never complete -------------------------------------------------------------

def _syn_flood(count: int) -> bytes:
    return pcap([tcp_packet((f"10.1.{i >> 8 & 255}.{i & 255}", 1024 + i), ("10.2.0.1", 80),
                            0, SYN) for i in range(count)])


def test_connections_over_the_cap_are_dropped_and_counted() -> None:
    stats = CaptureStats()
    records = list(dissect_capture(io.BytesIO(_syn_flood(300)), stats=stats,
                                   max_connections=100))
    summaries = [r.summary for r in records if isinstance(r, SummaryRecord)]
    assert len(summaries) == len(records)
    assert (stats.connections, stats.dropped_connections) == (300, 200)
    assert [s["connection"] for s in summaries] == list(range(1, 301))
    assert summaries[0]["tcp_end"] == ("dropped: more than 100 connections open at once (this "
                                       "one was the least recently active)")
    assert summaries[-1]["tcp_end"] == "still open when the capture ends"


def test_the_totals_say_what_was_dropped(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "flood.pcap"
    path.write_bytes(_syn_flood(30))
    assert main(["dissect", "--max-connections", "10", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("TCP dropped: more than 10 connections open at once") == 20
    assert out.endswith("\n30 packets, 30 TCP segments, 30 TCP connections (0 WebSocket); no "
                        "violation.\n20 connections dropped before they ended: more than 10 "
                        "were open at once (the least recently active go first; see "
                        "--max-connections).\n")
    assert main(["dissect", "--json", "--max-connections", "10", str(path)]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals == {"packets": 30, "tcp_segments": 30, "connections": 30,
                      "websocket_connections": 0, "dropped_connections": 20,
                      "unknown_link_types": {}, "violations": 0}


def test_a_syn_flood_takes_bounded_memory() -> None:
    """20,000 connections that never complete, 500 followed at once: the peak
    of Python allocations is that of about 500 connections, plus the 4,096
    ended ones remembered (under 8 MiB; the capture read
    in-process took 90 MB per 20,000 connections before the cap: ~4.5 KB each)."""
    data = _syn_flood(20_000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in dissect_capture(io.BytesIO(data), max_connections=500))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 8 * 2**20, peak


# -- hostile handshakes ----------------------------------------------------------------------

UPGRADE = ("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
ACCEPTED = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


def test_a_non_ascii_key_is_an_invalid_handshake_and_the_dissection_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    talk = Conversation()
    talk.send("client", UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQé=").encode("latin-1"))
    talk.send("server", ACCEPTED)
    talk.send("client", build_frame(Opcode.TEXT, b"hi", mask=b"abcd"))
    talk.send("server", build_frame(Opcode.TEXT, b"hi"))
    talk.close()
    result = run(pcap(talk.packets))
    (summary,) = result["summaries"].values()
    assert summary["kind"] == "websocket" and summary["handshake_error"]
    assert (1, f"10.0.0.2:80 accepts: 101 Switching Protocols, no extension; the handshake "
            f"is invalid: {summary['handshake_error']}") in result["notes"]
    assert [r.view.frame.payload for r in result["frames"]] == [b"hi", b"hi"]
    path = tmp_path / "key.pcap"
    path.write_bytes(pcap(talk.packets))
    assert main(["dissect", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"  handshake invalid: {summary['handshake_error']}\n" in out


# -- what inflates: a prefix is kept, the rest counted -----------------------------------------

@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_a_deflate_bomb_is_shown_as_a_prefix_and_counted(text: bool) -> None:
    """4 messages of 32 MiB (zeros, ~1,000:1), each in 4 fragments: 130 KB of
    traffic. Was: each message inflated whole and kept (a 371 KB capture
    peaked at 465 MB). Now the peak of Python allocations stays under 4 MiB:
    64 KiB kept per frame and per message, inflated 1 KiB of input at a time."""
    data = deflate_bomb(4, 32 * 2**20, text=text)
    tracemalloc.start()
    try:
        records = list(dissect_capture(io.BytesIO(data)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, peak
    shown = [r.view for r in records if isinstance(r, FrameRecord) and r.view.message]
    assert len(shown) == 4
    for view in shown:
        assert view.message_size == 32 * 2**20
        kept = view.message.text.encode() if text else view.message.data  # type: ignore[union-attr]
        assert kept == bytes(CAPTURE_KEEP)
        assert frame_json(view)["message"]["size"] == 32 * 2**20
        assert frame_json(view)["message"]["kept"] == CAPTURE_KEEP
        assert render_frame_line(view).endswith(
            f" -> inflated: {'' if text else '00 ' * 23 + '00 ... '}"
            + ("'" + "\\x00" * 48 + "'... " if text else "") + "(33,554,432 bytes)]")
    last = records[-1]
    assert isinstance(last, SummaryRecord)
    summary = last.summary
    assert summary["directions"]["client_to_server"]["messages"] == 4
    assert summary["directions"]["client_to_server"]["violation"] is None


def test_a_large_frame_keeps_its_start_and_counts_its_length() -> None:
    talk = Conversation()
    talk.send("client", UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQ==").encode())
    talk.send("server", ACCEPTED)
    payload = bytes(range(256)) * 1024                   # 256 KiB
    talk.send("server", build_frame(Opcode.BINARY, payload))
    talk.close()
    result = run(pcap(talk.packets))
    (record,) = result["frames"]
    view = record.view
    assert (view.length, view.truncated, view.frame.payload) == (
        len(payload), True, payload[:CAPTURE_KEEP])
    entry = frame_json(view)
    assert (entry["payload_length"], entry["payload_kept"], entry["size"]) == (
        262144, CAPTURE_KEEP, 262144 + 10)
    summary = result["summaries"][1]
    assert summary["directions"]["server_to_client"]["payload_bytes"] == 262144


def test_the_command_line_stays_within_its_memory_cap(tmp_path: Path) -> None:
    """``wsframe dissect`` on a deflate bomb, in a child process: its peak RSS
    (resource.getrusage) is within 32 MiB of its peak on a small capture
    (before: +124 MB on 8 messages of 60 MiB in a 515 KB capture)."""
    bomb = tmp_path / "bomb.pcap"
    bomb.write_bytes(deflate_bomb(8, 60 * 2**20))
    small = tmp_path / "small.pcap"
    small.write_bytes(deflate_bomb(1, 1024))
    peaks = {}
    for path in (small, bomb):
        done = subprocess.run(
            [sys.executable, "-c", "import resource, sys\nfrom wsframe.cli import main\n"
             f"status = main(['dissect', {str(path)!r}])\n"
             "print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
            capture_output=True, text=True, check=True, timeout=120)
        status, peak = done.stdout.splitlines()[-1].split()
        assert status == "0", done.stdout
        peaks[path.name] = int(peak) * 1024
    assert peaks["bomb.pcap"] - peaks["small.pcap"] < 32 * 2**20, peaks


# -- input that cannot be read ------------------------------------------------------------

class _FailingAfter(io.BytesIO):
    """A file whose reads fail (EIO) past ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self.limit = limit

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.limit:
            raise OSError(5, "Input/output error")
        return super().read(size)


def test_a_read_error_is_a_capture_error_naming_the_block() -> None:
    data = pcapng(PACKETS[:3])
    with pytest.raises(CaptureError) as caught:
        list(read_packets(_FailingAfter(data, 56)))
    assert str(caught.value) == ("cannot read the Enhanced Packet Block at byte 48: "
                                 "Input/output error")


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="Linux only")
def test_an_unreadable_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dissect", "/proc/self/mem"]) == 2
    assert capsys.readouterr().err == ("wsframe: error: cannot read /proc/self/mem: "
                                       "Input/output error\n")


def test_an_unforeseen_error_stops_one_connection_not_the_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A safety net, not a path anything known takes: if following one
    connection ever fails, it gets a note, and the rest of the file is read."""
    def broken(self: Session, side: str, data: bytes, where: object) -> list[object]:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Session, "_dissect", broken)
    result = run(DEFLATE)
    (summary,) = result["summaries"].values()
    failed = [text for _, text in result["notes"] if "boom" in text]
    assert len(failed) == 1
    assert re.fullmatch(r"not followed any further: reading it failed in packet \d+ "
                        r"\(ZeroDivisionError: boom\)", failed[0])
    assert summary["tcp_end"] == "closed (FIN both ways)"


def test_packets_of_an_unknown_link_type_are_counted_and_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "user0.pcap"
    path.write_bytes(pcap([PACKETS[0], PACKETS[1]], linktype=147))
    assert main(["dissect", str(path)]) == 0
    assert capsys.readouterr().out.endswith(
        "\n2 packets, 0 TCP segments, 0 TCP connections (0 WebSocket); no violation.\n"
        "Not read: 2 packets of link type 147 (not a link type this reader knows: see "
        "docs/captures.md).\n")
    assert main(["dissect", "--json", str(path)]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["unknown_link_types"] == {"147": 2}


def _ipv6(next_header: int, extensions: bytes, tcp: bytes) -> bytes:
    body = extensions + tcp
    return (bytes(12) + b"\x86\xdd" + struct.pack(">IHBB", 6 << 28, len(body), next_header, 64)
            + bytes(15) + b"\x01" + bytes(15) + b"\x02" + body)


def test_ipv6_extension_headers_are_walked_and_bounded() -> None:
    tcp = tcp_packet(("10.0.0.1", 1), ("10.0.0.2", 2), 0, ACK, b"data")[34:]
    hop = bytes([0, 0]) + bytes(6)                  # hop-by-hop, next: hop-by-hop again
    chain = hop * 1000 + bytes([6, 0]) + bytes(6)   # 1,001 headers, then TCP
    (segment,) = [decode(p) for p in packets_of(pcap([_ipv6(0, chain, tcp)]))]
    assert segment is not None and segment.payload == b"data"
    assert segment.src == ("::1", 1) and segment.dst == ("::2", 2)
    # A chain that runs past the packet, and a header claiming more than there is:
    for forged in (_ipv6(0, hop * 10, b""), _ipv6(0, bytes([6, 255]) + bytes(6), tcp)):
        (packet,) = packets_of(pcap([forged]))
        assert decode(packet) is None


def test_connections_mid_message_stay_within_the_per_connection_cap() -> None:
    """20 connections open at once, each in the middle of a compressed message
    both ways (8 MiB, then a 1 MiB frame of it half sent): Python allocations
    peak under 600 KiB per connection (docs/captures.md: about 520 KiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(bytes(8 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    compressed = build_frame(Opcode.BINARY, body, fin=False, rsv1=True, mask=b"abcd",
                             validate=False)
    answer = build_frame(Opcode.BINARY, body, fin=False, rsv1=True, validate=False)
    # then a frame of the same message, half sent: 1 MiB of compressed noise
    more = compressor.compress(random.Random(1).randbytes(2**20))
    half_frame = build_frame(Opcode.CONTINUATION, more, fin=False, validate=False)[:2**19]
    half_masked = build_frame(Opcode.CONTINUATION, more, fin=False, mask=b"abcd",
                              validate=False)[:2**19]
    talks = []
    for number in range(20):
        talk = Conversation(("10.0.0.1", 40000 + number), ("10.0.0.2", 80))
        talk.send("client", UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQ==").encode()[:-2]
                  + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
        talk.send("server", ACCEPTED[:-2] + b"Sec-WebSocket-Extensions: permessage-deflate"
                  b"\r\n\r\n")
        talk.send("client", compressed)
        talk.send("server", answer)
        talk.send("client", half_masked)
        talk.send("server", half_frame)
        talks.append(talk)
    interleaved = [talk.packets[i] for i in range(max(len(t.packets) for t in talks))
                   for talk in talks if i < len(talk.packets)]
    data = pcap(interleaved)
    tracemalloc.start()
    try:
        summaries = [r.summary for r in dissect_capture(io.BytesIO(data))
                     if isinstance(r, SummaryRecord)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(summaries) == 20
    for summary in summaries:
        for direction in summary["directions"].values():
            assert (direction["violation"], direction["frames"]) == (None, 1)
            assert direction["pending_bytes"] > 2**18          # a frame in progress
    assert peak < 20 * 600 * 2**10, peak


def test_a_frame_header_cut_between_segments() -> None:
    talk = Conversation()
    talk.send("client", UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQ==").encode())
    talk.send("server", ACCEPTED)
    frame = build_frame(Opcode.TEXT, b"across segments", mask=b"abcd")
    talk.send("client", frame[:3])
    talk.send("client", frame[3:])
    talk.close()
    (record,) = run(pcap(talk.packets))["frames"]
    assert record.view.header == frame[:6]
    assert record.view.frame.payload == b"across segments"


@pytest.mark.parametrize("cut_at", [1, 3, 4, 5])
def test_a_request_line_cut_in_its_first_segment_is_still_http(cut_at: int) -> None:
    """Was: the kind of a connection was decided on each side's first segment
    alone: "GET" (or "G", "GET ") then the rest made it "not a WebSocket
    connection" (found by fuzz/harness_capture.py)."""
    request = UPGRADE.format(key="dGhlIHNhbXBsZSBub25jZQ==").encode()
    talk = Conversation()
    talk.send("client", request[:cut_at])
    talk.send("client", request[cut_at:])
    talk.send("server", ACCEPTED[:cut_at])
    talk.send("server", ACCEPTED[cut_at:])
    talk.send("client", build_frame(Opcode.TEXT, b"hi", mask=b"abcd"))
    talk.close()
    result = run(pcap(talk.packets))
    (summary,) = result["summaries"].values()
    assert (summary["kind"], summary["request"], summary["handshake_error"]) == (
        "websocket", "GET /chat", None)
    assert [r.view.frame.payload for r in result["frames"]] == [b"hi"]


def test_a_capture_starting_with_a_one_byte_segment_infers_the_roles() -> None:
    talk = Conversation(syn=False)
    frame = build_frame(Opcode.TEXT, b"mid-stream", mask=b"abcd")
    talk.send("client", frame[:1])
    talk.send("client", frame[1:])
    talk.send("server", build_frame(Opcode.TEXT, b"answer"))
    result = run(pcap(talk.packets))
    (summary,) = result["summaries"].values()
    assert summary["kind"] == "websocket" and summary["roles_inferred"]
    assert summary["client"] == "10.0.0.1:40000"
    assert [r.view.frame.payload for r in result["frames"]] == [b"mid-stream", b"answer"]


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("capture-*.pcap*")), ids=lambda p: p.name)
def test_every_sample_reads_the_same_with_its_segments_reversed(path: Path) -> None:
    """Reassembly through the heap: in each direction, the data segments after
    the first (the HTTP head) take each other's places in reverse order (all
    but one wait, then drain at once): each direction's frames, violations and
    counts are those of the capture's own order."""
    packets = packets_of(path.read_bytes())
    by_direction: dict[tuple[tuple[str, int], tuple[str, int]], list[int]] = {}
    for index, packet in enumerate(packets):
        segment = decode(packet)
        if segment is not None and segment.payload and not (segment.fin or segment.rst):
            by_direction.setdefault((segment.src, segment.dst), []).append(index)
    order = list(range(len(packets)))
    moved = 0
    for indices in by_direction.values():
        tail = indices[1:]
        for at, index in zip(tail, reversed(tail), strict=True):
            order[at] = index
            moved += at != index
    assert moved

    def per_direction(data: bytes) -> dict[tuple[object, ...], object]:
        result = run(data)
        out: dict[tuple[object, ...], object] = {}
        frames: dict[tuple[object, ...], list[tuple[bytes, bytes, int]]] = {}
        for record in result["frames"]:
            frames.setdefault((record.connection, record.sender), []).append(
                (record.view.header, record.view.frame.payload, record.view.length))
        out.update(frames)
        for violation in result["violations"]:
            out[(violation.connection, violation.sender, "violation")] = (
                violation.verdict.error.code, violation.verdict.error.reason)
        for number, summary in result["summaries"].items():
            for name, direction in summary.get("directions", {}).items():
                out[(number, name)] = {k: direction[k] for k in (
                    "frames", "messages", "pings", "pongs", "payload_bytes", "close")}
        return out

    reordered = pcap([packets[i].data for i in order], packets[0].linktype)
    assert per_direction(reordered) == per_direction(path.read_bytes())
