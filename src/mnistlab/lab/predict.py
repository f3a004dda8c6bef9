"""`POST /api/predict`: one drawing (or a 28x28 image) through the chosen runs' models.

For an MLP run: class probabilities and every hidden layer's activations. For a CNN run:
class probabilities, every conv/pooling layer's feature maps and the most active maps of the
last conv layer (the page shows each beside its OIP when the run's gallery exists).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
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


def predict_one(model: MLPModel | CNNModel, image: np.ndarray, details: bool) -> dict[str, Any]:
    """One model's answer for `image` (28, 28): probabilities, prediction and, with details, its insides."""
    batch = image[None]  # (1, 28, 28)
    if isinstance(model, MLPModel):
        layers = model.activations(batch)
        result = {"kind": "mlp", "probabilities": layers[-1][0].round(5).tolist()}
        if details:
            result["hidden"] = [np.round(a[0], 4).tolist() for a in layers[:-1]]
    else:
        with model.lock:
            probabilities, maps = model.forward(batch)
        result = {"kind": "cnn", "probabilities": probabilities[0].round(5).tolist()}
        if details:
            conv = {name: maps[name][0] for name in model.conv_layers}
            last = model.conv_layers[-1]
            result["maps"] = [{"name": name, "maps": encode_maps(values)} for name, values in conv.items()]
            result["last_conv"] = {"name": last, "strongest": strongest_maps(conv[last])}
    result["prediction"] = int(np.argmax(result["probabilities"]))
    return result


def predict(body: dict[str, Any], runs: Callable[[str], tuple[Path, str, dict | None]],
            get_model: Callable[[Path, str, dict | None], MLPModel | CNNModel]) -> dict[str, Any]:
    """Answer a predict request: {"image", "runs": [names], "preprocess"?, "details"?} -> input and results."""
    began = time.perf_counter()
    names = body.get("runs") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > MAX_MODELS:
        raise ConfigError(f"runs must be a list of up to {MAX_MODELS} run names; choose them in the Draw view")
    image = input_image(body)
    details = bool(body.get("details", True))
    results = {}
    for name in names:
        run_dir, kind, config = runs(name)
        results[name] = predict_one(get_model(run_dir, kind, config), image, details)
    return {"input": image.tolist(), "results": results,
            "server_ms": round((time.perf_counter() - began) * 1000, 2)}
