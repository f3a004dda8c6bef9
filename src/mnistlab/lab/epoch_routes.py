"""The epoch slider's routes: a run's model as it was at each epoch (weights, kernels, maps, OIPs).

    GET  /api/runs/{run}/epochs                       the kept epochs and the views of the run's kind
    GET  /api/runs/{run}/epochs/{epoch}/weights       an MLP's first-layer weights at that epoch
    GET  /api/runs/{run}/epochs/{epoch}/kernels       a CNN's first conv kernels
    GET  /api/runs/{run}/epochs/{epoch}/maps?image=I  a CNN's feature maps of test image I
    GET|POST /api/runs/{run}/epochs/{epoch}/oip?layer=L   the OIP gallery: status / start computing

A bad epoch is one line: 400 when it is not a whole number, 404 when the run did not keep it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mnistlab.errors import MnistlabError
from mnistlab.lab import inside
from mnistlab.lab.epochs import epochs_of
from mnistlab.lab.oips import oip_file
from mnistlab.lab.params import int_param


def _epoch(request: Request) -> int:
    text = request.path_params["epoch"]
    try:
        epoch = int(text)
    except ValueError:
        raise MnistlabError(f"epoch={text!r} is not a whole number; pick one of /api/runs/RUN/epochs") from None
    if epoch < 0:
        raise MnistlabError(f"epoch={epoch} is negative; epochs count from 0 (the initial weights)")
    return epoch


def _model(request: Request, view: str) -> Any:
    lab = request.app.state.lab
    path, kind, config = lab.run(request.path_params["run"])
    return lab.epochs.get(path, kind, config, _epoch(request), view)


async def api_epochs(request: Request) -> Response:
    """GET /api/runs/{run}/epochs: {"epochs": [0, 1, ...], "views": [...]}."""
    path, kind, _ = request.app.state.lab.run(request.path_params["run"])
    return JSONResponse(await run_in_threadpool(epochs_of, path, kind))


async def api_weights(request: Request) -> Response:
    """An MLP's first-layer weights at the epoch."""
    return JSONResponse(await run_in_threadpool(lambda: {"epoch": _epoch(request),
                                                         **inside.mlp_weights(_model(request, "weights"))}))


async def api_kernels(request: Request) -> Response:
    """A CNN's first conv kernels at the epoch."""
    return JSONResponse(await run_in_threadpool(lambda: {"epoch": _epoch(request),
                                                         "kernels": inside.cnn_kernels(_model(request, "kernels"))}))


async def api_maps(request: Request) -> Response:
    """A CNN's feature maps of test image `image` at the epoch."""
    index = int_param(request, "image", 0)

    def work() -> dict[str, Any]:
        model = _model(request, "maps")
        image = inside.test_image(model.dataset, index)
        return {"epoch": _epoch(request), "image": image[0].tolist(), **inside.cnn_maps(model, image)}

    return JSONResponse(await run_in_threadpool(work))


async def api_oip(request: Request) -> Response:
    """GET: the epoch's OIP gallery (status, or the images); POST: start computing it in the background."""
    lab = request.app.state.lab
    path, _, _ = lab.run(request.path_params["run"])
    epoch = _epoch(request)
    target = oip_file(path, request.query_params.get("layer", ""), epoch)
    if request.method == "GET":
        return JSONResponse(await run_in_threadpool(lab.oips.status, target))
    model = await run_in_threadpool(_model, request, "oip")
    return JSONResponse(await run_in_threadpool(lab.oips.start, model, request.query_params["layer"], target),
                        status_code=202)


def epoch_routes() -> list[Route]:
    """The routes above, for create_app."""
    at = "/api/runs/{run}/epochs"
    return [Route(at, api_epochs), Route(f"{at}/{{epoch}}/weights", api_weights),
            Route(f"{at}/{{epoch}}/kernels", api_kernels), Route(f"{at}/{{epoch}}/maps", api_maps),
            Route(f"{at}/{{epoch}}/oip", api_oip, methods=["GET", "POST"])]
