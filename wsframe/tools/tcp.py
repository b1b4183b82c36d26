"""TCP reassembly: each connection of a capture as two byte streams.

A `Stream` is one direction. Segments go in as the capture has them (in any
order, retransmitted, overlapping); bytes come out in sequence order, each
piece with the packet it came from. Bytes already delivered are never
delivered again (a retransmission that disagrees with them is counted, the
first copy wins). A hole is never guessed across: when the capture lacks
bytes (a packet the capture missed, or one cut at the snap length), the
stream reports a `Gap` and delivers nothing more.

Memory: out-of-order segments wait in a buffer of at most ``max_pending``
bytes per direction; a hole that is still open when the buffer is full is a
gap. `Connections` keys streams by their endpoints and forgets a connection
once it has ended (both FINs, or a RST).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .pcap import Packet, Segment

__all__ = ["Chunk", "Connection", "Connections", "Gap", "Stream"]

_MOD = 1 << 32
_HALF = 1 << 31
#: Out-of-order bytes held per direction before an open hole counts as a gap.
DEFAULT_MAX_PENDING = 4 * 2**20


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes delivered in order: ``data`` starts at stream offset ``offset``;
    it came from ``packet``, where it starts at byte ``packet_offset``."""

    offset: int
    data: bytes
    packet: Packet
    packet_offset: int


@dataclass(frozen=True, slots=True)
class Gap:
    """Bytes the capture does not have, from stream offset ``offset`` on."""

    offset: int
    missing: int | None      # None: unknown (the stream ended with a hole)
    packet: Packet           # the packet where the gap showed
    why: str


class Stream:
    """One direction of a TCP connection, reassembled."""

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.max_pending = max_pending
        self.base: int | None = None      # sequence number of stream offset 0
        self.delivered = 0                # stream bytes delivered so far
        self.started_with_syn = False
        self.fin_at: int | None = None    # stream offset of the FIN
        self.gap: Gap | None = None
        self.retransmitted = 0            # bytes received again
        self.conflicting = 0              # bytes received again, different
        self._pending: dict[int, Segment] = {}
        self._pending_bytes = 0
        self._recent: bytes = b""         # the last delivered bytes, to compare copies

    def _offset(self, seq: int) -> int:
        """The stream offset of sequence number ``seq`` (the one nearest to what
        was delivered: sequence numbers wrap at 2**32)."""
        assert self.base is not None
        relative = (seq - self.base) % _MOD
        return self.delivered + ((relative - self.delivered + _HALF) % _MOD) - _HALF

    def add(self, segment: Segment) -> list[Chunk]:
        """A segment of this direction; the bytes it makes deliverable."""
        if self.gap is not None:
            return []
        if self.base is None:
            if segment.syn:
                self.base = (segment.seq + 1) % _MOD
                self.started_with_syn = True
            else:
                self.base = segment.seq       # the capture started mid-connection
        seq = (segment.seq + 1) % _MOD if segment.syn else segment.seq
        start = self._offset(seq)
        if segment.fin:
            self.fin_at = start + segment.length
        if segment.length == 0:
            return []
        if len(segment.payload) < segment.length:
            if start + len(segment.payload) > self.delivered:
                # cut at the snap length: what follows the captured part is lost
                self._place(segment, start, len(segment.payload))
                out = self._drain()
                if self.gap is None:
                    self.gap = Gap(start + len(segment.payload),
                                   segment.length - len(segment.payload), segment.packet,
                                   "the capture cut this packet short (snap length)")
                return out
            return []
        self._place(segment, start, segment.length)
        out = self._drain()
        if self._pending_bytes > self.max_pending and self.gap is None:
            first = min(self._pending)
            self.gap = Gap(self.delivered, first - self.delivered, segment.packet,
                           f"{self._pending_bytes:,} bytes arrived after a hole the capture "
                           "never filled")
            self._pending.clear()
            self._pending_bytes = 0
        return out

    def _place(self, segment: Segment, start: int, size: int) -> None:
        end = start + size
        if end <= self.delivered:
            self._compare(segment, start, size)
            self.retransmitted += size
            return
        held = self._pending.get(start)
        if held is None or len(held.payload) < size:
            if held is not None:
                self._pending_bytes -= len(held.payload)
            if size < len(segment.payload):
                segment = _cut(segment, size)
            self._pending[start] = segment
            self._pending_bytes += size

    def _compare(self, segment: Segment, start: int, size: int) -> None:
        """Count a retransmission whose bytes differ from the first copy (as far
        as the last delivered bytes, which are kept, reach)."""
        recent_start = self.delivered - len(self._recent)
        lo = max(start, recent_start)
        hi = start + size
        if lo < hi and self._recent[lo - recent_start:hi - recent_start] != \
                segment.payload[lo - start:hi - start]:
            self.conflicting += hi - lo

    def _drain(self) -> list[Chunk]:
        out: list[Chunk] = []
        while self._pending:
            start = min(self._pending)
            if start > self.delivered:
                break
            segment = self._pending.pop(start)
            size = len(segment.payload)
            self._pending_bytes -= size
            end = start + size
            if end <= self.delivered:
                self.retransmitted += size
                continue
            skip = self.delivered - start           # overlap with what was delivered
            if skip:
                self._compare(segment, start, skip)
                self.retransmitted += skip
            data = segment.payload[skip:]
            out.append(Chunk(self.delivered, data, segment.packet, segment.offset + skip))
            self.delivered = end
            self._recent = (self._recent + data)[-4096:]
        return out

    def end(self, packet: Packet | None) -> None:
        """The capture (or the connection) ended: a hole still open is a gap."""
        if self.gap is None and self._pending and packet is not None:
            first = min(self._pending)
            self.gap = Gap(self.delivered, first - self.delivered, packet,
                           "the capture ends with bytes missing")
        self._pending.clear()
        self._pending_bytes = 0

    @property
    def finished(self) -> bool:
        """The FIN arrived and everything before it was delivered."""
        return self.fin_at is not None and self.delivered >= self.fin_at


