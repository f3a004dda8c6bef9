"""The runs table's routes: the rows a query keeps, their export, and the live event stream.

All three read the lab's `RunIndex` (runs_index.py), so a thousand runs are read once and then only
the runs whose files change. A bad query is a `QueryError`: the app's error mapper turns it into
HTTP 400 with its one line, which the page shows under the query box.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mnistlab.errors import MnistlabError
from mnistlab.lab.params import int_param
from mnistlab.lab.runs_index import RunIndex
from mnistlab.lab.selection import Selection, columns_for, export_csv, export_rows, select

KEEP_ALIVE_SECONDS = 15


def _index(request: Request) -> RunIndex:
    return request.app.state.lab.index


async def _selection(request: Request) -> tuple[Selection, list[str], str]:
    index, query = _index(request), request.query_params.get("q", "")
    rows, cursor = await run_in_threadpool(index.snapshot)
    selection = await run_in_threadpool(select, rows, query)
    return selection, columns_for(selection, request.query_params.get("columns", "")), cursor


class RenderedPages:
    """The latest /api/runs answers, encoded, by (cursor, query, columns).

    A table of a thousand runs takes tens of milliseconds of the GIL to select and encode, and
    every other request (a drawing's prediction too) waits meanwhile; a page asked again before
    any run changed (the cursor is the same) is sent as it was encoded the first time.
    """

    def __init__(self, size: int = 16) -> None:
        self._pages: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
            return self._pages.get(key)

    def put(self, key: tuple[str, str, str], body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)


async def api_runs(request: Request) -> Response:
    """GET /api/runs?q=QUERY&columns=A,B: the rows the query keeps, the columns to show, every field name."""
    index, pages = _index(request), request.app.state.lab.pages
    query, shown = request.query_params.get("q", ""), request.query_params.get("columns", "")
    await run_in_threadpool(index.refresh)
    body = pages.get((index.cursor, query, shown))
    if body is None:
        selection, columns, cursor = await _selection(request)
        body = await run_in_threadpool(lambda: JSONResponse(
            {"runs": selection.rows, "columns": columns, "differing": selection.differing,
             "fields": selection.fields, "cursor": cursor}).body)
        pages.put((cursor, query, shown), body)
    return Response(body, media_type="application/json")


async def api_export(request: Request) -> Response:
    """GET /api/export?format=csv|json&q=QUERY&columns=A,B: the shown rows as a download."""
    kind = request.query_params.get("format", "csv")
    if kind not in ("csv", "json"):
        raise MnistlabError(f"format={kind!r} is not an export format; use format=csv or format=json")
    selection, columns, _ = await _selection(request)
    headers = {"Content-Disposition": f'attachment; filename="runs.{kind}"'}
    if kind == "csv":
        return Response(export_csv(selection, columns), media_type="text/csv", headers=headers)
    return JSONResponse({"columns": columns, "runs": export_rows(selection, columns)}, headers=headers)


async def events(request: Request) -> Response:
    """Server-sent events: "runs" (the whole table) first, then "rows" with the runs that changed.

    With `?since=CURSOR` (the `cursor` of /api/runs, which the page has just read), the whole table
    is not sent again: the stream starts with the changes after it.
    """
    lab = request.app.state.lab
    max_events = int_param(request, "max_events")
    max_seconds = float(int_param(request, "max_seconds", 600) or 600)

    async def stream() -> AsyncIterator[str]:
        sent, began, quiet_since = 0, time.monotonic(), time.monotonic()
        yield "retry: 1000\n\n"
        version = lab.index.version_of(request.query_params.get("since"))
        if version is None:
            rows, cursor = await run_in_threadpool(lab.index.snapshot)
            version = lab.index.version_of(cursor)
            yield f"event: runs\ndata: {json.dumps({'runs': rows, 'cursor': cursor})}\n\n"
            sent += 1
        while time.monotonic() - began < max_seconds and (max_events is None or sent < max_events):
            changes = await run_in_threadpool(lab.index.changes, version)
            if changes.version != version:
                version, sent, quiet_since = changes.version, sent + 1, time.monotonic()
                payload = {"rows": changes.rows, "removed": changes.removed, "cursor": f"{lab.index.token}:{version}"}
                yield f"event: rows\ndata: {json.dumps(payload)}\n\n"
            elif time.monotonic() - quiet_since > KEEP_ALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(lab.poll_seconds)
            if await request.is_disconnected():
                return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def table_routes() -> list[Route]:
    """The routes of this module, for `create_app`."""
    return [Route("/api/runs", api_runs), Route("/api/export", api_export), Route("/api/events", events)]
