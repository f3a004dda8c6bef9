"""Looking inside one run's model for the page: confusion matrix, examples, weights, kernels, activations.

Each function takes a loaded model (`mnistlab.lab.models`) and returns JSON-ready data; images
travel as encoded stacks (`mnistlab.lab.encode`). Test-set predictions are computed once per model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnistlab.data import load
from mnistlab.errors import ConfigError
from mnistlab.insight import first_layer_kernels
from mnistlab.lab.encode import encode_maps, encode_pixels, encode_stack
from mnistlab.lab.models import CNNModel, MLPModel

MAX_EXAMPLES = 60


def test_set(dataset: str):
    """The test split of `dataset` (cached by the data layer)."""
    return load(dataset, "test")


def confusion(model: MLPModel | CNNModel) -> dict[str, Any]:
    """The test-set confusion matrix (rows: true class, columns: predicted), counts and accuracy."""
    test = test_set(model.dataset)
    predicted = model.test_predictions(test.images)
    n = len(test.class_names)
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (test.labels.astype(np.int64), predicted), 1)
    return {"class_names": list(test.class_names), "matrix": matrix.tolist(),
            "accuracy": float(np.trace(matrix) / max(matrix.sum(), 1))}


def examples(model: MLPModel | CNNModel, true: int | None, predicted: int | None,
             limit: int = MAX_EXAMPLES) -> dict[str, Any]:
    """Test images with true class `true` and predicted class `predicted` (None: any; both None: errors)."""
    test = test_set(model.dataset)
    guesses = model.test_predictions(test.images)
    n_classes = len(test.class_names)
    for name, value in (("true", true), ("predicted", predicted)):
        if value is not None and not 0 <= value < n_classes:
            raise ConfigError(f"{name}={value} is not a class; give 0..{n_classes - 1}")
    mask = np.ones(len(test.labels), dtype=bool)
    if true is not None:
        mask &= test.labels == true
    if predicted is not None:
        mask &= guesses == predicted
    if true is None and predicted is None:
        mask = test.labels != guesses  # misclassified
    index = np.flatnonzero(mask)
    shown = index[:max(0, min(limit, MAX_EXAMPLES))]
    return {"count": int(index.size), "index": shown.tolist(), "true": test.labels[shown].tolist(),
            "predicted": guesses[shown].tolist(), "images": encode_pixels(test.images[shown])}


def test_image(dataset: str, index: int) -> np.ndarray:
    """Test image number `index` as uint8 (1, 28, 28); ConfigError when out of range."""
    test = test_set(dataset)
    if not 0 <= index < len(test.labels):
        raise ConfigError(f"image={index} is out of range; choose 0..{len(test.labels) - 1}")
    return test.images[index:index + 1]


def mlp_weights(model: MLPModel) -> dict[str, Any]:
    """The first layer's weights as one 28x28 picture per hidden unit (absent after PCA/k-means)."""
    weights = model.first_layer_weights()
    return {"weights": None if weights is None else encode_stack(weights, signed=True),
            "layer_sizes": [int(model.classifier.coefs_[0].shape[0])] + [int(w.shape[1]) for w in model.classifier.coefs_]}


def mlp_activations(model: MLPModel, image: np.ndarray) -> list[dict[str, Any]]:
    """Each layer's activations for one image: [{"units", "values"}, ...], the last being the probabilities."""
    return [{"units": int(a.shape[1]), "values": np.round(a[0], 4).tolist()} for a in model.activations(image)]


def cnn_kernels(model: CNNModel) -> dict[str, Any]:
    """The first conv layer's kernels (n_maps, k, k), signed."""
    return encode_stack(first_layer_kernels(model.model), signed=True)


def cnn_maps(model: CNNModel, image: np.ndarray) -> dict[str, Any]:
    """Probabilities and every conv/pooling layer's maps for one image (1, 28, 28)."""
    with model.lock:
        probabilities, maps = model.forward(image)
    return {"probabilities": np.round(probabilities[0], 5).tolist(),
            "layers": [{"name": name, "maps": encode_maps(values[0])} for name, values in maps.items()]}


def strongest_maps(maps: np.ndarray, count: int = 8) -> list[dict[str, Any]]:
    """The `count` maps (h, w, c) with the highest mean activation: [{"map", "mean"}], strongest first."""
    means = maps.reshape(-1, maps.shape[-1]).mean(axis=0)
    order = np.argsort(-means)[:count]
    return [{"map": int(m), "mean": round(float(means[m]), 5)} for m in order]
