"""pcap and pcapng files, packet by packet, down to TCP segments.

A small reader of our own rather than dpkt or scapy: the two formats and the
few link types below fit in this module, it streams (one packet in memory at
a time, whatever the file's size), and wsframe keeps zero runtime
dependencies. (benchmarks/capture_reader.py compares it with dpkt.)

Formats: pcap (microsecond or nanosecond timestamps, either byte order) and
pcapng (Section Header, Interface Description, Enhanced, Simple and the
obsolete Packet blocks; other blocks are skipped; several sections and
interfaces). Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked
capture SLL and SLL2, BSD loopback (NULL and LOOP), raw IP. Network: IPv4
and IPv6 (extension headers skipped); TCP only. IP fragments are not
reassembled (they are counted).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["CaptureError", "Packet", "Segment", "decode", "is_capture", "read_packets"]

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

# Link types (https://www.tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
LINK_NAMES = {LINKTYPE_NULL: "BSD loopback", LINKTYPE_ETHERNET: "Ethernet",
              LINKTYPE_RAW: "raw IP", 12: "raw IP", 14: "raw IP", LINKTYPE_LOOP: "OpenBSD loopback",
              LINKTYPE_LINUX_SLL: "Linux cooked (SLL)", LINKTYPE_LINUX_SLL2: "Linux cooked (SLL2)",
              LINKTYPE_IPV4: "raw IPv4", LINKTYPE_IPV6: "raw IPv6"}

_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_IP_VERSION_OF_ETHERTYPE = {_ETHERTYPE_IPV4: 4, _ETHERTYPE_IPV6: 6}
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100)
# Link headers that carry an EtherType: (its offset, the header's length).
_ETHERTYPE_FRAMING = {LINKTYPE_ETHERNET: (12, 14), LINKTYPE_LINUX_SLL: (14, 16),
                      LINKTYPE_LINUX_SLL2: (0, 20)}


class CaptureError(ValueError):
    """The file is not a capture this reader understands, or it is damaged."""


def is_capture(head: bytes) -> bool:
    """True if ``head`` (a file's first bytes) starts a pcap or pcapng file."""
    return head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC


@dataclass(frozen=True, slots=True)
class Packet:
    """One captured packet: its number in the file (from 1, as Wireshark counts),
    time in seconds, link type and the captured bytes (maybe cut at the snap length)."""

    number: int
    time: float
    linktype: int
    data: bytes
    length: int          # the packet's length on the wire


def read_packets(handle: IO[bytes]) -> Iterator[Packet]:
    """The packets of a pcap or pcapng file, one at a time (the file is streamed)."""
    magic = _read_exact(handle, 4, "the file header", allow_eof=True)
    if not magic:
        raise CaptureError("the file is empty")
    if magic in PCAP_MAGICS:
        yield from _pcap(handle, magic)
    elif magic == PCAPNG_MAGIC:
        yield from _pcapng(handle)
    else:
        raise CaptureError(f"not a pcap or pcapng file (it starts with {magic.hex(' ')})")


def _read_exact(handle: IO[bytes], size: int, what: str, *, allow_eof: bool = False) -> bytes:
    data = handle.read(size)
    if len(data) != size and not (allow_eof and not data):
        raise CaptureError(f"the file ends inside {what}")
    return data


def _pcap(handle: IO[bytes], magic: bytes) -> Iterator[Packet]:
    order, resolution = PCAP_MAGICS[magic]
    header = _read_exact(handle, 20, "the pcap file header")
    _major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack(order + "HHiIII", header)
    linktype &= 0x0FFFFFFF          # the top bits may carry FCS information
    record = struct.Struct(order + "IIII")
    number = 0
    while True:
        head = _read_exact(handle, 16, "a packet record header", allow_eof=True)
        if not head:
            return
        seconds, fraction, captured, length = record.unpack(head)
        number += 1
        if captured > 0x4000000:
            raise CaptureError(f"packet {number} claims {captured} captured bytes")
        data = _read_exact(handle, captured, f"packet {number}")
        yield Packet(number, seconds + fraction * resolution, linktype, data, length)


def _pcapng(handle: IO[bytes]) -> Iterator[Packet]:
    order = "<"
    interfaces: list[tuple[int, float]] = []      # (link type, seconds per tick)
    number = 0
    raw_type = PCAPNG_MAGIC                       # read by read_packets
    while True:
        raw_length = _read_exact(handle, 4, "a block header")
        if raw_type == PCAPNG_MAGIC:                 # Section Header Block
            bom = _read_exact(handle, 4, "the section header")
            if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise CaptureError("bad byte-order magic in a pcapng section header")
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            (length,) = struct.unpack(order + "I", raw_length)
            _read_exact(handle, _body_size(length) - 4, "the section header")
            block_type, body = 0x0A0D0D0A, b""
            interfaces = []
        else:
            (block_type,) = struct.unpack(order + "I", raw_type)
            (length,) = struct.unpack(order + "I", raw_length)
            body = _read_exact(handle, _body_size(length), f"a block of type {block_type:#x}")
        _read_exact(handle, 4, "a block trailer")
        if block_type == 1:                          # Interface Description Block
            linktype = struct.unpack(order + "H", body[:2])[0]
            interfaces.append((linktype, _tsresol(body[8:], order)))
        elif block_type == 6:                        # Enhanced Packet Block
            interface, high, low, captured, original = struct.unpack(order + "IIIII", body[:20])
            linktype, tick = _interface(interfaces, interface)
            number += 1
            yield Packet(number, ((high << 32) | low) * tick, linktype,
                         body[20:20 + captured], original)
        elif block_type == 3:                        # Simple Packet Block
            (original,) = struct.unpack(order + "I", body[:4])
            linktype, _tick = _interface(interfaces, 0)
            number += 1
            yield Packet(number, 0.0, linktype, body[4:4 + original], original)
        elif block_type == 2:                        # Packet Block (obsolete)
            interface, _drops, high, low, captured, original = struct.unpack(
                order + "HHIIII", body[:20])
            linktype, tick = _interface(interfaces, interface)
            number += 1
            yield Packet(number, ((high << 32) | low) * tick, linktype,
                         body[20:20 + captured], original)
        raw_type = _read_exact(handle, 4, "a block header", allow_eof=True)
        if not raw_type:
            return


def _body_size(total: int) -> int:
    """The bytes of a block between its length field and its trailer."""
    if total < 12 or total % 4 or total > 0x4000000:
        raise CaptureError(f"bad pcapng block length {total}")
    return total - 12


def _interface(interfaces: list[tuple[int, float]], index: int) -> tuple[int, float]:
    if index >= len(interfaces):
        raise CaptureError(f"a packet refers to interface {index}, which was not described")
    return interfaces[index]


def _tsresol(options: bytes, order: str) -> float:
    """The if_tsresol option of an Interface Description Block (default: microseconds)."""
    at = 0
    while at + 4 <= len(options):
        code, size = struct.unpack(order + "HH", options[at:at + 4])
        if code == 0:
            break
        if code == 9 and size >= 1:
            value = options[at + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value
        at += 4 + (size + 3) // 4 * 4
    return 1e-6


# -- from link layer to TCP ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Segment:
    """A TCP segment: addresses as text, the header fields the reassembly needs,
    the payload as captured and how long it really was (more, if the capture
    cut the packet short). ``offset`` is where the payload starts in the packet."""

    packet: Packet
    src: tuple[str, int]
    dst: tuple[str, int]
    seq: int
    ack: int | None
    syn: bool
    fin: bool
    rst: bool
    payload: bytes
    length: int
    offset: int


def decode(packet: Packet) -> Segment | None:
    """The TCP segment in ``packet``, or None (not TCP, an IP fragment, damaged)."""
    data = packet.data
    link = packet.linktype
    at = 0
    framing = _ETHERTYPE_FRAMING.get(link)
    if framing is not None:             # a link header that carries an EtherType
        where, at = framing
        if len(data) < at:
            return None
        ethertype = int.from_bytes(data[where:where + 2], "big")
        if link == LINKTYPE_ETHERNET:
            while ethertype in _VLAN_TAGS and len(data) >= at + 4:
                ethertype = int.from_bytes(data[at + 2:at + 4], "big")
                at += 4
        version = _IP_VERSION_OF_ETHERTYPE.get(ethertype, 0)
    elif link in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(data) < 4:
            return None
        family = int.from_bytes(data[:4], "big" if link == LINKTYPE_LOOP else "little")
        if family > 0xFFFF:                # NULL is in the capturing host's byte order
            family = int.from_bytes(data[:4], "big")
        at = 4
        version = 4 if family == 2 else 6 if family in (10, 24, 28, 30) else 0
    elif link in (LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4, LINKTYPE_IPV6):
        version = data[0] >> 4 if data else 0
    else:
        return None
    if version == 4:
        return _ipv4(packet, data, at)
    if version == 6:
        return _ipv6(packet, data, at)
    return None


def _ipv4(packet: Packet, data: bytes, at: int) -> Segment | None:
    if len(data) < at + 20 or data[at] >> 4 != 4:
        return None
    header = (data[at] & 0x0F) * 4
    total = int.from_bytes(data[at + 2:at + 4], "big")
    flags_fragment = int.from_bytes(data[at + 6:at + 8], "big")
    if data[at + 9] != 6 or flags_fragment & 0x3FFF:     # not TCP, or a fragment
        return None
    src = _ipv4_text(data[at + 12:at + 16])
    dst = _ipv4_text(data[at + 16:at + 20])
    end = at + total if total else len(data)      # (0: TCP segmentation offload)
    return _tcp(packet, data, at + header, end, src, dst)


def _ipv4_text(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def _ipv6(packet: Packet, data: bytes, at: int) -> Segment | None:
    if len(data) < at + 40 or data[at] >> 4 != 6:
        return None
    payload_length = int.from_bytes(data[at + 4:at + 6], "big")
    next_header = data[at + 6]
    src = _ipv6_text(data[at + 8:at + 24])
    dst = _ipv6_text(data[at + 24:at + 40])
    end = at + 40 + payload_length
    at += 40
    while next_header in (0, 43, 60, 51):         # hop-by-hop, routing, options, AH
        if len(data) < at + 2:
            return None
        size = (data[at + 1] + 2) * 4 if next_header == 51 else (data[at + 1] + 1) * 8
        next_header = data[at]
        at += size
    if next_header != 6:                          # not TCP (or a fragment: 44)
        return None
    return _tcp(packet, data, at, end, src, dst)


def _ipv6_text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _tcp(packet: Packet, data: bytes, at: int, end: int, src: str, dst: str) -> Segment | None:
    if len(data) < at + 20:
        return None
    sport, dport, seq, ack, offset_flags = struct.unpack(">HHIIH", data[at:at + 14])
    header = (offset_flags >> 12) * 4
    flags = offset_flags & 0x3F
    start = at + header
    length = max(end - start, 0)
    payload = data[start:min(end, len(data))]
    return Segment(packet, (src, sport), (dst, dport), seq, ack if flags & 0x10 else None,
                   bool(flags & 0x02), bool(flags & 0x01), bool(flags & 0x04), payload, length,
                   start)
