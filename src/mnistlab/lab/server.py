"""Serving the lab: a listening socket tuned for small request/response pairs, and a uvicorn server on it."""

from __future__ import annotations

import socket
from typing import Any


def open_listener(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket listening on host:port (0: any free port), with Nagle's algorithm off.

    Uvicorn's h11 protocol writes a response's head and body separately; with Nagle on, the body
    waits for the client's delayed ACK of the head, adding ~40 ms to every keep-alive request
    (a draw -> prediction round trip included). Accepted sockets inherit TCP_NODELAY on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def make_server(app: Any) -> Any:
    """A uvicorn server for `app` (quiet, with the lab's lifespan: shutting down stops its trainings)."""
    import uvicorn  # the `lab` extra: imported only when serving

    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
