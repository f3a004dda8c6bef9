"""Find layers of a CNN by name or index and build sub-models that return their outputs.

A "feature extractor" is a Keras model sharing the trained model's weights whose outputs are the
activations of chosen layers, the Keras-example way of looking inside a network
(`keras.Model(model.inputs, layer.output)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.cnn.io import load_model
from mnistlab.cnn.model import to_model_input
from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.insight.backend import import_keras

LayerRef = str | int
"""A layer given by its name ("conv3") or its index in `model.layers` (negative counts from the end)."""

_CONV_TYPES = ("Conv2D",)
_POOL_TYPES = ("MaxPooling2D", "AveragePooling2D")


def layer_kind(layer: Any) -> str:
    """Classify a layer as "conv", "pool", "dense" or "other" by its Keras class."""
    name = type(layer).__name__
    if name in _CONV_TYPES:
        return "conv"
    if name in _POOL_TYPES:
        return "pool"
    if name == "Dense":
        return "dense"
    return "other"


def describe_layers(model: Any) -> str:
    """One line listing the model's layers as `index:name`, for error messages."""
    return ", ".join(f"{i}:{layer.name}" for i, layer in enumerate(model.layers))


INPUT_SHAPES = ((28, 28, 1), (28, 28))  # what the insight tools feed: one 28x28 grey image


def check_cnn(model: Any) -> None:
    """Raise ConfigError unless `model` is a Keras model with at least one Conv2D layer."""
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ConfigError(f"expected a Keras model, got {type(model).__name__}; load one with mnistlab.insight.load_cnn")
    if not any(layer_kind(layer) == "conv" for layer in layers):
        raise ConfigError(
            f"model {getattr(model, 'name', '?')!r} has no Conv2D layer, so it isn't a CNN "
            f"(layers: {describe_layers(model)}); use a model saved by `mnistlab cnn train`"
        )
    input_shape = tuple(getattr(model, "input_shape", ()) or ())[1:]
    if input_shape not in INPUT_SHAPES:
        raise ConfigError(f"model {getattr(model, 'name', '?')!r} takes inputs of shape {input_shape}, not 28x28 "
                          "images; use a model trained on MNIST-like images by `mnistlab cnn train`")


def get_layer(model: Any, ref: LayerRef) -> Any:
    """Return the layer named `ref`, or at index `ref` in `model.layers`.

    Raises
    ------
    ConfigError
        If no such layer exists; the message lists the valid names and indices.
    """
    layers = model.layers
    if isinstance(ref, str) and ref.lstrip("-").isdigit():
        ref = int(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -len(layers) <= ref < len(layers):
            return layers[int(ref)]
        raise ConfigError(f"layer index {ref} is out of range; valid layers: {describe_layers(model)}")
    for layer in layers:
        if layer.name == ref:
            return layer
    raise ConfigError(f"no layer named {ref!r}; valid layers: {describe_layers(model)}")


def layers_of_kind(model: Any, kinds: Sequence[str] = ("conv", "pool")) -> list[Any]:
    """The model's layers whose `layer_kind` is in `kinds`, in order."""
    return [layer for layer in model.layers if layer_kind(layer) in kinds]


def last_conv_layer(model: Any) -> Any:
    """The model's last Conv2D layer (the one whose maps feed the dense head)."""
    check_cnn(model)
    return layers_of_kind(model, ("conv",))[-1]


def n_units(layer: Any) -> int:
    """Number of maps (conv/pool channels) or units (dense) a layer outputs."""
    return int(layer.output.shape[-1])


def check_map_index(layer: Any, index: int) -> int:
    """Return `index` if it names a map/unit of `layer`, else raise ConfigError with the valid range."""
    count = n_units(layer)
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or not 0 <= index < count:
        raise ConfigError(f"map index {index} is out of range for layer {layer.name!r}: valid 0..{count - 1}")
    return int(index)


def feature_extractor(model: Any, refs: Sequence[LayerRef]) -> Any:
    """A Keras model with `model`'s input and the outputs of the layers `refs` (shared weights)."""
    keras = import_keras()
    check_cnn(model)
    outputs = [get_layer(model, ref).output for ref in refs]
    return keras.Model(inputs=model_input(model), outputs=outputs)


def model_input(model: Any) -> Any:
    """The model's single input tensor (Keras warns when a one-input model gets a list)."""
    inputs = model.inputs
    if len(inputs) != 1:
        raise ConfigError(f"model {model.name!r} has {len(inputs)} inputs; these tools need a one-input image CNN")
    return inputs[0]


def predict_layers(model: Any, refs: Sequence[LayerRef], images: np.ndarray, batch_size: int = 500) -> list[np.ndarray]:
    """Activations of layers `refs` for `images` (n, 28, 28): one float32 array (n, ...) per layer."""
    extractor = feature_extractor(model, refs)
    x = to_model_input(images)
    chunks: list[list[np.ndarray]] = [[] for _ in refs]
    for start in range(0, len(x), batch_size):
        outputs = extractor(x[start:start + batch_size], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        for chunk, out in zip(chunks, outputs):
            chunk.append(np.asarray(_to_numpy(out), dtype=np.float32))
    return [np.concatenate(chunk) for chunk in chunks]


def _to_numpy(tensor: Any) -> np.ndarray:
    keras = import_keras()
    return keras.ops.convert_to_numpy(tensor)


def load_cnn(path: str | Path) -> Any:
    """Load a CNN saved as `.keras` (safe mode) and check it has Conv2D layers.

    Raises
    ------
    ModelFileError
        If the file is missing, is not a Keras model, or the model has no Conv2D layer.
    """
    path = Path(path)
    if path.is_dir() and (path / "model.keras").exists():
        path = path / "model.keras"
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist; pass a model.keras or its run directory")
    if path.suffix == ".npz":
        raise ModelFileError(f"{str(path)!r} is an MLP model (.npz); these tools need a CNN saved as .keras by `mnistlab cnn train`")
    if path.suffix != ".keras":
        raise ModelFileError(f"{str(path)!r} is not a .keras file; pass a model saved by `mnistlab cnn train`")
    model = load_model(path)
    try:
        check_cnn(model)
    except ConfigError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return model
