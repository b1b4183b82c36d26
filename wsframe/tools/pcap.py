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

from ..dissect import plural

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
    """The file is not a capture this reader understands, or it is damaged.

    The message names the block or record at fault and its byte offset in
    the file (``wsframe dissect`` prints it after the file's name).
    """


#: The most bytes one packet may hold (tcpdump's default snap length, and
#: Wireshark's limit for the link types read here): a length field claiming
#: more is damage, not a packet to allocate memory for.
MAX_PACKET = 262144
#: The most bytes of options a pcapng packet or interface block may carry
#: besides its packet (options are read, then dropped).
MAX_OPTIONS = 65536
#: Blocks this reader does not use are skipped in pieces of this size, whatever
#: their length (memory stays bounded).
_SKIP = 65536

_PCAPNG_BLOCKS = {0x0A0D0D0A: ("Section Header Block", 28),
                  1: ("Interface Description Block", 20),
                  2: ("Packet Block", 32), 3: ("Simple Packet Block", 16),
                  6: ("Enhanced Packet Block", 32)}


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


class _Reader:
    """The file, read exactly, with the offset of what comes next (for errors:
    a pipe cannot say where it is)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.offset = 0

    def exact(self, size: int, what: str, start: int, *, allow_eof: bool = False) -> bytes:
        """``size`` bytes of ``what`` (which starts at byte ``start``); b"" at the
        end of the file if ``allow_eof``."""
        data = self._read(size, what, start) if size else b""
        if len(data) != size and not (allow_eof and not data):
            raise CaptureError(f"the file ends inside {what} at byte {start:,} "
                               f"({plural(size - len(data), 'byte')} short)")
        self.offset += len(data)
        return data

    def _read(self, size: int, what: str, start: int) -> bytes:
        try:
            return self.handle.read(size)
        except OSError as exc:
            raise CaptureError(f"cannot read {what} at byte {start:,}: "
                               f"{exc.strerror or exc}") from None

    def skip(self, size: int, what: str, start: int) -> None:
        """Read past ``size`` bytes of ``what`` in pieces (memory stays bounded)."""
        while size:
            data = self._read(min(size, _SKIP), what, start)
            self.offset += len(data)
            size -= len(data)
            if not data:
                raise CaptureError(f"the file ends inside {what} at byte {start:,} "
                                   f"({plural(size, 'byte')} short)")


def read_packets(handle: IO[bytes]) -> Iterator[Packet]:
    """The packets of a pcap or pcapng file, one at a time (the file is streamed).

    Raises `CaptureError` (naming the block or record and its byte offset)
    where the file is not a capture or is damaged; the packets before the
    damage come first.
    """
    reader = _Reader(handle)
    magic = reader.exact(4, "the file header", 0, allow_eof=True)
    if not magic:
        raise CaptureError("the file is empty")
    if magic in PCAP_MAGICS:
        yield from _pcap(reader, magic)
    elif magic == PCAPNG_MAGIC:
        yield from _pcapng(reader)
    else:
        raise CaptureError(f"not a pcap or pcapng file (it starts with {magic.hex(' ')})")


def _pcap(reader: _Reader, magic: bytes) -> Iterator[Packet]:
    order, resolution = PCAP_MAGICS[magic]
    header = reader.exact(20, "the pcap file header", 0)
    _major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack(order + "HHiIII", header)
    linktype &= 0x0FFFFFFF          # the top bits may carry FCS information
    record = struct.Struct(order + "IIII")
    number = 0
    while True:
        at = reader.offset
        head = reader.exact(16, f"the record of packet {number + 1}", at, allow_eof=True)
        if not head:
            return
        seconds, fraction, captured, length = record.unpack(head)
        number += 1
        # (the file's snap length is not trusted: writers get it wrong; the
        # packet's own length is checked against what any packet can be)
        if captured > MAX_PACKET:
            raise CaptureError(f"the record of packet {number} at byte {at:,} claims "
                               f"{captured:,} captured bytes, more than a packet can have "
                               f"({MAX_PACKET:,})")
        data = reader.exact(captured, f"the record of packet {number}", at)
        yield Packet(number, seconds + fraction * resolution, linktype, data, length)


def _pcapng(reader: _Reader) -> Iterator[Packet]:
    order = "<"
    interfaces: list[tuple[int, float]] = []      # (link type, seconds per tick)
    number = 0
    raw_type = PCAPNG_MAGIC                       # read by read_packets
    at = 0
    while True:
        raw_length = reader.exact(4, "a block header", at)
        if raw_type == PCAPNG_MAGIC:                 # Section Header Block
            bom = reader.exact(4, "the Section Header Block", at)
            if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise CaptureError(f"the Section Header Block at byte {at:,} has a bad "
                                   f"byte-order magic ({bom.hex(' ')})")
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            block_type = 0x0A0D0D0A
        else:
            (block_type,) = struct.unpack(order + "I", raw_type)
        (length,) = struct.unpack(order + "I", raw_length)
        name, smallest = _PCAPNG_BLOCKS.get(block_type, (f"block of type {block_type:#x}", 12))
        what = f"the {name}"
        where = f"{what} at byte {at:,}"
        if length < smallest or length % 4:
            raise CaptureError(f"{where} has a bad length: {length:,} (a multiple of 4, "
                               f"at least {smallest})")
        body_size = length - 12
        if block_type == 0x0A0D0D0A:
            # version and section length, then options: skipped
            reader.skip(body_size - 4, what, at)
            interfaces = []
            body = b""
        elif block_type in (2, 3, 6):
            if body_size > MAX_PACKET + MAX_OPTIONS + 32:
                raise CaptureError(f"{where} claims {length:,} bytes, more than a packet "
                                   f"block can have ({MAX_PACKET + MAX_OPTIONS + 44:,})")
            body = reader.exact(body_size, what, at)
        elif block_type == 1:
            if body_size > MAX_OPTIONS + 8:
                raise CaptureError(f"{where} claims {length:,} bytes, more than this reader "
                                   f"takes ({MAX_OPTIONS + 20:,})")
            body = reader.exact(body_size, what, at)
        else:
            reader.skip(body_size, what, at)          # a block this reader does not use
            body = b""
        trailer = reader.exact(4, what, at)
        if struct.unpack(order + "I", trailer)[0] != length:
            raise CaptureError(f"{where}: its trailing length "
                               f"{struct.unpack(order + 'I', trailer)[0]:,} differs from its "
                               f"leading length {length:,}")
        if block_type == 1:                          # Interface Description Block
            linktype = struct.unpack(order + "H", body[:2])[0]
            interfaces.append((linktype, _tsresol(body[8:], order)))
        elif block_type in (6, 2):                   # Enhanced Packet Block, Packet Block
            if block_type == 6:
                interface, high, low, captured, original = struct.unpack(order + "IIIII",
                                                                         body[:20])
            else:
                interface, _drops, high, low, captured, original = struct.unpack(
                    order + "HHIIII", body[:20])
            if captured > len(body) - 20:
                raise CaptureError(f"{where} claims {captured:,} captured bytes; the block "
                                   f"holds {len(body) - 20:,}")
            linktype, tick = _interface(interfaces, interface, where)
            number += 1
            yield Packet(number, ((high << 32) | low) * tick, linktype,
                         body[20:20 + captured], original)
        elif block_type == 3:                        # Simple Packet Block
            (original,) = struct.unpack(order + "I", body[:4])
            linktype, _tick = _interface(interfaces, 0, where)
            number += 1
            yield Packet(number, 0.0, linktype, body[4:4 + original], original)
        at = reader.offset
        raw_type = reader.exact(4, "a block header", at, allow_eof=True)
        if not raw_type:
            return


def _interface(interfaces: list[tuple[int, float]], index: int,
               where: str) -> tuple[int, float]:
    if index >= len(interfaces):
        raise CaptureError(f"{where} refers to interface {index}, which was not described")
    return interfaces[index]


def _tsresol(options: bytes, order: str) -> float:
    """The if_tsresol option of an Interface Description Block (default: microseconds)."""
    at = 0
    while at + 4 <= len(options):
        code, size = struct.unpack(order + "HH", options[at:at + 4])
        if code == 0:
            break
        if code == 9 and size >= 1 and at + 4 < len(options):
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
    if header < 20 or (total and total < header):         # damaged (RFC 791: IHL >= 5)
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
    if header < 20 or start > end:          # damaged (RFC 9293 3.1: data offset >= 5)
        return None
    length = max(end - start, 0)
    payload = data[start:min(end, len(data))]
    return Segment(packet, (src, sport), (dst, dport), seq, ack if flags & 0x10 else None,
                   bool(flags & 0x02), bool(flags & 0x01), bool(flags & 0x04), payload, length,
                   start)
