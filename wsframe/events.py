"""The events a `MessageReader` delivers (and a `MessageWriter` can send).

Small immutable records, one per thing that happened on the wire: a whole
message, a piece of one (streaming mode), a control frame. They compare by
value, so tests and applications can match on them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["BinaryChunk", "BinaryMessage", "CloseReceived", "Event", "Ping", "Pong",
           "TextChunk", "TextMessage"]


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message (its UTF-8 already validated and decoded)."""

    text: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    """A complete binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class TextChunk:
    """Streaming mode: the next piece of a text message, as it arrived.

    ``final`` is True on the message's last piece. The pieces of one message
    concatenate to its text; a piece may be empty (e.g. the end of a message
    whose last frame was empty).
    """

    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class BinaryChunk:
    """Streaming mode: the next piece of a binary message, as it arrived."""

    data: bytes
    final: bool


@dataclass(frozen=True, slots=True)
class Ping:
    """A Ping control frame; answer it with ``MessageWriter.pong(payload)`` (5.5.2)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A Pong control frame (5.5.3)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's Close frame (5.5.1).

    ``code`` is the status code, or 1005 (`CloseCode.NO_STATUS_RCVD`, which
    RFC 6455 7.1.5 reserves for exactly this) when the frame had none, as
    ASGI and the browser API report it; ``reason`` is "" then.

    Send ``MessageWriter.close_reply(event)`` back (unless you sent a Close
    first), then close the TCP connection. The reader ignores all later bytes.
    """

    code: int
    reason: str


Event: TypeAlias = (
    TextMessage | BinaryMessage | TextChunk | BinaryChunk | Ping | Pong | CloseReceived)
