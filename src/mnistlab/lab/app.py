"""The lab's ASGI application: the page, its JSON API, the event stream and the run files.

`create_app(runs_dir)` returns a Starlette app; `mnistlab lab` serves it with uvicorn. Every
route passes through `LabGuard` (token, body limit, same-origin POSTs). Heavy work (loading a
model, a forward pass, a confusion matrix) runs in Starlette's thread pool, so the page and the
event stream stay responsive while it runs. docs/lab.md documents each route.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mnistlab.errors import MnistlabError, ModelFileError
from mnistlab.lab import inside
from mnistlab.lab.batching import Batcher
from mnistlab.lab.epoch_routes import epoch_routes
from mnistlab.lab.epochs import EpochModels
from mnistlab.lab.match_routes import match_routes
from mnistlab.lab.matching import MatchJobs
from mnistlab.lab.models import CNNModel, MLPModel, ModelCache
from mnistlab.lab.oips import OIPJobs, oip_file
from mnistlab.lab.params import NotFound, int_param
from mnistlab.lab.predict import Drawing, answer_prepared, prepare_requests
from mnistlab.lab.runs_index import RunIndex
from mnistlab.lab.runs_view import compare, run_details
from mnistlab.lab.security import BODY_SECONDS, MAX_BODY_BYTES, LabGuard, run_file, run_path
from mnistlab.lab.streams import MAX_STREAMS, OpenStreams, StreamLimit
from mnistlab.lab.sweep_jobs import SweepJobs
from mnistlab.lab.sweep_routes import sweep_routes
from mnistlab.lab.table_routes import RenderedPages, table_routes
from mnistlab.lab.training import TrainingJobs
from mnistlab.runs.kinds import KINDS
from mnistlab.runs.rundir import RunDir

STATIC = Path(__file__).parent / "static"
# Everything comes from the lab itself (no CDN); uPlot and the page set element styles.
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; frame-ancestors 'none'")


DRAW_LOOKUP_SECONDS = 1.0


class Lab:
    """The state behind the routes: the runs directory, the model cache and the background jobs."""

    def __init__(self, runs_dir: Path, poll_seconds: float = 0.5) -> None:
        self.runs_dir = Path(runs_dir)
        self.poll_seconds = poll_seconds
        self.models = ModelCache()
        # Drawings are checked and answered in batches (batching.py), those for MLP runs alone by a
        # thread of their own: a CNN batch takes 5-50 ms, an MLP one well under 1 ms, so an MLP
        # drawing must not queue behind one.
        self.draws = Batcher(self._answer_drawings, name="draw")
        self.mlp_draws = Batcher(self._answer_drawings, name="draw-mlp")
        self._mlp_runs: set[str] = set()  # runs whose model was an MLP when last drawn on
        self._draw_lookups: dict[str, tuple[float, tuple[Path, str, dict[str, Any] | None]]] = {}
        self.epochs = EpochModels(self.models)
        self.matches = MatchJobs()
        self.oips = OIPJobs()
        self.jobs = TrainingJobs(self.runs_dir)
        self.sweeps = SweepJobs(self.runs_dir)
        self.index = RunIndex(self.runs_dir, min_interval=poll_seconds / 2)
        self.pages = RenderedPages()  # /api/runs answers by cursor and query

    def run(self, name: str) -> tuple[Path, str, dict[str, Any] | None]:
        """A run's directory, kind and config; NotFound unless it is a run inside the runs directory."""
        path = run_path(self.runs_dir, name)
        if path is None:
            raise NotFound(f"no run {name!r} in the runs directory; pick one from /api/runs")
        run = RunDir(path)
        try:
            kind = run.info.get("kind")
        except (OSError, ValueError):
            kind = None
        try:
            config = run.read_config()
        except MnistlabError:
            config = None
        return path, str(kind), config

    def _answer_drawings(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any] | MnistlabError]:
        prepared = prepare_requests(bodies, self._draw_run, self.models.get)
        for drawing in prepared:
            if isinstance(drawing, Drawing):
                for name, model in drawing.models.items():
                    (self._mlp_runs.add if isinstance(model, MLPModel) else self._mlp_runs.discard)(name)
        return answer_prepared(prepared)

    def _draw_run(self, name: str) -> tuple[Path, str, dict[str, Any] | None]:
        """`run(name)`, kept for DRAW_LOOKUP_SECONDS: a drawing client asks every few ms, and the lookup
        (path checks, the run record, the config) cost a third of an MLP drawing's time; the model cache
        still checks the model file's mtime on every drawing."""
        now = time.monotonic()
        found = self._draw_lookups.get(name)
        if found is None or now - found[0] > DRAW_LOOKUP_SECONDS:
            found = self._draw_lookups[name] = (now, self.run(name))
        return found[1]

    def draw_queue(self, body: dict[str, Any]) -> Batcher:
        """The batcher of a predict request: MLP drawings apart once their runs are known to be MLPs."""
        names = body.get("runs")
        if isinstance(names, list) and names and all(isinstance(n, str) and n in self._mlp_runs for n in names):
            return self.mlp_draws
        return self.draws

    def model(self, name: str, kind: str | None = None) -> MLPModel | CNNModel:
        """The cached model of run `name`, checked to be of `kind` when given."""
        path, run_kind, config = self.run(name)
        if kind is not None and run_kind != kind:
            raise ModelFileError(f"run {name!r} is a {run_kind} run; this view needs a {kind} run")
        return self.models.get(path, run_kind, config)


