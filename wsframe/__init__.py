"""wsframe: a pure-Python, sans-I/O codec for RFC 6455 WebSocket framing.

Bytes in, frames or messages out; messages in, bytes out. wsframe never opens
a socket, never sleeps and never reads a clock: the caller owns all I/O.
"""

import importlib.machinery as _machinery

from . import decoder as _decoder
from .builders import build_close, build_frame, fit_close, parse_close_payload
from .close_codes import CloseCode, may_be_sent
from .connection import Connection, State
from .errors import ConnectionClosed, ProtocolError, Violation
from .frame import Frame
from .messages import (
    DEFAULT_MAX_MESSAGE_SIZE,
    BinaryChunk,
    BinaryMessage,
    CloseReceived,
    Event,
    MessageReader,
    MessageWriter,
    Ping,
    Pong,
    TextChunk,
    TextMessage,
)
from .opcodes import Opcode
from .parser import DEFAULT_MAX_FRAME_SIZE, FrameParser
from .roles import Role

__version__ = "0.1.0"

#: True when the mypyc-compiled build is loaded (``WSFRAME_MYPYC=1 pip install .``),
#: False for pure Python. ``wsframe --version`` says it too.
COMPILED: bool = _decoder.__file__ is not None and _decoder.__file__.endswith(
    tuple(_machinery.EXTENSION_SUFFIXES))

__all__ = [
    "COMPILED",
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "BinaryChunk",
    "BinaryMessage",
    "CloseCode",
    "CloseReceived",
    "Connection",
    "ConnectionClosed",
    "Event",
    "Frame",
    "FrameParser",
    "MessageReader",
    "MessageWriter",
    "Opcode",
    "Ping",
    "Pong",
    "ProtocolError",
    "Role",
    "State",
    "TextChunk",
    "TextMessage",
    "Violation",
    "build_close",
    "build_frame",
    "fit_close",
    "may_be_sent",
    "parse_close_payload",
]
