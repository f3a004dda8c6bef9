"""`POST /api/predict`: one drawing (or a 28x28 image) through the chosen runs' models.

`prepare` checks a request and loads its models; `answer` runs several drawings at once, one
forward pass per model (the lab batches drawings that arrive together, batching.py).

For an MLP run: class probabilities and every hidden layer's activations. For a CNN run:
class probabilities, every conv/pooling layer's feature maps and the most active maps of the
last conv layer (the page shows each beside its OIP when the run's gallery exists).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError, MnistlabError
from mnistlab.lab.drawing import SIZE, as_canvas, mnist_style
from mnistlab.lab.encode import encode_maps
from mnistlab.lab.inside import strongest_maps
from mnistlab.lab.models import CNNModel, MLPModel

MAX_MODELS = 4


def input_image(body: dict[str, Any]) -> np.ndarray:
    """The 28x28 uint8 image of a request: the drawing MNIST-style, or as given when "preprocess" is false."""
    canvas = as_canvas(body.get("image"))
    if body.get("preprocess", True):
        return mnist_style(canvas)
    if canvas.shape != (SIZE, SIZE):
        raise ConfigError(f"with preprocess false the image must be 28x28, got {canvas.shape}; "
                          "send the raw drawing with preprocess true")
    return np.rint(canvas).astype(np.uint8)


@dataclass
class Drawing:
    """A checked predict request: its 28x28 input, the models of its runs by name, whether to send insides."""

    image: np.ndarray
    models: dict[str, MLPModel | CNNModel]
    details: bool
    began: float = field(default_factory=time.perf_counter)


def prepare(body: dict[str, Any], runs: Callable[[str], tuple[Path, str, dict | None]],
            get_model: Callable[[Path, str, dict | None], MLPModel | CNNModel]) -> Drawing:
    """Check a predict request {"image", "runs": [names], "preprocess"?, "details"?} and load its models."""
    began = time.perf_counter()
    names = body.get("runs") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > MAX_MODELS:
        raise ConfigError(f"runs must be a list of up to {MAX_MODELS} run names; choose them in the Draw view")
    image = input_image(body)
    models = {name: get_model(*runs(name)) for name in names}
    return Drawing(image, models, bool(body.get("details", True)), began)


def answer(drawings: list[Drawing]) -> list[dict[str, Any]]:
    """Answer drawings together: one forward pass per model over every drawing that asks it."""
    askers: dict[int, tuple[MLPModel | CNNModel, list[tuple[int, str]]]] = {}
    for i, drawing in enumerate(drawings):
        for name, model in drawing.models.items():
            askers.setdefault(id(model), (model, []))[1].append((i, name))
    results: list[dict[str, Any]] = [{} for _ in drawings]
    for model, asked in askers.values():
        layers = _forward(model, np.stack([drawings[i].image for i, _ in asked]))
        for row, (i, name) in enumerate(asked):
            results[i][name] = _result(model, layers, row, drawings[i].details)
    return [{"input": d.image.tolist(), "results": {name: r[name] for name in d.models},
             "server_ms": round((time.perf_counter() - d.began) * 1000, 2)} for d, r in zip(drawings, results)]


def answer_requests(bodies: list[dict[str, Any]], runs: Callable[[str], tuple[Path, str, dict | None]],
                    get_model: Callable[[Path, str, dict | None], MLPModel | CNNModel]) -> list[dict | MnistlabError]:
    """Answer predict requests together; one that fails its checks gets its own error, the others their answers."""
    return answer_prepared(prepare_requests(bodies, runs, get_model))


def prepare_requests(bodies: list[dict[str, Any]], runs: Callable[[str], tuple[Path, str, dict | None]],
                     get_model: Callable[[Path, str, dict | None], MLPModel | CNNModel]) -> list[Drawing | MnistlabError]:
    """`prepare` each request: its Drawing, or the error that request alone gets."""
    prepared: list[Drawing | MnistlabError] = []
    for body in bodies:
        try:
            prepared.append(prepare(body, runs, get_model))
        except MnistlabError as exc:
            prepared.append(exc)
    return prepared


def answer_prepared(prepared: list[Drawing | MnistlabError]) -> list[dict | MnistlabError]:
    """`answer` the Drawings together; errors pass through in their places."""
    answers = iter(answer([p for p in prepared if isinstance(p, Drawing)]))
    return [p if isinstance(p, MnistlabError) else next(answers) for p in prepared]


def predict(body: dict[str, Any], runs: Callable[[str], tuple[Path, str, dict | None]],
            get_model: Callable[[Path, str, dict | None], MLPModel | CNNModel]) -> dict[str, Any]:
    """Answer one predict request on its own: input and results."""
    return answer([prepare(body, runs, get_model)])[0]


def predict_one(model: MLPModel | CNNModel, image: np.ndarray, details: bool) -> dict[str, Any]:
    """One model's answer for `image` (28, 28): probabilities, prediction and, with details, its insides."""
    return _result(model, _forward(model, image[None]), 0, details)


def _forward(model: MLPModel | CNNModel, batch: np.ndarray) -> dict[str, np.ndarray]:
    """The model's layers for `batch` (n, 28, 28): "output" (probabilities) and the insides the page shows."""
    if isinstance(model, MLPModel):
        *hidden, output = model.activations(batch)
        return {"output": output, **{f"hidden{i}": a for i, a in enumerate(hidden)}}
    with model.lock:
        probabilities, maps = model.forward(batch)
    return {"output": probabilities, **{name: maps[name] for name in model.conv_layers}}


def _result(model: MLPModel | CNNModel, layers: dict[str, np.ndarray], row: int, details: bool) -> dict[str, Any]:
    """Row `row` of a forward pass as the page shows it."""
    result: dict[str, Any] = {"kind": model.kind, "probabilities": layers["output"][row].round(5).tolist()}
    if details and isinstance(model, MLPModel):
        result["hidden"] = [np.round(a[row], 4).tolist() for key, a in layers.items() if key != "output"]
    elif details:
        conv = {name: layers[name][row] for name in model.conv_layers}
        last = model.conv_layers[-1]
        result["maps"] = [{"name": name, "maps": encode_maps(values)} for name, values in conv.items()]
        result["last_conv"] = {"name": last, "strongest": strongest_maps(conv[last])}
    result["prediction"] = int(np.argmax(result["probabilities"]))
    return result