def _lab(request: Request) -> Lab:
    return request.app.state.lab


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MnistlabError("the request body is not JSON; send a JSON object") from None
    if not isinstance(body, dict):
        raise MnistlabError("the request body must be a JSON object")
    return body


async def index(request: Request) -> Response:
    """The page (every view is drawn by its scripts)."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})


async def api_run(request: Request) -> Response:
    """GET /api/runs/{run}: one run's row, files, config, curves and problems."""
    path, _, _ = _lab(request).run(request.path_params["run"])
    return JSONResponse(await run_in_threadpool(run_details, path))


async def api_confusion(request: Request) -> Response:
    """GET /api/runs/{run}/confusion: the test-set confusion matrix."""
    lab, name = _lab(request), request.path_params["run"]
    return JSONResponse(await run_in_threadpool(lambda: inside.confusion(lab.model(name))))


async def api_examples(request: Request) -> Response:
    """GET /api/runs/{run}/examples: test images of a confusion cell, or the misclassified."""
    lab, name = _lab(request), request.path_params["run"]
    true, predicted = int_param(request, "true"), int_param(request, "predicted")
    limit = int_param(request, "limit", inside.MAX_EXAMPLES)
    return JSONResponse(await run_in_threadpool(lambda: inside.examples(lab.model(name), true, predicted, limit)))


async def api_weights(request: Request) -> Response:
    """GET /api/runs/{run}/weights: an MLP's first-layer weights as pictures."""
    lab, name = _lab(request), request.path_params["run"]
    return JSONResponse(await run_in_threadpool(lambda: inside.mlp_weights(lab.model(name, "mlp"))))


async def api_activations(request: Request) -> Response:
    """GET /api/runs/{run}/activations?image=I: an MLP's activations of test image I."""
    lab, name, index = _lab(request), request.path_params["run"], int_param(request, "image", 0)

    def work() -> dict[str, Any]:
        model = lab.model(name, "mlp")
        image = inside.test_image(model.dataset, index)
        return {"image": image[0].tolist(), "layers": inside.mlp_activations(model, image)}

    return JSONResponse(await run_in_threadpool(work))


async def api_kernels(request: Request) -> Response:
    """GET /api/runs/{run}/kernels: a CNN's first conv kernels."""
    lab, name = _lab(request), request.path_params["run"]
    return JSONResponse(await run_in_threadpool(lambda: {"kernels": inside.cnn_kernels(lab.model(name, "cnn"))}))


async def api_maps(request: Request) -> Response:
    """GET /api/runs/{run}/maps?image=I: a CNN's feature maps of test image I."""
    lab, name, index = _lab(request), request.path_params["run"], int_param(request, "image", 0)

    def work() -> dict[str, Any]:
        model = lab.model(name, "cnn")
        image = inside.test_image(model.dataset, index)
        return {"image": image[0].tolist(), **inside.cnn_maps(model, image)}

    return JSONResponse(await run_in_threadpool(work))


async def api_oip(request: Request) -> Response:
    """GET: the OIP gallery's status or images; POST: start computing it."""
    lab, name = _lab(request), request.path_params["run"]
    path, _, _ = lab.run(name)
    target = oip_file(path, request.query_params.get("layer", ""))
    if request.method == "GET":
        return JSONResponse(await run_in_threadpool(lab.oips.status, target))
    model = await run_in_threadpool(lab.model, name, "cnn")
    layer = request.query_params["layer"]
    return JSONResponse(await run_in_threadpool(lab.oips.start, model, layer, target), status_code=202)


