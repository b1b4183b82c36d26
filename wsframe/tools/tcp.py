"""TCP reassembly: each connection of a capture as two byte streams.

A `Stream` is one direction. Segments go in as the capture has them (in any
order, retransmitted, overlapping); bytes come out in sequence order, each
piece with the packet it came from. Bytes already delivered are never
delivered again (a retransmission that disagrees with them is counted, the
first copy wins). A hole is never guessed across: when the capture lacks
bytes (a packet the capture missed, or one cut at the snap length), the
stream reports a `Gap` and delivers nothing more.

Memory: out-of-order segments wait in a buffer of at most ``max_pending``
bytes per direction, and all directions together hold at most
``max_total_pending``; each held segment counts its packet's bytes plus
`SEGMENT_COST` (the objects around them: a flood of one-byte segments costs
what it really costs). A hole that is still open when a buffer is full is a
gap. The waiting segments are kept in a heap by stream offset, so a segment
costs O(log n) however they arrive (a ``min()`` over them was quadratic).

`TcpConnections` keys streams by their endpoints and forgets a connection
once it has ended (both FINs, or a RST). It tracks at most ``max_connections``
at once: past that, the least recently active one is dropped (and counted),
so that connections that never complete (a SYN flood) cannot take memory
without bound.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field

from ..dissect import CAPTURE_MAX_CONNECTIONS, plural
from .pcap import Packet, Segment

__all__ = ["Chunk", "Gap", "Stream", "TcpConnection", "TcpConnections"]

_MOD = 1 << 32
_HALF = 1 << 31
#: Out-of-order bytes held per direction before an open hole counts as a gap.
DEFAULT_MAX_PENDING = 4 * 2**20
#: Out-of-order bytes held by all directions together.
DEFAULT_MAX_TOTAL_PENDING = 64 * 2**20
#: Connections tracked at once (each costs a few KB before it carries data).
DEFAULT_MAX_CONNECTIONS = CAPTURE_MAX_CONNECTIONS
#: What a held segment costs besides its packet's bytes (the Segment, its
#: Packet and their addresses, measured at about 600 bytes).
SEGMENT_COST = 640


class Budget:
    """Out-of-order bytes held, shared by the streams of a `TcpConnections`."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.used = 0

    @property
    def exceeded(self) -> bool:
        """More is held than the limit allows."""
        return self.limit is not None and self.used > self.limit


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
    """One direction of a TCP connection, reassembled (``budget``: shared with
    other streams, for a limit on what they hold together)."""

    __slots__ = ("_budget", "_pending", "_pending_bytes", "_recent", "_starts", "base",
                 "conflicting", "delivered", "fin_at", "gap", "max_pending", "retransmitted",
                 "started_with_syn")

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING,
                 budget: Budget | None = None) -> None:
        self.max_pending = max_pending
        self._budget = budget if budget is not None else Budget()
        self.base: int | None = None      # sequence number of stream offset 0
        self.delivered = 0                # stream bytes delivered so far
        self.started_with_syn = False
        self.fin_at: int | None = None    # stream offset of the FIN
        self.gap: Gap | None = None
        self.retransmitted = 0            # bytes received again
        self.conflicting = 0              # bytes received again, different
        self._pending: dict[int, Segment] = {}    # by stream offset
        self._starts: list[int] = []              # their offsets, a heap
        self._pending_bytes = 0                   # what they cost (see SEGMENT_COST)
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
                    self._release()
                return out
            return []
        self._place(segment, start, segment.length)
        out = self._drain()
        if self.gap is None and self._pending and (
                self._pending_bytes > self.max_pending or self._budget.exceeded):
            first = self._starts[0]
            held = sum(len(s.payload) for s in self._pending.values())
            self.gap = Gap(self.delivered, first - self.delivered, segment.packet,
                           f"{plural(held, 'byte')} in {plural(len(self._pending), 'segment')} "
                           "arrived after a hole the capture never filled" + (
                               "" if self._pending_bytes > self.max_pending else
                               " (out-of-order buffers of all connections full)"))
            self._release()
        return out

    def _release(self) -> None:
        """Drop the waiting segments."""
        self._budget.used -= self._pending_bytes
        self._pending.clear()
        self._starts.clear()
        self._pending_bytes = 0

    @staticmethod
    def _cost(segment: Segment) -> int:
        return len(segment.packet.data) + len(segment.payload) + SEGMENT_COST

    def _place(self, segment: Segment, start: int, size: int) -> None:
        end = start + size
        if end <= self.delivered:
            self._compare(segment, start, size)
            self.retransmitted += size
            return
        held = self._pending.get(start)
        if held is None or len(held.payload) < size:
            if held is not None:
                self._account(-self._cost(held))
            else:
                heapq.heappush(self._starts, start)
            if size < len(segment.payload):
                segment = _cut(segment, size)
            self._pending[start] = segment
            self._account(self._cost(segment))

    def _account(self, cost: int) -> None:
        self._pending_bytes += cost
        self._budget.used += cost

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
        starts = self._starts
        while starts:
            start = starts[0]
            if start > self.delivered:
                break
            heapq.heappop(starts)
            segment = self._pending.pop(start)
            size = len(segment.payload)
            self._account(-self._cost(segment))
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
            first = self._starts[0]
            self.gap = Gap(self.delivered, first - self.delivered, packet,
                           "the capture ends with bytes missing")
        self._release()

    @property
    def finished(self) -> bool:
        """The FIN arrived and everything before it was delivered."""
        return self.fin_at is not None and self.delivered >= self.fin_at


