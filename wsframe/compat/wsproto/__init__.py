"""wsproto 1.3's public API on wsframe: `WSConnection` and the modules around it.

Programs written for wsproto (hypercorn, trio-websocket, simple-websocket,
uvicorn's ``--ws wsproto``, ...) run on wsframe's codec through this
package. It is never installed under the name ``wsproto``: `install` makes
``import wsproto`` (and ``wsproto.events``, ``wsproto.connection``, ...)
resolve here for the current process, and ``python -m
wsframe.compat.wsproto PROGRAM [ARGS...]`` runs a program with it
installed. Without either, nothing changes.

What is reproduced: `WSConnection`, `ConnectionType`, `ConnectionState`,
`connection.Connection`, every event, `extensions.Extension` and
`extensions.PerMessageDeflate`, `handshake.H11Handshake` and the
negotiation helpers, `frame_protocol.CloseReason` and `Opcode`, the
`utilities` (errors and header helpers) and `typing.Headers`. What is not:
wsproto's frame-level internals (``FrameProtocol``, ``Buffer``, the
extension hooks at frame level), which no embedder uses. docs/embedding.md
lists where behaviour differs (wsframe is stricter in places).
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterable
from types import ModuleType

from .connection import Connection, ConnectionState, ConnectionType
from .events import Event
from .handshake import H11Handshake

__all__ = ["SUBMODULES", "Connection", "ConnectionState", "ConnectionType", "H11Handshake",
           "WSConnection", "WsprotoAlreadyImported", "install", "installed"]

#: The wsproto version whose API this reproduces.
__version__ = "1.3.2"

#: The submodules ``import wsproto.NAME`` finds after `install`.
SUBMODULES = ("connection", "events", "extensions", "frame_protocol", "handshake",
              "typing", "utilities")


class WSConnection:
    """One end of a WebSocket connection, from the opening handshake to the close.

    Args:
        connection_type: `ConnectionType.CLIENT` or `ConnectionType.SERVER`.
    """

    def __init__(self, connection_type: ConnectionType) -> None:
        self.client = connection_type is ConnectionType.CLIENT
        self.handshake = H11Handshake(connection_type)
        self.connection: Connection | None = None

    @property
    def state(self) -> ConnectionState:
        """The handshake's state until it succeeded, then the connection's."""
        if self.connection is None:
            return self.handshake.state
        return self.connection.state

    def initiate_upgrade_connection(self, headers: Iterable[tuple[bytes | str, bytes | str]],
                                    path: bytes | str) -> None:
        """Server: start from a request head read elsewhere (see `H11Handshake`)."""
        self.handshake.initiate_upgrade_connection(headers, path)

    def send(self, event: Event) -> bytes:
        """The bytes to send for ``event`` (a handshake event, then a connection one)."""
        if self.connection is None:
            data = self.handshake.send(event)
            self.connection = self.handshake.connection
            return data
        return self.connection.send(event)

    def receive_data(self, data: bytes | None) -> None:
        """Received bytes in, None when the transport ended; then iterate `events`."""
        if self.connection is None:
            self.handshake.receive_data(data)
            self.connection = self.handshake.connection
        else:
            self.connection.receive_data(data)

    def events(self) -> Generator[Event, None, None]:
        """The events received so far: the handshake's, then the connection's."""
        yield from self.handshake.events()
        if self.connection is not None:
            yield from self.connection.events()


class WsprotoAlreadyImported(RuntimeError):
    """`install` was called after the real wsproto was imported in this process."""


def installed() -> bool:
    """Whether ``import wsproto`` resolves to this package in this process."""
    return sys.modules.get("wsproto") is sys.modules[__name__]


def install() -> None:
    """Make ``import wsproto`` and its submodules resolve to this package.

    For the current process, whether or not wsproto is installed: the
    modules are entered in `sys.modules` under wsproto's names. Call it
    before anything imports wsproto; afterwards it raises
    `WsprotoAlreadyImported`, since objects made by the real wsproto would
    mix with these. Calling it again does nothing.
    """
    if installed():
        return
    this = sys.modules[__name__]
    real = sorted(name for name, module in sys.modules.items()
                  if (name == "wsproto" or name.startswith("wsproto."))
                  and module is not None and not _ours(module))
    if real:
        where = getattr(sys.modules.get(real[0]), "__file__", None)
        raise WsprotoAlreadyImported(
            f"wsproto was imported before wsframe.compat.wsproto.install() "
            f"({', '.join(real)} from {where}); call install() first, e.g. at the top of "
            "the program or with python -m wsframe.compat.wsproto PROGRAM")
    modules = {"wsproto": this}
    for name in SUBMODULES:
        __import__(f"{__name__}.{name}")
        modules[f"wsproto.{name}"] = sys.modules[f"{__name__}.{name}"]
    sys.modules.update(modules)


def _ours(module: ModuleType) -> bool:
    return getattr(module, "__name__", "").startswith(__name__)
