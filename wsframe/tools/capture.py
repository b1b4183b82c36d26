"""Dissect the WebSocket connections in a pcap or pcapng capture.

`dissect_capture` streams a capture file: packets are read one at a time,
each TCP connection is reassembled in both directions (`wsframe.tools.tcp`)
and followed by a `Session`; records come out in capture order, and a
connection's `SummaryRecord` as soon as it ends (both FINs, or a RST) or
at the end of the file. Memory is bounded by the connections followed at
once (``max_connections``) times what each keeps (the first 64 KiB of a
frame and of a message, `wsframe.dissect.CAPTURE_KEEP`; the inflater), plus
the out-of-order buffers of the reassembly (``max_total_pending``), never by
the size of the file (docs/captures.md has the figures).

`CaptureReport` turns the records into what ``wsframe dissect capture.pcap``
prints: a line per frame (``verbose``: the full diagram), each violation
with the side that broke the rule, and a summary per connection.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..close_codes import explain
from ..dissect import CAPTURE_MAX_MESSAGE_SIZE
from ..extensions.permessage_deflate import DeflateParams
from ..render import frame_json, plural, render_frame, render_frame_line, render_verdict
from ..roles import Role
from .pcap import LINK_NAMES, decode, read_packets
from .session import (
    FrameRecord,
    NoteRecord,
    Record,
    Session,
    ViolationRecord,
    Where,
    violation_json,
)
from .tcp import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_PENDING,
    DEFAULT_MAX_TOTAL_PENDING,
    Stream,
    TcpConnection,
    TcpConnections,
)

__all__ = ["CaptureReport", "SummaryRecord", "dissect_capture"]


@dataclass(slots=True)
class SummaryRecord:
    """A connection ended (or the capture did): what happened on it."""

    connection: int
    summary: dict[str, Any]


@dataclass(slots=True)
class CaptureStats:
    """Counts over the whole file."""

    packets: int = 0
    tcp_segments: int = 0
    connections: int = 0
    dropped_connections: int = 0     # over max_connections open at once
    max_connections: int | None = None
    #: packets of link types the reader does not know: link type -> packets
    unknown_links: dict[int, int] = field(default_factory=dict)


def _endpoint(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def dissect_capture(handle: IO[bytes], *, max_message_size: int | None
                    = CAPTURE_MAX_MESSAGE_SIZE, deflate: DeflateParams | None = None,
                    max_pending: int = DEFAULT_MAX_PENDING,
                    max_total_pending: int | None = DEFAULT_MAX_TOTAL_PENDING,
                    max_connections: int | None = DEFAULT_MAX_CONNECTIONS,
                    stats: CaptureStats | None = None) -> Iterator[Record | SummaryRecord]:
    """Every record of every connection in the capture ``handle``, in capture order.

    ``max_pending`` and ``max_total_pending`` bound the out-of-order bytes
    held per direction and in all; ``max_connections`` the connections
    followed at once (past it the least recently active one is dropped: its
    summary says so, and ``stats.dropped_connections`` counts it).

    Raises `wsframe.tools.pcap.CaptureError` if the file is not a capture or
    is damaged (records before the damage are delivered first).
    """
    stats = stats if stats is not None else CaptureStats()
    stats.max_connections = max_connections
    connections = TcpConnections(max_pending, max_total_pending=max_total_pending,
                              max_connections=max_connections)
    sessions: dict[int, Session] = {}
    for packet in read_packets(handle):
        stats.packets += 1
        segment = decode(packet)
        if segment is None:
            if packet.linktype not in LINK_NAMES:
                stats.unknown_links[packet.linktype] = \
                    stats.unknown_links.get(packet.linktype, 0) + 1
            continue
        stats.tcp_segments += 1
        connection, chunks, _new = connections.add(segment)
        for dropped in connections.dropped:
            stats.dropped_connections += 1
            yield _end(sessions.pop(dropped.number), dropped,
                       f"dropped: more than {max_connections:,} connections open at once "
                       "(this one was the least recently active)")
        if connection is None:
            continue
        session = sessions.get(connection.number)
        if session is None:
            stats.connections += 1
            session = Session(connection.number, _endpoint(connection.a),
                              _endpoint(connection.b), opened=segment.syn,
                              max_message_size=max_message_size, deflate=deflate)
            sessions[connection.number] = session
        side = "a" if segment.src == connection.a else "b"
        for chunk in chunks:
            try:
                records = session.feed(side, chunk.offset, chunk.data,
                                       Where(packet.number, chunk.packet_offset, packet.time))
            except Exception as exc:    # (one connection's failure is not the file's)
                records = [session.abandon(f"reading it failed in packet {packet.number} "
                                           f"({type(exc).__name__}: {exc})")]
            yield from records
        stream = connection.stream_from(segment.src)
        if stream.gap is not None:
            yield from _gap(session, side, stream)
        if connection.ended:
            yield _end(session, connection, "reset (RST)" if connection.reset
                       else "closed (FIN both ways)")
            connections.forget(connection)
            del sessions[connection.number]
    for connection in sorted(connections.remaining(), key=lambda c: c.number):
        yield _end(sessions.pop(connection.number), connection,
                   "still open when the capture ends")


def _gap(session: Session, side: str, stream: Stream) -> list[Record]:
    gap = stream.gap
    assert gap is not None
    return session.gap(side, gap.offset, gap.missing,
                       Where(gap.packet.number, 0, gap.packet.time), gap.why)


def _end(session: Session, connection: TcpConnection, how: str) -> SummaryRecord:
    records: list[Record] = []
    for side, stream in (("a", connection.from_a), ("b", connection.from_b)):
        stream.end(connection.last_packet)
        if stream.gap is not None:
            records += _gap(session, side, stream)
    session.ended = how
    summary = session.finish()
    summary["notes"] = list(session.notes)
    return SummaryRecord(session.number, summary)


# -- output ---------------------------------------------------------------------------------

class CaptureReport:
    """Prints records as ``wsframe dissect`` shows a capture (text or one JSON document).

    Text: each frame on one line (``verbose``: on the RFC 6455 5.2 diagram),
    notes, violations in full, then a summary per connection as it ends. JSON:
    ``{"frames": [...], "connections": [...], "valid": ...}``, the frames
    written as they come.
    """

    def __init__(self, out: IO[str] | None = None, *, json_output: bool = False,
                 verbose: bool = False, unit: str = "packet") -> None:
        # (sys.stdout looked up now, not when the module was imported: callers
        # may have redirected it since)
        self.out = out if out is not None else sys.stdout
        self.json = json_output
        self.verbose = verbose
        self.unit = unit            # "packet" (a capture) or "read" (the live proxy)
        self.violations = 0
        self.connections = 0            # summaries shown
        self.refused = 0                # the proxy's clients refused (over its cap)
        self.websocket_connections = 0
        # --json: the summaries wait for the end of the document, in a file
        # past 1 MiB (memory stays bounded however many connections there are)
        self._summaries: IO[str] | None = None
        self._frames = 0
        if self.json:
            self.out.write('{\n  "frames": [')

    def record(self, record: Record | SummaryRecord) -> None:
        """Show one record."""
        if isinstance(record, ViolationRecord):
            self.violations += 1
        if self.json:
            self._json(record)
            return
        lines: list[str] = []
        tag = f"[{record.connection}]"
        if isinstance(record, FrameRecord):
            arrow = f"{record.sender} -> {_peer(record.sender)}"
            where = (f"pkt {record.where.packet:<5}" if self.unit == "packet"
                     else f"+{record.where.time:8.3f}s")
            if self.verbose:
                receiver = Role.SERVER if record.sender == "client" else Role.CLIENT
                lines.append(f"{tag} {where.replace('pkt', 'packet')}: {arrow}")
                lines += ["  " + line for line in render_frame(record.view, receiver)[1:]]
            else:
                lines.append(f"{tag} {where} {arrow:<16} " + render_frame_line(record.view))
        elif isinstance(record, NoteRecord):
            lines.append(f"{tag} {record.text}")
        elif isinstance(record, ViolationRecord):
            lines += violation_lines(record, self.unit)
        else:
            self._count(record.summary)
            lines += summary_lines(record.summary, self.unit)
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()            # live output (the proxy), even into a pipe

    def _json(self, record: Record | SummaryRecord) -> None:
        if isinstance(record, FrameRecord):
            entry = {"connection": record.connection, "sender": record.sender,
                     self.unit: record.where.packet, "time": record.where.time}
            entry.update(frame_json(record.view))
            self.out.write(("," if self._frames else "") + "\n    " + json.dumps(entry))
            self._frames += 1
        elif isinstance(record, SummaryRecord):
            # (as json.dumps(..., indent=2) lays it out inside the document)
            laid_out = textwrap.indent(json.dumps(record.summary, indent=2), "    ")
            if self._summaries is None:
                self._summaries = tempfile.SpooledTemporaryFile(2**20, "w+")  # noqa: SIM115
                self._summaries.write("\n" + laid_out)
            else:
                self._summaries.write(",\n" + laid_out)
            self._count(record.summary)

    def _count(self, summary: dict[str, Any]) -> None:
        self.connections += 1
        self.websocket_connections += summary["kind"] == "websocket"

    def end(self, stats: CaptureStats | None = None) -> None:
        """Finish the output with the totals (``stats``: a capture's)."""
        stats = stats if stats is not None else CaptureStats(connections=self.connections)
        totals = {"packets": stats.packets, "tcp_segments": stats.tcp_segments,
                  "connections": stats.connections,
                  "websocket_connections": self.websocket_connections,
                  "dropped_connections": stats.dropped_connections,
                  "unknown_link_types": {str(k): v for k, v in
                                         sorted(stats.unknown_links.items())},
                  "violations": self.violations}
        if self.unit == "read":
            totals = {"connections": self.connections, "refused_connections": self.refused,
                      "violations": self.violations}
        if self.json:
            self.out.write(("\n  ]" if self._frames else "]") + ',\n  "connections": [')
            if self._summaries is not None:
                self._summaries.seek(0)
                while piece := self._summaries.read(65536):
                    self.out.write(piece)
                self._summaries.close()
                self._summaries = None
                self.out.write("\n  ")
            body = json.dumps({"totals": totals, "valid": self.violations == 0},
                              indent=2)[1:-1].strip("\n")
            self.out.write("],\n" + body + "\n}\n")
            return
        found = (f"{self.violations} violation{'s' if self.violations != 1 else ''}."
                 if self.violations else "no violation.")
        if self.unit == "read":
            refused = (f" ({plural(self.refused, 'client')} refused: over --max-connections)"
                       if self.refused else "")
            self.out.write(f"\n{plural(self.connections, 'connection')}{refused}; {found}\n")
            self.out.flush()
            return
        self.out.write(
            f"\n{stats.packets:,} packets, {stats.tcp_segments:,} TCP segments, "
            f"{stats.connections} TCP connection{'s' if stats.connections != 1 else ''} "
            f"({totals['websocket_connections']} WebSocket); "
            + (f"{self.violations} violation{'s' if self.violations != 1 else ''}."
               if self.violations else "no violation.") + "\n")
        if stats.unknown_links:
            kinds = ", ".join(f"{plural(count, 'packet')} of link type {link}"
                              for link, count in sorted(stats.unknown_links.items()))
            self.out.write(f"Not read: {kinds} (not a link type this reader knows: see "
                           "docs/captures.md).\n")
        if stats.dropped_connections:
            self.out.write(
                f"{plural(stats.dropped_connections, 'connection')} dropped before "
                f"{'it' if stats.dropped_connections == 1 else 'they'} ended: more than "
                f"{stats.max_connections or 0:,} were open at once (the least recently "
                "active go first; see --max-connections).\n")


def _peer(sender: str) -> str:
    return {"client": "server", "server": "client"}.get(sender, "?")


def violation_lines(record: ViolationRecord, unit: str = "packet") -> list[str]:
    """A violation: who broke which rule where, and the Close frame to answer it.
    ``unit``: "packet" (a capture's) or "read" (the proxy's reads of that side)."""
    error = record.verdict.error
    assert error is not None
    where = (f"{unit} {record.where.packet}, byte {record.where.byte}"
             if record.where is not None else f"a {unit} no longer known")
    lines = [f"[{record.connection}] VIOLATION by the {record.sender} (its frame starts in "
             f"{where}; byte {error.offset:,} of its WebSocket data)"]
    verdict = render_verdict(record.verdict)
    receiver = _peer(record.sender)
    for line in verdict[2:]:
        lines.append("  " + line.replace("a correct endpoint sends back",
                                         f"a correct {receiver} sends back"))
    return [lines[0], f"  {error.reason}", *lines[1:]]


def summary_lines(summary: dict[str, Any], unit: str = "packet") -> list[str]:
    """The summary of one connection (``unit`` as for `violation_lines`)."""
    number = summary["connection"]
    if summary["kind"] != "websocket":
        ends = summary.get("endpoints") or [summary.get("client"), summary.get("server")]
        notes = summary.get("notes") or ["no data"]
        return [f"[{number}] connection {number}: {ends[0]} <-> {ends[1]}: {notes[-1]}; "
                f"TCP {summary['tcp_end']}"]
    lines = [f"[{number}] connection {number}: client {summary['client']}, "
             f"server {summary['server']}"]
    if summary.get("request"):
        lines.append(f"  handshake: {summary['request']} -> {summary.get('response', '?')}; "
                     + (summary["extensions"] or "no extension"))
        if summary.get("handshake_error"):
            lines.append(f"  handshake invalid: {summary['handshake_error']}")
    elif summary["roles_inferred"]:
        lines.append("  handshake: not in the capture (roles inferred from the masking bits)")
    for name, direction in summary["directions"].items():
        arrow = name.replace("_to_", " -> ")
        counts = (f"{plural(direction['frames'], 'frame')}, "
                  f"{plural(direction['messages'], 'message')}"
                  + (f" ({direction['compressed_messages']:,} compressed)"
                     if direction["compressed_messages"] else "")
                  + f", {plural(direction['pings'], 'ping')}, "
                  f"{plural(direction['pongs'], 'pong')}, "
                  f"{plural(direction['payload_bytes'], 'payload byte')}")
        close = direction["close"]
        if close is not None:
            counts += "; Close " + (f"{close['code']} ({close['name']})"
                                    if close["code"] is not None else "without a code")
        lines.append(f"  {arrow}: {counts}")
        if direction["gap"]:
            lines.append(f"    gap: {direction['gap']}")
        if direction["pending_bytes"]:
            lines.append(f"    ends inside a frame ({direction['pending_bytes']:,} bytes)")
    lines.append(f"  closing handshake: {summary['closing_handshake']}")
    found = [d["violation"] for d in summary["directions"].values() if d["violation"]]
    if not found:
        lines.append("  violations: none")
    for violation in found:
        lines.append(f"  violation: the {violation['sender']} "
                     f"({summary[violation['sender']]}) broke RFC {violation['rfc']} section "
                     f"{violation['section']} in {unit} {violation['packet']}: "
                     f"{violation['reason']} -> {violation['code']} "
                     f"({explain(violation['code']).name})")
    lines.append(f"  TCP: {summary['tcp_end']}")
    return lines


__all__ += ["CaptureStats", "summary_lines", "violation_json", "violation_lines"]