def _cut(segment: Segment, size: int) -> Segment:
    return Segment(segment.packet, segment.src, segment.dst, segment.seq, segment.ack,
                   segment.syn, segment.fin, segment.rst, segment.payload[:size], size,
                   segment.offset)


@dataclass(slots=True)
class TcpConnection:
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


class TcpConnections:
    """Segments in, per-connection chunks out; connections numbered from 1.

    Args:
        max_pending: out-of-order bytes held per direction (see `Stream`).
        max_total_pending: out-of-order bytes held by all directions together.
        max_connections: connections tracked at once; past it, the least
            recently active one is dropped: `add` returns it in ``dropped``
            (its state is gone, its later segments start nothing new), and
            ``dropped_count`` counts them.
    """

    #: Ended (or dropped) connections remembered, so that their last segments
    #: start nothing new.
    REMEMBER_CLOSED = 4096

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING, *,
                 max_total_pending: int | None = DEFAULT_MAX_TOTAL_PENDING,
                 max_connections: int | None = DEFAULT_MAX_CONNECTIONS) -> None:
        self.max_pending = max_pending
        self.max_connections = max_connections
        self.budget = Budget(max_total_pending)
        # open connections, least recently active first
        self._open: OrderedDict[frozenset[tuple[str, int]], TcpConnection] = OrderedDict()
        self._closed: dict[frozenset[tuple[str, int]], None] = {}
        self._count = 0
        self.dropped: list[TcpConnection] = []    # dropped by the last `add`, for its caller
        self.dropped_count = 0

    def add(self, segment: Segment) -> tuple[TcpConnection | None, list[Chunk], bool]:
        """The connection ``segment`` belongs to, the chunks it delivers, and
        whether it is a connection not seen before. (None, [], False): a late
        segment of a connection that already ended (its last ACK, say).
        TcpConnections this call dropped (over ``max_connections``) are in
        ``dropped`` until the next call."""
        self.dropped = []
        key = frozenset((segment.src, segment.dst))
        if key in self._closed:
            if not segment.syn:
                return None, [], False
            del self._closed[key]
        connection = self._open.get(key)
        new = connection is None or (segment.syn and connection.ended)
        if connection is None or new:
            if connection is not None:
                self._drop_state(connection)
            self._count += 1
            sender_is_a = not (segment.syn and segment.ack is not None)   # a SYN-ACK: b
            a, b = (segment.src, segment.dst) if sender_is_a else (segment.dst, segment.src)
            connection = TcpConnection(self._count, a, b, Stream(self.max_pending, self.budget),
                                    Stream(self.max_pending, self.budget))
            self._open[key] = connection
            limit = self.max_connections
            while limit is not None and len(self._open) > limit:
                _key, oldest = self._open.popitem(last=False)
                self._drop_state(oldest)
                self._remember(_key)
                self.dropped.append(oldest)
                self.dropped_count += 1
        else:
            self._open.move_to_end(key)
        connection.last_packet = segment.packet
        if segment.rst:
            connection.reset = True
        chunks = connection.stream_from(segment.src).add(segment)
        return connection, chunks, new

    @staticmethod
    def _drop_state(connection: TcpConnection) -> None:
        for stream in (connection.from_a, connection.from_b):
            stream.end(None)

    def _remember(self, key: frozenset[tuple[str, int]]) -> None:
        self._closed[key] = None
        if len(self._closed) > self.REMEMBER_CLOSED:
            del self._closed[next(iter(self._closed))]

    def forget(self, connection: TcpConnection) -> None:
        """Drop a finished connection's state."""
        key = frozenset((connection.a, connection.b))
        if self._open.get(key) is connection:
            del self._open[key]
            self._remember(key)

    def remaining(self) -> list[TcpConnection]:
        """TcpConnections not forgotten yet (at the end of the capture)."""
        return list(self._open.values())