def _cut(segment: Segment, size: int) -> Segment:
    return Segment(segment.packet, segment.src, segment.dst, segment.seq, segment.ack,
                   segment.syn, segment.fin, segment.rst, segment.payload[:size], size,
                   segment.offset)


@dataclass(slots=True)
class Connection:
    """Both directions of one TCP connection. ``a`` is the endpoint that sent
    the first segment seen (the SYN's sender, when the capture has it)."""

    number: int
    a: tuple[str, int]
    b: tuple[str, int]
    from_a: Stream = field(default_factory=Stream)
    from_b: Stream = field(default_factory=Stream)
    reset: bool = False
    last_packet: Packet | None = None

    def stream_from(self, endpoint: tuple[str, int]) -> Stream:
        """The direction whose bytes ``endpoint`` sends."""
        return self.from_a if endpoint == self.a else self.from_b

    @property
    def ended(self) -> bool:
        """Both FINs delivered, or a RST."""
        return self.reset or (self.from_a.finished and self.from_b.finished)


class Connections:
    """Segments in, per-connection chunks out; connections numbered from 1."""

    #: Ended connections remembered, so that their last ACKs start nothing new.
    REMEMBER_CLOSED = 4096

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.max_pending = max_pending
        self._open: dict[frozenset[tuple[str, int]], Connection] = {}
        self._closed: dict[frozenset[tuple[str, int]], None] = {}
        self._count = 0

    def add(self, segment: Segment) -> tuple[Connection | None, list[Chunk], bool]:
        """The connection ``segment`` belongs to, the chunks it delivers, and
        whether it is a connection not seen before. (None, [], False): a late
        segment of a connection that already ended (its last ACK, say)."""
        key = frozenset((segment.src, segment.dst))
        if key in self._closed:
            if not segment.syn:
                return None, [], False
            del self._closed[key]
        connection = self._open.get(key)
        new = connection is None or (segment.syn and connection.ended)
        if connection is None or new:
            self._count += 1
            sender_is_a = not (segment.syn and segment.ack is not None)   # a SYN-ACK: b
            a, b = (segment.src, segment.dst) if sender_is_a else (segment.dst, segment.src)
            connection = Connection(self._count, a, b, Stream(self.max_pending),
                                    Stream(self.max_pending))
            self._open[key] = connection
        connection.last_packet = segment.packet
        if segment.rst:
            connection.reset = True
        chunks = connection.stream_from(segment.src).add(segment)
        return connection, chunks, new

    def forget(self, connection: Connection) -> None:
        """Drop a finished connection's state."""
        key = frozenset((connection.a, connection.b))
        if self._open.get(key) is connection:
            del self._open[key]
            self._closed[key] = None
            if len(self._closed) > self.REMEMBER_CLOSED:
                del self._closed[next(iter(self._closed))]

    def remaining(self) -> list[Connection]:
        """Connections not forgotten yet (at the end of the capture)."""
        return list(self._open.values())
