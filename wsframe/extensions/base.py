"""The extension interface: how an extension claims RSV bits and transforms messages.

RFC 6455 section 5.2 reserves RSV1-3 for extensions; a frame with an RSV bit
that no negotiated extension defines is a protocol violation (1002). An
extension here declares the bits it owns (``rsv_bits``: any of RSV1, RSV2,
RSV3); the decoder accepts them only on the first frame of a message (the
shape RFC 7692 defines for permessage-deflate) and keeps rejecting them
everywhere else. The message layer then asks each extension, in order, about
each message: on the way in, `incoming` gets the first frame's RSV bits that
this extension owns and may return a transform; on the way out, `outgoing`
may transform the payload, and the writer then sets all of the extension's
``rsv_bits`` on the message's first frame. With no extension, none of this
code runs.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import ProtocolError, Violation
from ..opcodes import Opcode

__all__ = ["Extension", "IncomingMessage", "OutgoingMessage", "TransformError"]


class TransformError(ProtocolError):
    """Input that a transform could not decode, after some that it could.

    ``output`` holds what the input turned into before the point where it
    broke. The message layer treats it like any other output (UTF-8 checks,
    the size limit, streaming) before it reports this error, so that events
    and errors are the same however the received bytes were split.
    """

    def __init__(self, violation: Violation, detail: str, output: bytes) -> None:
        super().__init__(violation, detail)
        self.output = output


class IncomingMessage(Protocol):
    """Transforms one received message, piece by piece."""

    def feed(self, data: bytes, final: bool, limit: int | None) -> bytes:
        """Transform the next piece of payload; ``final`` marks the message's end.

        ``limit`` is how many output bytes the message may still grow by (None:
        no limit). An implementation must not produce much more than that: it
        returns at most ``limit + 1`` bytes so the caller can detect the excess
        without the whole output ever being allocated. Raises ProtocolError
        (e.g. 1007) for undecodable input, without an offset: the message
        layer attaches the frame's (`ProtocolError.at`); `TransformError`
        when the piece produced output before it broke.
        """
        ...


class OutgoingMessage(Protocol):
    """Transforms one message sent piece by piece (`MessageWriter` with ``final=False``)."""

    def feed(self, data: bytes, final: bool) -> bytes:
        """Transform the next piece; ``final`` marks the message's last one.

        What it returns goes out as that piece's frame payload, at once: a
        receiver can read each piece as it arrives.
        """
        ...


class Extension(Protocol):
    """A negotiated extension, as the frame and message layers see it."""

    #: RSV bits this extension owns: 0x40 (RSV1), 0x20 (RSV2), 0x10 (RSV3).
    rsv_bits: int

    def incoming(self, opcode: Opcode, rsv: int) -> IncomingMessage | None:
        """Start receiving a TEXT or BINARY message. ``rsv`` holds the RSV bits
        of its first frame that this extension owns (``rsv & rsv_bits``).
        Return a transform, or None to leave the message to later extensions."""
        ...

    def outgoing(self, opcode: Opcode, payload: bytes) -> bytes | None:
        """Transform a message to send; the writer then sets ``rsv_bits`` on its
        first frame. None leaves it untouched (and the bits clear)."""
        ...

    # Optional: ``outgoing_pieces(opcode) -> OutgoingMessage | None`` starts a
    # message sent piece by piece; an extension without it leaves such
    # messages untransformed (see PerMessageDeflate.outgoing_pieces).
