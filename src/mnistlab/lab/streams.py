"""The lab's event streams: a cap on how many are open, and ending them all when the server stops.

Event streams (`/api/events` and any path ending in `/events`) hold a connection for as long as
a page is open. `StreamLimit`, an ASGI middleware around every route, counts them: past
`max_streams` a new one is refused with 429, so forgotten tabs or a looping script cannot pile
streams up. `OpenStreams.close_all` ends every stream cleanly, as if its page had left; the
server calls it first when it stops, so Ctrl-C does not wait for open pages.

Events are never queued per client: each stream pulls what changed since it last wrote, so a
slow reader gets one coalesced update, never a backlog; a client that stops reading altogether is
cut off by the server (server.py, `STALL_SECONDS`). docs/lab.md lists every bound of the lab.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_STREAMS = 64  # a page opens one or two; 64 leaves room for many tabs, well below the connection limit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def is_stream_path(path: str) -> bool:
    """Whether `path` serves a server-sent event stream (counted against the limit)."""
    return path == "/api/events" or path.endswith("/events")


class OpenStreams:
    """The event streams open now (`count`) and a way to end them all (`close_all`)."""

    def __init__(self) -> None:
        self._ends: set[asyncio.Event] = set()
        self.closing = False

    @property
    def count(self) -> int:
        """How many event streams are open."""
        return len(self._ends)

    def close_all(self) -> None:
        """End every open stream (as if its client had left) and refuse new ones; call from the server's loop."""
        self.closing = True
        for end in self._ends:
            end.set()


class StreamLimit:
    """ASGI middleware: at most `max_streams` open event streams (429 past it), all ended by `close_all`."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, streams: OpenStreams,
                 max_streams: int = MAX_STREAMS) -> None:
        self.app, self.streams, self.max_streams = app, streams, max_streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_stream_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.streams.closing or self.streams.count >= self.max_streams:
            await _refuse(send, f"too many open event streams (limit {self.max_streams}); close some lab tabs "
                                "and reload")
            return
        end, state = asyncio.Event(), {"started": False, "complete": False}
        self.streams._ends.add(end)
        try:
            await self.app(scope, _until(receive, end), _tracking(send, state))
            if state["started"] and not state["complete"]:  # ended by close_all: finish the response cleanly
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.streams._ends.discard(end)


def _tracking(send: Send, state: dict[str, bool]) -> Send:
    """`send`, noting in `state` whether the response has started and completed."""

    async def send_and_note(message: dict) -> None:
        await send(message)
        if message["type"] == "http.response.start":
            state["started"] = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            state["complete"] = True

    return send_and_note


def _until(receive: Receive, end: asyncio.Event) -> Receive:
    """`receive`, answering "http.disconnect" once `end` is set (Starlette then stops the stream)."""

    async def receive_until_end() -> dict:
        message = asyncio.ensure_future(receive())
        ended = asyncio.ensure_future(end.wait())
        await asyncio.wait({message, ended}, return_when=asyncio.FIRST_COMPLETED)
        if message.done():
            ended.cancel()
            return message.result()
        message.cancel()
        return {"type": "http.disconnect"}

    return receive_until_end


async def _refuse(send: Send, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"5")]})
    await send({"type": "http.response.body", "body": body})
