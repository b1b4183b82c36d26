"""Capture dissection against forged and damaged files (issue 21): every
damage is one line on stderr naming the file, the block and its byte offset,
exit status 2 (never a traceback, never the status 1 that means "violation
found"); the reassembly stays n log n; memory stays within the documented caps."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from capture_tools import (
    ACK,
    SAMPLES,
    block,
    epb,
    idb,
    packets_of,
    pcap,
    pcapng,
    shb,
    tcp_packet,
)

from wsframe.cli import main
from wsframe.tools.capture import CaptureStats, dissect_capture
from wsframe.tools.pcap import CaptureError, read_packets

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
