"""Serving the lab: a listening socket tuned for small request/response pairs, and a bounded uvicorn server.

The server's bounds on clients (docs/lab.md lists them with the app's own, bounds.py and security.py):

- `KEEP_ALIVE_SECONDS`: an idle keep-alive connection is closed after this long (uvicorn's
  `timeout_keep_alive`).
- `HEAD_SECONDS`: a request's line and headers must arrive within this long of the connection
  opening or of the previous response; uvicorn has no such deadline (encode/uvicorn#157), so a
  client sending its headers a byte at a time would hold a connection forever.
  `BoundedH11Protocol` adds it.
- `MAX_HEADER_BYTES`: larger request heads are refused with 400 (h11's `max_incomplete_event_size`).
- `MAX_CONNECTIONS`: past this many open connections, new requests get 503 (uvicorn's
  `limit_concurrency`); the page needs a handful.
- `STALL_SECONDS`: a client that takes nothing we send for this long, while more than 64 KiB wait
  for it (a never-reading event stream, a stuck script), is cut off (the connection aborted);
  uvicorn would wait for it forever. `BoundedH11Protocol` adds this one too.
- `SEND_BUFFER_BYTES`: each connection's kernel send buffer (SO_SNDBUF, which Linux doubles) instead
  of autotuning up to 4 MB, so a client that stops reading holds little memory and is noticed soon.
- `SHUTDOWN_SECONDS`: on Ctrl-C, requests still running after this long are cancelled (uvicorn's
  `timeout_graceful_shutdown`); event streams are ended first, so they do not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn  # the `lab` extra: this module is imported only when serving
from uvicorn.protocols.http.h11_impl import H11Protocol

from mnistlab.errors import ConfigError

KEEP_ALIVE_SECONDS = 5
HEAD_SECONDS = 10.0
STALL_SECONDS = 10.0
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 256
SEND_BUFFER_BYTES = 256 * 1024
SHUTDOWN_SECONDS = 5


def lab_url(host: str, port: int, token: str | None) -> str:
    """The address to open: http://HOST:PORT/ with ?token=... when one is required."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def open_listener(host: str = "127.0.0.1", port: int = 0, *, send_buffer: int = SEND_BUFFER_BYTES) -> socket.socket:
    """A TCP socket listening on host:port (0: any free port), with Nagle's algorithm off.

    Uvicorn's h11 protocol writes a response's head and body separately; with Nagle on, the body
    waits for the client's delayed ACK of the head, adding ~40 ms to every keep-alive request
    (a draw -> prediction round trip included). Accepted sockets inherit TCP_NODELAY and the
    send buffer size (`send_buffer` bytes) on Linux. ConfigError when the address cannot be had.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port "
                          "(or --port 0 for any free one)") from None
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    return listener


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with two deadlines: the next request head within `head_seconds`, and a
    stalled reader (our writes paused, nothing taken) cut off after `stall_seconds`."""

    head_seconds = HEAD_SECONDS
    stall_seconds = STALL_SECONDS
    _stall: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def _arm_head_deadline(self) -> None:
        self.loop.call_later(self.head_seconds, self._head_deadline, self.cycle)

    def _head_deadline(self, cycle: Any) -> None:
        # Still the cycle of when the deadline was armed (none, or one whose response is sent): no new
        # request head arrived in time, or the old request's body is still trickling in after its answer.
        if self.cycle is cycle and (cycle is None or cycle.response_complete) and not self.transport.is_closing():
            # close() would wait for the client to take what is still buffered; it has had its time.
            if self.transport.get_write_buffer_size():
                self.transport.abort()
            else:
                self.transport.close()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall is None:
            self._stall = self.loop.call_later(self.stall_seconds, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel_stall()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_stall()
        super().connection_lost(exc)

    def _cancel_stall(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _stalled(self) -> None:
        # abort(), not close(): close() would wait for the stalled client to take the buffered data.
        # The response's writer then sees a disconnected client, as if it had left.
        self._stall = None
        if not self.transport.is_closing():
            self.transport.abort()


class LabServer(uvicorn.Server):
    """A uvicorn server that calls `on_shutdown` (ending the event streams) before its graceful shutdown."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.on_shutdown is not None:
            self.on_shutdown()
        await super().shutdown(sockets)


def make_server(app: Any, *, head_seconds: float = HEAD_SECONDS, stall_seconds: float = STALL_SECONDS) -> LabServer:
    """A bounded uvicorn server for `app` (quiet; ends its event streams first when it stops)."""
    protocol = type("LabH11Protocol", (BoundedH11Protocol,), {"head_seconds": head_seconds,
                                                              "stall_seconds": stall_seconds})
    config = uvicorn.Config(app, log_level="warning", lifespan="on", http=protocol,
                            timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=MAX_CONNECTIONS,
                            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                            timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    streams = getattr(getattr(app, "state", None), "streams", None)  # create_app's OpenStreams
    return LabServer(config, on_shutdown=streams.close_all if streams is not None else None)


@contextlib.contextmanager
def ctrl_c_interrupts() -> Iterator[None]:
    """While the lab serves, SIGINT raises KeyboardInterrupt even if the parent ignored it.

    A shell's `cmd &` (and some CI runners) start a process with SIGINT ignored. Uvicorn stops on
    SIGINT all the same, then re-raises it to the handler it found: an ignored one would end the lab
    with exit code 0 instead of 130. Trainings started from the page then also inherit a SIGINT they
    can act on, so the page's stop button interrupts them rather than waiting to send SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve(app: Any, listener: socket.socket) -> None:
    """Serve `app` on `listener` until Ctrl-C (`mnistlab lab`): a bounded server, SIGINT always heard."""
    with ctrl_c_interrupts():
        make_server(app).run(sockets=[listener])
