"""A flask-sock echo app (simple-websocket underneath): ``flask --app echo_flask
run``; "close" closes with 4001 "asked"; "which" answers the wsproto in use."""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from flask_sock import Sock

app = Flask(__name__)
app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": 32 * 2**20}
sock = Sock(app)


@sock.route("/")
def echo(ws: Any) -> None:
    """Echo every message until the client asks to close."""
    while True:
        message = ws.receive()
        if message == "close":
            ws.close(4001, "asked")
            return
        ws.send(sys.modules["wsproto"].__name__ if message == "which" else message)
