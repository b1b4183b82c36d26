"""One TCP connection followed as a WebSocket connection, both directions.

A `Session` gets each direction's bytes in order (from a capture's TCP
reassembly, or from the live proxy) and does what the two endpoints did:
it reads the HTTP Upgrade request and the 101 answer (which side is the
client, which permessage-deflate parameters were agreed), then dissects
each direction with a `wsframe.dissect.Dissector` in the receiving side's
role. Each frame comes out as a `FrameRecord` with the packet it ended in;
the first violation of each direction as a `ViolationRecord` naming the
side that broke the rule, the packet and byte where its frame starts, and
the Close frame the receiver should have sent. `summary` says what
happened: counts each way, the closing handshake (who closed, with which
code, and what the code means), gaps and violations.

When the handshake is not there (a capture that starts later), the roles are
inferred from the masking bit of the first frame each way (RFC 6455 5.1: a
client masks, a server does not), and the summary says so.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..builders import parse_close_payload
from ..close_codes import explain
from ..dissect import CAPTURE_KEEP, CAPTURE_MAX_MESSAGE_SIZE, Dissector, FrameView, Verdict
from ..extensions.permessage_deflate import DeflateParams, PerMessageDeflate
from ..handshake import Head, HeadReader, check_response
from ..opcodes import Opcode
from ..roles import Role

__all__ = ["Direction", "FrameRecord", "NoteRecord", "Record",
           "Session", "ViolationRecord", "Where", "violation_json"]

_REQUEST_LINE = re.compile(rb"[A-Z]{3,10} \S")
# A side's first bytes that could still become a request line or "HTTP/":
# wait for more before deciding (TCP may cut "GET / HTTP/1.1" anywhere).
_HTTP_PREFIX = re.compile(rb"[A-Z]{1,10}|[A-Z]{3,10} ")
_MAX_UNDECIDED = 16
_MAX_HEAD = 16 * 1024       # an HTTP head (servers take 8 to 16 KiB)
_MAX_EARLY = 64 * 1024     # client bytes held while the 101 answer is awaited


@dataclass(frozen=True, slots=True)
class Where:
    """Where bytes were seen: a packet (number from 1, and the byte in it), or,
    for the live proxy, a read (number from 1)."""

    packet: int
    byte: int
    time: float = 0.0


@dataclass(slots=True)
class FrameRecord:
    """A frame, in the direction ``sender`` sent it, complete at ``where``."""

    connection: int
    sender: str                      # "client" or "server"
    view: FrameView
    where: Where


@dataclass(slots=True)
class ViolationRecord:
    """The first rule ``sender`` broke in its direction: ``verdict`` as the
    receiving side reads it, ``where`` the frame that broke it starts."""

    connection: int
    sender: str
    verdict: Verdict
    where: Where | None


@dataclass(slots=True)
class NoteRecord:
    """Something about the connection: the handshake, a gap, inferred roles."""

    connection: int
    text: str


Record = FrameRecord | ViolationRecord | NoteRecord


@dataclass
class Direction:
    """What one side sent (``sender``: "client" or "server") and how it is read.

    ``phase``: "start" (nothing yet), "head" (an HTTP head), "wait" (after a
    request, until the answer), "ws" (WebSocket frames), "off" (not followed:
    not WebSocket, a violation, a gap).
    """

    phase: str = "start"
    sender: str = "?"
    dissector: Dissector | None = None
    head: HeadReader | None = None
    early: bytes = b""               # bytes after the request, before the answer
    undecided: bytes = b""           # "start": first bytes too few to tell what they are
    ws_start: int = 0                # stream offset where the WebSocket bytes start
    places: deque[tuple[int, int, Where]] = field(default_factory=deque)
    frames: int = 0
    messages: int = 0
    compressed: int = 0
    pings: int = 0
    pongs: int = 0
    payload_bytes: int = 0
    close: tuple[int | None, str] | None = None
    close_where: Where | None = None
    violation: ViolationRecord | None = None
    gap: str | None = None
    verdict: Verdict | None = None

    def where(self, offset: int) -> Where | None:
        """The packet and byte of stream offset ``offset``, if still known."""
        for start, end, where in self.places:
            if start <= offset < end:
                return Where(where.packet, where.byte + offset - start, where.time)
        return None

    def note_place(self, start: int, end: int, where: Where) -> None:
        """Stream bytes [start, end) were seen at ``where``.

        Only two places are ever asked for: where the frame in progress
        starts (the first kept, once `forget_before` dropped those before it)
        and the newest (where a frame may start next). The ones between lie
        inside the frame in progress and are dropped: a frame arriving in
        thousands of reads keeps two places, not thousands.
        """
        places = self.places
        if len(places) >= 2:
            places.pop()
        places.append((start, end, where))

    def forget_before(self, offset: int) -> None:
        """Drop the places of bytes before ``offset`` (memory stays bounded)."""
        places = self.places
        while places and places[0][1] <= offset:
            places.popleft()


class Session:
    """Follow one connection. ``a`` is the side that opened it (or spoke first).

    Args:
        number: the connection's number in the capture (or the proxy's count).
        a, b: the endpoints, as text ("127.0.0.1:9001").
        opened: True if the connection's start (the SYN, or the proxy's
            accept) was seen: then bytes that are not an HTTP Upgrade mean it
            is not a WebSocket connection. False: the capture started later,
            roles are inferred from the masking bits.
        max_message_size: the limit both directions are read with (frames
            too); a 1009 then means "over this", not necessarily over the
            endpoints' limits, which a capture does not show.
        deflate: permessage-deflate parameters to assume when the handshake
            is not in the capture.
    """

    def __init__(self, number: int, a: str, b: str, *, opened: bool,
                 max_message_size: int | None = CAPTURE_MAX_MESSAGE_SIZE,
                 deflate: DeflateParams | None = None) -> None:
        self.number = number
        self.endpoints = {"a": a, "b": b}
        self.opened = opened
        self.max_message_size = max_message_size
        self.assumed_deflate = deflate
        self.kind = "unknown"            # "websocket", "http", "other" once known
        self.request: Head | None = None
        self.response: Head | None = None
        self.extensions = ""
        self.handshake_error: str | None = None   # why the 101 answer is not valid
        self.roles_inferred = False
        self.client: str | None = None   # "a" or "b", once known
        self.ended = ""                  # how TCP ended, for the summary
        self.directions = {"a": Direction(), "b": Direction()}
        self.notes: list[str] = []       # every NoteRecord's text, in order

    @staticmethod
    def _other(side: str) -> str:
        return "b" if side == "a" else "a"

    def _note(self, text: str) -> NoteRecord:
        self.notes.append(text)
        return NoteRecord(self.number, text)

    # -- input ------------------------------------------------------------------------------

    def feed(self, side: str, offset: int, data: bytes, where: Where) -> list[Record]:
        """Bytes ``side`` ("a" or "b") sent, at its stream ``offset``, seen at ``where``."""
        direction = self.directions[side]
        if direction.phase == "off" or not data:
            return []
        direction.note_place(offset, offset + len(data), where)
        out: list[Record] = []
        if direction.phase == "start":
            if direction.undecided:
                offset -= len(direction.undecided)
                data, direction.undecided = direction.undecided + data, b""
            if self._undecided(data):
                direction.undecided = data
                return out
            self._start(side, offset, data, out)
        if direction.phase == "head":
            self._head(side, offset, data, out)
        elif direction.phase == "wait":
            direction.early += data
            if len(direction.early) > _MAX_EARLY:
                direction.phase = "off"
                out.append(self._note(f"the {direction.sender} sent more than {_MAX_EARLY:,} "
                                      "bytes before the handshake ended: not followed"))
        elif direction.phase == "ws":
            out += self._dissect(side, data, where)
        return out

    def _undecided(self, data: bytes) -> bool:
        """Too few of a side's first bytes to tell what they are: the start of
        an HTTP head, or (a capture that starts later) a frame, whose second
        byte holds the masking bit."""
        if self.kind == "websocket" or len(data) >= _MAX_UNDECIDED:
            return False
        return _HTTP_PREFIX.fullmatch(data) is not None or (not self.opened and len(data) < 2)

    def _start(self, side: str, offset: int, data: bytes, out: list[Record]) -> None:
        direction = self.directions[side]
        if self.kind == "websocket":
            # The other side's first bytes decided the roles (mid-stream capture).
            direction.phase, direction.ws_start = "ws", offset
            return
        if _REQUEST_LINE.match(data) or data.startswith(b"HTTP/"):
            direction.phase = "head"
            direction.head = HeadReader(_MAX_HEAD)
            return
        if self.opened or len(data) < 2:
            self._not_websocket("its first bytes are not an HTTP request", out)
            return
        # The capture started after the handshake: a client masks its frames.
        masked = bool(data[1] & 0x80)
        self.client = side if masked else self._other(side)
        self.roles_inferred = True
        out.append(self._note(
            f"the handshake is not in the capture: {self._name(self.client)} is taken as the "
            f"client, since its frames are {'masked' if masked else 'not masked'} "
            f"(RFC 6455 5.1)" + ("" if self.assumed_deflate else
                                 "; no permessage-deflate assumed (see --deflate)")))
        self._establish(self.assumed_deflate)
        direction.phase, direction.ws_start = "ws", offset

    def _head(self, side: str, offset: int, data: bytes, out: list[Record]) -> None:
        direction = self.directions[side]
        assert direction.head is not None
        try:
            head = direction.head.feed(data)
        except ValueError as exc:           # HandshakeError, or any other bad input
            self._not_websocket(f"its HTTP head is not valid: {exc}", out)
            return
        if head is None:
            return
        remainder = direction.head.remainder
        direction.head = None
        direction.ws_start = offset + len(data) - len(remainder)
        direction.early = remainder
        direction.phase = "wait"
        direction.forget_before(direction.ws_start)
        if head.start_line[0].startswith("HTTP/"):
            self._response(side, head, out)
        else:
            self._request(side, head, out)

    def _request(self, side: str, head: Head, out: list[Record]) -> None:
        self.request = head
        self.client = side
        method, target, _version = head.start_line
        upgrade = (head.get("Upgrade") or "").lower()
        if "websocket" not in upgrade:
            self.kind = "http"
            out.append(self._note(f"HTTP request {method} {target}, not a WebSocket "
                                  "upgrade: not followed"))
            self._off()
            return
        out.append(self._note(f"{self._name(side)} asks to upgrade: {method} {target}"
                              + _offered(head)))

    def _response(self, side: str, head: Head, out: list[Record]) -> None:
        self.response = head
        _version, status, reason = head.start_line
        if self.request is None:
            self._not_websocket("an HTTP response without a request in the capture", out)
            return
        if status != "101":
            self.kind = "http"
            out.append(self._note(f"{self._name(side)} refuses the upgrade: {status} {reason}"))
            self._off()
            return
        self.extensions = head.get("Sec-WebSocket-Extensions") or ""
        problems = ""
        key = self.request.get("Sec-WebSocket-Key")
        try:
            check_response(head, key or "", subprotocols=_offered_protocols(self.request))
        except ValueError as exc:
            # HandshakeError, or any ValueError of the helpers on hostile input
            # (a non-ASCII key): the handshake is invalid, the frames still read.
            self.handshake_error = str(exc)
            problems = f"; the handshake is invalid: {exc}"
        params = None
        if self.extensions:
            try:
                params = DeflateParams.from_header(self.extensions)
            except ValueError as exc:
                out.append(self._note(f"extensions {self.extensions!r} not understood ({exc}); "
                                      "frames are read without them"))
        agreed = f", {self.extensions}" if self.extensions else ", no extension"
        out.append(self._note(f"{self._name(side)} accepts: 101 {reason}{agreed}{problems}"))
        self._establish(params)
        for name in ("a", "b"):
            waiting = self.directions[name]
            if waiting.phase == "wait":
                waiting.phase = "ws"
                early, waiting.early = waiting.early, b""
                if early:
                    last = waiting.places[-1][2] if waiting.places else Where(0, 0)
                    out += self._dissect(name, early, last)

    def _establish(self, params: DeflateParams | None) -> None:
        """Roles known: a dissector for each direction, as its receiver reads it."""
        self.kind = "websocket"
        assert self.client is not None
        for side, direction in self.directions.items():
            is_client = side == self.client
            direction.sender = "client" if is_client else "server"
            receiver = Role.SERVER if is_client else Role.CLIENT
            extensions = [PerMessageDeflate(receiver, params)] if params is not None else []
            direction.dissector = Dissector(receiver, max_message_size=self.max_message_size,
                                            max_frame_size=self.max_message_size,
                                            extensions=extensions, keep=CAPTURE_KEEP)

    def _not_websocket(self, why: str, out: list[Record]) -> None:
        self.kind = "other"
        out.append(self._note(f"not a WebSocket connection: {why}"))
        self._off()

    def abandon(self, why: str) -> NoteRecord:
        """Stop following this connection; the note says ``why``."""
        self._off()
        return self._note(f"not followed any further: {why}")

    def _off(self) -> None:
        for direction in self.directions.values():
            direction.phase = "off"
            direction.places.clear()

    def _name(self, side: str) -> str:
        return self.endpoints[side]

    # -- frames -----------------------------------------------------------------------------

    def _dissect(self, side: str, data: bytes, where: Where) -> list[Record]:
        direction = self.directions[side]
        dissector = direction.dissector
        assert dissector is not None
        out: list[Record] = []
        views = dissector.feed(data)
        for view in views:
            self._count(direction, view, where)
            out.append(FrameRecord(self.number, direction.sender, view, where))
        error = dissector.error
        if error is not None:
            verdict = dissector.finish()
            direction.verdict = verdict
            record = ViolationRecord(self.number, direction.sender, verdict,
                                     direction.where(direction.ws_start + error.offset))
            direction.violation = record
            direction.phase = "off"
            direction.places.clear()
            out.append(record)
        elif views:
            last = views[-1]
            direction.forget_before(direction.ws_start + last.offset + last.size)
        return out

    @staticmethod
    def _count(direction: Direction, view: FrameView, where: Where) -> None:
        frame = view.frame
        direction.frames += 1
        direction.payload_bytes += view.length
        if view.message is not None:
            direction.messages += 1
            direction.compressed += view.compressed
        if frame.opcode is Opcode.PING:
            direction.pings += 1
        elif frame.opcode is Opcode.PONG:
            direction.pongs += 1
        elif frame.opcode is Opcode.CLOSE and direction.close is None:
            direction.close = parse_close_payload(frame.payload)
            direction.close_where = where

    def gap(self, side: str, offset: int, missing: int | None, where: Where,
            why: str) -> list[Record]:
        """The capture lacks ``side``'s bytes from stream ``offset`` on."""
        direction = self.directions[side]
        if direction.phase == "off":
            return []
        direction.phase = "off"
        direction.places.clear()
        amount = f"{missing:,} bytes" if missing else "bytes"
        direction.gap = (f"{amount} missing from stream byte {offset:,} (packet {where.packet}): "
                         f"{why}")
        sender = direction.sender if direction.sender != "?" else self._name(side)
        return [self._note(f"gap in what the {sender} sent: {direction.gap}; the rest of "
                           "this direction is not dissected (nothing is guessed across a gap)")]

    # -- the end ------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        """What happened on this connection, as plain data (see `summary_lines`)."""
        out: dict[str, Any] = {"connection": self.number, "kind": self.kind}
        if self.client is not None:
            server = self._other(self.client)
            out["client"] = self.endpoints[self.client]
            out["server"] = self.endpoints[server]
        else:
            out["endpoints"] = [self.endpoints["a"], self.endpoints["b"]]
        if self.request is not None:
            out["request"] = " ".join(self.request.start_line[:2])
        if self.response is not None:
            out["response"] = " ".join(self.response.start_line[1:])
        out["extensions"] = self.extensions
        out["handshake_error"] = self.handshake_error
        out["roles_inferred"] = self.roles_inferred
        out["tcp_end"] = self.ended
        if self.kind != "websocket":
            return out
        directions = {}
        for direction in self.directions.values():
            if direction.verdict is None and direction.dissector is not None:
                direction.verdict = direction.dissector.finish()
            verdict = direction.verdict
            entry: dict[str, Any] = {
                "frames": direction.frames, "messages": direction.messages,
                "compressed_messages": direction.compressed, "pings": direction.pings,
                "pongs": direction.pongs, "payload_bytes": direction.payload_bytes,
                "close": None, "gap": direction.gap, "violation": None,
                "pending_bytes": verdict.pending if verdict else 0,
            }
            if direction.close is not None:
                code, reason = direction.close
                entry["close"] = {"code": code, "reason": reason,
                                  "name": explain(code).name if code is not None else None,
                                  "packet": direction.close_where.packet
                                  if direction.close_where else None}
            if direction.violation is not None:
                entry["violation"] = violation_json(direction.violation)
            directions[f"{direction.sender}_to_{_peer(direction.sender)}"] = entry
        out["directions"] = directions
        out["closing_handshake"] = self._closing()
        return out

    def _closing(self) -> str:
        """Who closed, with what, and whether the other side answered."""
        sent = [d for d in self.directions.values() if d.close is not None]
        failed = [d for d in self.directions.values() if d.violation is not None]
        gapped = sorted(d.sender for d in self.directions.values()
                        if d.gap is not None and d.close is None)
        missed = "; a Close frame from the " + " or the ".join(gapped) + \
            " may have been in the bytes the capture missed" if gapped else ""
        if not sent:
            if failed:
                return "no Close frame: the connection broke off after a violation" + missed
            return "no Close frame" + (f" (TCP {self.ended})" if self.ended else "") + missed
        # (time, then packet: a capture numbers packets across both directions,
        # the proxy counts reads per direction but stamps them with one clock)
        sent.sort(key=lambda d: (d.close_where.time, d.close_where.packet)
                  if d.close_where else (0.0, 0))
        first = sent[0]
        assert first.close is not None
        code, reason = first.close
        said = _close_text(code, reason)
        text = f"the {first.sender} closed first: {said}"
        if len(sent) == 2:
            assert sent[1].close is not None
            answer_code, answer_reason = sent[1].close
            same = (answer_code, answer_reason) == (code, reason)
            text += f"; the {sent[1].sender} answered " + (
                "with the same code" if answer_code == code and not same else
                "with the same code and reason" if same else
                _close_text(answer_code, answer_reason))
        elif _peer(first.sender) in gapped:
            # A gap in the other direction: its Close was most likely in it.
            text += (f"; no Close frame seen from the {_peer(first.sender)}: it may have "
                     "been in the bytes the capture missed")
        else:
            text += f"; the {_peer(first.sender)} sent no Close frame"
        return text


def _peer(sender: str) -> str:
    return {"client": "server", "server": "client"}.get(sender, "?")


def _close_text(code: int | None, reason: str) -> str:
    if code is None:
        return "Close without a code (1005)"
    return f"Close {code} ({explain(code).name})" + (f", reason {reason!r}" if reason else "")


def _offered(head: Head) -> str:
    extensions = head.get("Sec-WebSocket-Extensions")
    return f", offering {extensions}" if extensions else ""


def _offered_protocols(head: Head) -> list[str]:
    value = head.get("Sec-WebSocket-Protocol")
    return [p.strip() for p in value.split(",")] if value else []


def violation_json(record: ViolationRecord) -> dict[str, Any]:
    """A violation as plain data."""
    error = record.verdict.error
    assert error is not None
    return {
        "sender": record.sender, "packet": record.where.packet if record.where else None,
        "packet_byte": record.where.byte if record.where else None,
        "stream_offset": error.offset, "reason": error.reason, "code": error.code,
        "code_name": explain(error.code).name, "rule": error.violation.rule,
        "name": error.violation.name, "rfc": error.rfc, "section": error.section,
        "reply_hex": record.verdict.reply.hex() if record.verdict.reply else None,
    }

