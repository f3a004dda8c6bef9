"""The lab's guards: a token for non-loopback hosts, bounded request bodies, same-origin POSTs, safe paths.

`LabGuard` is a plain ASGI middleware wrapped around every route, so no route can forget a check.
Run names and file names coming from URLs are resolved against the runs directory and refused
unless the resolved path stays inside it (`..`, `%2e%2e`, absolute paths and symlinks out).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mnistlab.runs.rundir import is_run_dir
from mnistlab.runs.sweeps import SWEEP_FILE

TOKEN_COOKIE = "mnistlab_lab_token"
MAX_BODY_BYTES = 2 * 1024 * 1024  # a 280x280 drawing as JSON is ~0.4 MB; nothing the page sends is larger
BODY_SECONDS = 10.0  # the whole body must arrive within this long: a body sent a byte a second is cut off (408)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or address) only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random URL-safe token (128 bits)."""
    return secrets.token_urlsafe(16)


def inside(root: Path, *parts: str) -> Path | None:
    """`root/parts...` resolved (symlinks followed) if it exists and stays inside `root`, else None."""
    if any(not part or part == ".." or part.startswith("/") or "\\" in part or "\x00" in part for part in parts):
        return None
    base = root.resolve()
    try:
        path = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return path if path.is_relative_to(base) and path != base else None


TRIAL_SEPARATOR = "~"
"""A sweep's trial run is named `SWEEP~TRIAL` in the lab: its directory is `runs_dir/SWEEP/TRIAL`."""


def run_path(runs_dir: Path, run: str) -> Path | None:
    """The directory of run `run` (`is_run_dir`), else None: a direct child of `runs_dir`, or a
    sweep's trial `SWEEP~TRIAL` (a child of a sweep directory, one that holds sweep.json)."""
    if "/" in run or run.startswith("."):
        return None
    parts = run.split(TRIAL_SEPARATOR)
    if len(parts) > 2 or any(not part or part.startswith(".") for part in parts):
        return None
    path = inside(runs_dir, *parts)
    parent = runs_dir.resolve() / parts[0] if len(parts) == 2 else runs_dir.resolve()
    if path is None or path.parent != parent or not path.is_dir():
        return None
    if len(parts) == 2 and not (parent / SWEEP_FILE).is_file():
        return None
    return path if is_run_dir(path) else None


def sweep_path(runs_dir: Path, sweep: str) -> Path | None:
    """The directory of sweep `sweep`: a direct child of `runs_dir` holding sweep.json, else None."""
    if "/" in sweep or sweep.startswith(".") or TRIAL_SEPARATOR in sweep:
        return None
    path = inside(runs_dir, sweep)
    if path is None or path.parent != runs_dir.resolve():
        return None
    return path if (path / SWEEP_FILE).is_file() else None


def run_file(runs_dir: Path, run: str, name: str) -> Path | None:
    """A regular file inside run `run`'s directory, or None (traversal, symlinks out, hidden files)."""
    folder = run_path(runs_dir, run)
    if folder is None or any(part.startswith(".") for part in name.split("/")):
        return None
    path = inside(folder, *name.split("/"))
    return path if path is not None and path.is_file() else None


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}


def loopback_host_header(headers: dict[str, str]) -> bool:
    """Whether the Host header names this machine (127.x, localhost, [::1]), with any port.

    A page of another site that re-points its own name at 127.0.0.1 (DNS rebinding) sends its own
    name as Host; refusing it keeps such pages out of a lab served without a token.
    """
    host = headers.get("host", "")
    name = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
    return bool(name) and is_loopback(name)


def same_origin(headers: dict[str, str]) -> bool:
    """Whether the request's Origin (else Referer) names the host it was sent to (blocks cross-site POSTs)."""
    source = headers.get("origin") or headers.get("referer")
    host = headers.get("host")
    if not source or not host or source == "null":
        return False
    return urlsplit(source).netloc.lower() == host.lower()


class LabGuard:
    """ASGI middleware for every route: loopback Host or token (403), same-origin POSTs (403), body limit (413),
    body deadline (408: the body must arrive within `body_seconds`, then the connection is closed)."""

    def __init__(self, app: ASGIApp, *, token: str | None, max_body: int = MAX_BODY_BYTES,
                 body_seconds: float = BODY_SECONDS) -> None:
        self.app, self.token, self.max_body, self.body_seconds = app, token, max_body, body_seconds

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        given_in_query = self._query_token(scope)
        if self.token is None and not loopback_host_header(headers):
            await _reply(send, 403, "this lab answers only to 127.0.0.1/localhost; "
                                    "serve it with --host and a token to reach it otherwise")
            return
        if self.token is not None and not self._token_ok(headers, given_in_query):
            await _reply(send, 403, "a token is required: open the URL that `mnistlab lab` printed (…?token=…)")
            return
        if scope["method"] not in ("GET", "HEAD"):
            if not same_origin(headers):
                await _reply(send, 403, "cross-origin request refused: use the lab page itself")
                return
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
                await _reply(send, 413, f"request body too large (limit {self.max_body} bytes)")
                return
            try:
                async with asyncio.timeout(self.body_seconds):
                    body = await self._read_body(receive)
            except TimeoutError:
                await _reply(send, 408, f"request body not received within {self.body_seconds:g} s; send it at once",
                             close=True)
                return
            if body is None:
                await _reply(send, 413, f"request body too large (limit {self.max_body} bytes)")
                return
            receive = _replay(body)
        if self.token is not None and given_in_query is not None:
            send = _set_cookie(send, self.token)
        await self.app(scope, receive, send)

    @staticmethod
    def _query_token(scope: Scope) -> str | None:
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return values[0] if values else None

    def _token_ok(self, headers: dict[str, str], given_in_query: str | None) -> bool:
        cookie = SimpleCookie(headers.get("cookie", ""))
        candidates = [given_in_query, headers.get("x-lab-token"),
                      cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None]
        return any(c is not None and secrets.compare_digest(c, self.token) for c in candidates)

    async def _read_body(self, receive: Callable[[], Awaitable[dict]]) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Awaitable[dict]]:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _set_cookie(send: Callable[[dict], Awaitable[None]], token: str) -> Callable[[dict], Awaitable[None]]:
    async def send_with_cookie(message: dict) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return send_with_cookie


async def _reply(send: Callable[[dict], Awaitable[None]], status: int, error: str, *, close: bool = False) -> None:
    body = json.dumps({"error": error}).encode()
    # "Connection: close" makes uvicorn drop the connection after the reply, with any unread body.
    closing = [(b"connection", b"close")] if close else []
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *closing]})
    await send({"type": "http.response.body", "body": body})
