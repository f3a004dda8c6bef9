"""The route of two CNN runs side by side (matching.py): start the filter matching, follow it, read it.

    GET|POST /api/match?runs=A,B&layer=L&image=I   a pair of runs (layer: a conv layer, default the last)
    GET|POST /api/match?sweep=NAME&layer=L&image=I  a sweep's completed trials (two: a pair; more: the seeds)

POST starts the matching (202) unless it is kept already; GET gives its status, and once done the
result with, for a pair, the matched maps of test image I.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.lab import inside
from mnistlab.lab.matching import Matching, conv_layer, matched_maps, matching_of
from mnistlab.lab.models import CNNModel, wrap
from mnistlab.lab.params import NotFound, int_param
from mnistlab.lab.security import inside as inside_folder
from mnistlab.runs.catalog import load_run
from mnistlab.runs.kinds import KINDS
from mnistlab.runs.sweeps import expand_sweeps, is_sweep_dir


def _targets(request: Request) -> tuple[list[Path], list[str], Path | None]:
    """The run directories to match, their names, and the sweep directory when a sweep was asked for."""
    lab, params = request.app.state.lab, request.query_params
    if params.get("sweep"):
        folder = inside_folder(lab.runs_dir, params["sweep"])
        if folder is None or folder.parent != lab.runs_dir.resolve() or not is_sweep_dir(folder):
            raise NotFound(f"no sweep {params['sweep']!r} in the runs directory; give a sweep directory's name")
        paths = [Path(p).resolve() for p in expand_sweeps((folder,))]
        if any(not p.is_relative_to(lab.runs_dir.resolve()) for p in paths):
            raise NotFound(f"sweep {params['sweep']!r} has trials outside the runs directory; the lab shows only its own")
        return paths, [f"{folder.name}~{p.name}" for p in paths], folder
    names = [n for n in params.get("runs", "").split(",") if n]
    if len(names) != 2:
        raise ConfigError("matching compares two runs: /api/match?runs=RUN_A,RUN_B (or sweep=NAME for its seeds)")
    return [lab.run(name)[0] for name in names], names, None


def _cnn(request: Request, path: Path) -> CNNModel:
    """The cached model of the run at `path`, which must have conv layers to match."""
    record = load_run(path)
    model = request.app.state.lab.models.get(path, str(record.kind), record.config)
    if not isinstance(model, CNNModel):
        raise ModelFileError(f"{path.name} is a {record.kind} run; matching compares the conv layers of CNN runs")
    return model


def _fresh(paths: list[Path]) -> list[CNNModel]:
    """Models of their own for the background job (the cached ones keep answering the page meanwhile)."""
    return [wrap(KINDS[str(load_run(p).kind)].load_model(p)) for p in paths]


def _prepare(request: Request) -> tuple[Matching, list[CNNModel]]:
    paths, names, sweep = _targets(request)
    models = [_cnn(request, path) for path in paths]
    layer = conv_layer(models[0].model, request.query_params.get("layer") or None) if len(paths) == 2 else None
    return matching_of(paths, names, layer, sweep), models


async def api_match(request: Request) -> Response:
    """GET: the matching's status (and result, with the matched maps of `image`); POST: start it."""
    lab = request.app.state.lab
    matching, models = await run_in_threadpool(_prepare, request)
    if request.method == "POST":
        return JSONResponse(await run_in_threadpool(lab.matches.start, matching, lambda: _fresh(matching.paths)),
                            status_code=202)
    index = int_param(request, "image", 0)

    def work() -> dict[str, Any]:
        status = {**lab.matches.status(matching.result), "conv_layers": models[0].conv_layers,
                  "layer_asked": matching.layer}
        if status["status"] == "done" and status.get("kind") == "pair":
            image = inside.test_image(models[0].dataset, index)
            status.update(image=image[0].tolist(), image_index=index,
                          maps_of_image=matched_maps(status, models[0], models[1], image))
        return status

    return JSONResponse(await run_in_threadpool(work))


def match_routes() -> list[Route]:
    """The route above, for create_app."""
    return [Route("/api/match", api_match, methods=["GET", "POST"])]