async def api_compare(request: Request) -> Response:
    """GET /api/compare?runs=A,B: curves and config differences of several runs."""
    lab = _lab(request)
    names = [n for n in request.query_params.get("runs", "").split(",") if n]
    if len(names) < 2:
        raise MnistlabError("compare needs at least two runs: /api/compare?runs=RUN_A,RUN_B")
    paths = [lab.run(name)[0] for name in names]
    return JSONResponse(await run_in_threadpool(compare, paths))


async def api_predict(request: Request) -> Response:
    """POST /api/predict: a drawing through the chosen runs' models (with the drawings that arrive meanwhile)."""
    lab, body = _lab(request), await _json_body(request)
    return JSONResponse(await lab.draw_queue(body)(body))


async def api_kinds(request: Request) -> Response:
    """GET /api/kinds: each model kind with its presets, the names the CLI and a sweep spec accept."""
    return JSONResponse({"kinds": [{"name": kind.name, "presets": list(kind.presets),
                                    "default_preset": kind.default_preset} for kind in KINDS.values()]})


async def api_jobs(request: Request) -> Response:
    """GET /api/jobs: the trainings this lab started."""
    return JSONResponse({"jobs": await run_in_threadpool(_lab(request).jobs.list)})


async def api_train(request: Request) -> Response:
    """POST /api/train: start a training from the form's fields."""
    lab, body = _lab(request), await _json_body(request)
    return JSONResponse(await run_in_threadpool(lab.jobs.start, body), status_code=202)


async def api_stop(request: Request) -> Response:
    """POST /api/jobs/{job}/stop or /api/runs/{run}/stop: interrupt a training this lab started."""
    lab = _lab(request)
    job_id = request.path_params.get("job")
    job = lab.jobs.find(job_id=job_id, run=request.path_params.get("run"))
    if job is None:
        raise NotFound("no training started by this lab matches; only trainings started here can be stopped")
    return JSONResponse(await run_in_threadpool(lab.jobs.stop, job))


async def run_files(request: Request) -> Response:
    """GET /runs/{run}/{file}: a file from inside a run directory, else 404."""
    path = run_file(_lab(request).runs_dir, request.path_params["run"], request.path_params["file"])
    if path is None:
        return JSONResponse({"error": "no such file in the runs directory"}, status_code=404)
    # A run's HTML report must not act as the lab (same origin): sandbox it, and never sniff types.
    return FileResponse(path, headers={"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"})


async def _error(request: Request, exc: Exception) -> Response:
    status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, ModelFileError) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


def create_app(runs_dir: str | Path = "runs", *, token: str | None = None, max_body: int = MAX_BODY_BYTES,
               poll_seconds: float = 0.5, body_seconds: float = BODY_SECONDS,
               max_streams: int = MAX_STREAMS) -> Starlette:
    """The lab's Starlette app over `runs_dir`; with `token`, every request must carry it (query, header or cookie).

    `body_seconds` bounds a request body's arrival (security.py), `max_streams` the open event
    streams (streams.py); `app.state.streams` holds those, which `server.make_server` ends first
    when the server stops. Trainings started from the lab keep training when it stops (detached.py).
    """
    lab, streams = Lab(Path(runs_dir), poll_seconds), OpenStreams()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(lab.index.refresh)  # read every run once, before the first page asks
        yield
        lab.draws.close()
        lab.mlp_draws.close()

    run = "/api/runs/{run}"
    routes = [
        Route("/", index),
        *table_routes(),
        *sweep_routes(),
        Route(run, api_run),
        Route(f"{run}/confusion", api_confusion),
        Route(f"{run}/examples", api_examples),
        Route(f"{run}/weights", api_weights),
        Route(f"{run}/activations", api_activations),
        Route(f"{run}/kernels", api_kernels),
        Route(f"{run}/maps", api_maps),
        Route(f"{run}/oip", api_oip, methods=["GET", "POST"]),
        Route(f"{run}/stop", api_stop, methods=["POST"]),
        *epoch_routes(),
        *match_routes(),
        Route("/api/compare", api_compare),
        Route("/api/predict", api_predict, methods=["POST"]),
        Route("/api/kinds", api_kinds),
        Route("/api/jobs", api_jobs),
        Route("/api/train", api_train, methods=["POST"]),
        Route("/api/jobs/{job:int}/stop", api_stop, methods=["POST"]),
        Route("/runs/{run}/{file:path}", run_files),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={MnistlabError: _error},
                    middleware=[Middleware(LabGuard, token=token, max_body=max_body, body_seconds=body_seconds),
                                Middleware(StreamLimit, streams=streams, max_streams=max_streams)])
    app.state.lab, app.state.streams = lab, streams
    return app
