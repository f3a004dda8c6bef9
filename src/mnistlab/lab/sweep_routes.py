"""The sweep routes: start a sweep, its page's data (trials, curves, best), its options' importance, stop it.

The sweep page stays live through the runs table's event stream (`/api/events`): a sweep's row
changes whenever sweep.json does, and its trials' rows with every epoch, so the page reloads
`/api/sweeps/{sweep}` when one of them arrives. A refused spec is a ConfigError carrying the
CLI's one line: the app's error mapper answers HTTP 400 with it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mnistlab.errors import MnistlabError
from mnistlab.lab.importance import option_importance
from mnistlab.lab.params import NotFound
from mnistlab.lab.security import sweep_path
from mnistlab.lab.sweep_jobs import shipped_specs
from mnistlab.lab.sweeps import sweep_details
from mnistlab.runs.sweeps import SWEEP_FILE, SweepRecord, load_sweep


def _record(request: Request) -> SweepRecord:
    lab, name = request.app.state.lab, request.path_params["sweep"]
    path = sweep_path(lab.runs_dir, name)
    record = load_sweep(path) if path is not None else None
    if record is None:
        raise NotFound(f"no sweep {name!r} in the runs directory; sweeps are the rows with trials in /api/runs")
    return record


async def api_sweeps(request: Request) -> Response:
    """GET /api/sweeps: the shipped specs (name, about, text) and the sweeps this lab started."""
    lab = request.app.state.lab
    return JSONResponse({"specs": await run_in_threadpool(shipped_specs),
                         "jobs": await run_in_threadpool(lab.sweeps.list)})


async def api_start(request: Request) -> Response:
    """POST /api/sweeps {"spec": NAME} or {"toml": TEXT}: start `mnistlab sweep` once it accepts the spec."""
    try:
        body = await request.json()
    except ValueError:
        raise MnistlabError("the request body is not JSON; send {\"spec\": NAME} or {\"toml\": TEXT}") from None
    if not isinstance(body, dict):
        raise MnistlabError("the request body must be a JSON object: {\"spec\": NAME} or {\"toml\": TEXT}")
    return JSONResponse(await run_in_threadpool(request.app.state.lab.sweeps.start, body), status_code=202)


async def api_sweep(request: Request) -> Response:
    """GET /api/sweeps/{sweep}: status, spec, trials, curves of the metric, differing options, best trial."""
    record = await run_in_threadpool(_record, request)
    details = await run_in_threadpool(sweep_details, record)
    job = request.app.state.lab.sweeps.find(record.path.name)
    return JSONResponse({**details, "job": job.state() if job is not None else None})


@functools.lru_cache(maxsize=32)
def _importance(path: Path, stamp: tuple[int, int]) -> dict[str, Any]:
    """The importances of sweep `path` as its sweep.json stood at `stamp` (mtime_ns, size): computed once."""
    record = load_sweep(path)
    if record is None:
        raise NotFound(f"no sweep at {path.name}")
    details = sweep_details(record)
    finished = [t for t in details["trials"] if t["status"] in ("completed", "stopped")]
    return {**option_importance(finished, details["options"], details["metric"]), "metric": details["metric"]}


async def api_importance(request: Request) -> Response:
    """GET /api/sweeps/{sweep}/importance: each differing option's permutation importance, and how it was computed."""
    record = await run_in_threadpool(_record, request)
    info = (record.path / SWEEP_FILE).stat()
    return JSONResponse(await run_in_threadpool(_importance, record.path, (info.st_mtime_ns, info.st_size)))


async def api_stop(request: Request) -> Response:
    """POST /api/sweeps/{sweep}/stop: stop a sweep this lab started (its trials end, it is marked interrupted)."""
    lab, name = request.app.state.lab, request.path_params["sweep"]
    job = lab.sweeps.find(name)
    if job is None:
        raise NotFound(f"sweep {name!r} was not started by this lab; stop it where it runs (Ctrl-C)")
    return JSONResponse(await run_in_threadpool(lab.sweeps.stop, job))


def sweep_routes() -> list[Route]:
    """The routes of this module, for `create_app`."""
    return [Route("/api/sweeps", api_sweeps), Route("/api/sweeps", api_start, methods=["POST"]),
            Route("/api/sweeps/{sweep}", api_sweep), Route("/api/sweeps/{sweep}/importance", api_importance),
            Route("/api/sweeps/{sweep}/stop", api_stop, methods=["POST"])]
