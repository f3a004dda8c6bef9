"""The CNN's configuration: a layer list plus training settings, validated where they enter.

`CNNConfig` is exactly what a run stores as config.json and what ``--config FILE`` reads back.
The default is the seed's network (article II of the CNN series)::

    conv1 Conv2D(32, 3x3, relu) -> pool1 MaxPool(2) -> conv2 Conv2D(64, 3x3, relu) -> pool2 MaxPool(2)
    -> conv3 Conv2D(64, 3x3, relu) -> flatten -> dense1 Dense(64, relu) -> output Dense(10, softmax)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError
from mnistlab.fileio import read_json_object

LAYER_KINDS = ("conv", "maxpool", "avgpool", "flatten", "dense", "dropout", "batchnorm")
PADDINGS = ("valid", "same")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")
OPTIMIZERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("none", "step", "exponential", "cosine", "onecycle", "plateau")
IMAGE_SHAPE = (28, 28, 1)
MAX_SEED = 2**32 - 1  # what Keras' set_random_seed accepts
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 2**31 - 1  # TensorFlow counts in int32
_PREFIX = {"conv": "conv", "maxpool": "pool", "avgpool": "pool", "dense": "dense",
           "dropout": "dropout", "batchnorm": "bn", "flatten": "flatten"}


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer. `size` is the number of filters (conv) or units (dense).

    `kernel` and `stride` apply to conv and pooling layers (pooling's stride 0 means "= kernel"),
    `rate` to dropout; `name` defaults to conv1, pool1, dense1... in order of appearance.
    """

    kind: str
    size: int = 0
    kernel: int = 3
    stride: int = 1
    padding: str = "valid"
    activation: str = "relu"
    rate: float = 0.0
    name: str | None = None


def seed_layers() -> list[LayerSpec]:
    """The seed's hidden layers (Conv 32 - Pool - Conv 64 - Pool - Conv 64 - Flatten - Dense 64)."""
    return [LayerSpec("conv", 32), LayerSpec("maxpool", kernel=2, stride=0),
            LayerSpec("conv", 64), LayerSpec("maxpool", kernel=2, stride=0),
            LayerSpec("conv", 64), LayerSpec("flatten"), LayerSpec("dense", 64)]


@dataclass
class CNNConfig:
    """Everything that defines a CNN training run; `validate()` checks it and names the fix.

    The training defaults (Adam 0.002, cosine decay, batch 32, 5 epochs, all 60000 training
    images) are the measured ones of docs/cnn.md: >= 99.2% on MNIST, >= 91% on Fashion-MNIST.
    """

    dataset: str = "mnist"
    layers: list[LayerSpec] = field(default_factory=seed_layers)
    epochs: int = 5
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.002
    momentum: float = 0.9
    schedule: str = "cosine"
    step_epochs: int = 2
    decay_rate: float = 0.5
    plateau_patience: int = 1
    l2: float = 0.0
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    shift_pixels: int = 0
    flip: bool = False
    validation_split: float = 0.0
    early_stopping: int = 0
    seed: int = 0
    threads: int | None = None
    device: str = "cpu"
    backend: str | None = None
    gpu_memory_fraction: float | None = None
    train_size: int | None = None

    def validate(self) -> CNNConfig:
        """Raise ConfigError naming the first invalid value; return self when all is well."""
        _check_choice("dataset", self.dataset, DATASET_NAMES)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        for name in ("step_epochs", "plateau_patience"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("epochs", self.epochs, minimum=1, maximum=MAX_EPOCHS)
        _check_int("batch_size", self.batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
        _check_int("early_stopping", self.early_stopping, minimum=0)
        _check_int("seed", self.seed, minimum=0, maximum=MAX_SEED)
        if self.threads is not None:
            _check_int("threads", self.threads, minimum=1)
        if self.train_size is not None:
            _check_int("train_size", self.train_size, minimum=2)
        _check_float("learning_rate", self.learning_rate, low=0.0, low_open=True)
        _check_float("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        _check_float("decay_rate", self.decay_rate, low=0.0, high=1.0, low_open=True)
        _check_float("l2", self.l2, low=0.0)
        _check_float("warmup_epochs", self.warmup_epochs, low=0.0)
        _check_float("label_smoothing", self.label_smoothing, low=0.0, high=1.0, high_open=True)
        _check_int("shift_pixels", self.shift_pixels, minimum=0)
        if not isinstance(self.flip, bool):
            raise ConfigError(f"flip must be true or false, got {self.flip!r}")
        if self.schedule == "onecycle" and not 0 < self.warmup_epochs < self.epochs:
            raise ConfigError(f"schedule 'onecycle' ramps up over warmup_epochs then down; set 0 < warmup_epochs "
                              f"< epochs ({self.epochs}), e.g. --warmup-epochs 0.5")
        _check_float("validation_split", self.validation_split, low=0.0, high=1.0, high_open=True)
        if self.early_stopping and self.validation_split == 0:
            raise ConfigError("early_stopping needs a validation set; set validation_split > 0 "
                              "(e.g. --validation-split 0.1) or --early-stopping 0")
        if self.schedule == "plateau" and self.validation_split == 0:
            raise ConfigError("schedule 'plateau' watches val_loss; set validation_split > 0 or pick another schedule")
        if self.device not in ("cpu", "gpu"):
            raise ConfigError(f"device must be 'cpu' or 'gpu', got {self.device!r}")
        if self.gpu_memory_fraction is not None:
            _check_float("gpu_memory_fraction", self.gpu_memory_fraction, low=0.0, high=1.0, low_open=True)
            if self.device != "gpu":
                raise ConfigError("gpu_memory_fraction caps GPU memory; it needs --device gpu")
        layer_output_shapes(self.layers)
        return self

    @property
    def n_classes(self) -> int:
        """Number of output classes (10 for both datasets)."""
        return 10

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the run's config.json)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CNNConfig:
        """Build and validate a config from a dict such as config.json; unknown keys are errors."""
        if not isinstance(data, dict):
            raise ConfigError(f"a CNN config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown CNN config key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
        values = dict(data)
        if "layers" in values:
            if not isinstance(values["layers"], list):
                raise ConfigError(f"layers must be a list of layer objects like {{\"kind\": \"conv\", \"size\": 32}}, "
                                  f"got {values['layers']!r}")
            values["layers"] = [_layer_from_dict(i, spec) for i, spec in enumerate(values["layers"])]
        return cls(**values).validate()

    @classmethod
    def from_json(cls, path: str | Path) -> CNNConfig:
        """Read a config file written by `mnistlab cnn train` (config.json) or by hand."""
        data = read_json_object(path, "config file")
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None

    def replace(self, **changes: Any) -> CNNConfig:
        """A validated copy with `changes` applied (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).validate()


def _layer_from_dict(index: int, spec: Any) -> LayerSpec:
    if not isinstance(spec, dict):
        raise ConfigError(f"layer {index} must be an object like {{\"kind\": \"conv\", \"size\": 32}}, got {spec!r}")
    known = {f.name for f in fields(LayerSpec)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(f"layer {index}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if "kind" not in spec:
        raise ConfigError(f"layer {index} has no 'kind'; use one of {', '.join(LAYER_KINDS)}")
    return LayerSpec(**spec)


def layer_names(layers: list[LayerSpec]) -> list[str]:
    """The Keras layer name of each spec: its `name`, else kind prefix + running number."""
    counts: dict[str, int] = {}
    names = []
    for spec in layers:
        prefix = _PREFIX.get(spec.kind, spec.kind)
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(spec.name or (prefix if prefix == "flatten" and counts[prefix] == 1 else f"{prefix}{counts[prefix]}"))
    return names


def layer_output_shapes(layers: list[LayerSpec], input_shape: tuple[int, ...] = IMAGE_SHAPE) -> list[tuple[int, ...]]:
    """Validate `layers` and return each layer's output shape (without the batch axis).

    Raises ConfigError for unknown kinds, non-positive sizes, a kernel larger than its input,
    a conv/pool after flattening, or duplicate names.
    """
    if not layers:
        raise ConfigError("the CNN needs at least one hidden layer; e.g. the default: omit --conv/--dense")
    names = layer_names(layers)
    if len(set(names)) != len(names) or "output" in names:
        raise ConfigError(f"layer names must be unique and not 'output', got {names}")
    shape = tuple(input_shape)
    shapes = []
    for name, spec in zip(names, layers):
        shape = _layer_output_shape(name, spec, shape)
        shapes.append(shape)
    return shapes


def parameter_count(layers: list[LayerSpec], n_classes: int = 10) -> int:
    """Weights of the model `layers` build, output layer included, as Keras' `count_params()` counts them.

    Batch norm counts 4 per channel (scale, offset and the two moving statistics), as Keras does.

    Examples
    --------
    >>> parameter_count(seed_layers())
    93322
    """
    total, shape = 0, IMAGE_SHAPE
    for spec, out in zip(layers, layer_output_shapes(layers)):
        if spec.kind == "conv":
            total += spec.kernel * spec.kernel * shape[-1] * spec.size + spec.size
        elif spec.kind == "dense":
            total += shape[0] * spec.size + spec.size
        elif spec.kind == "batchnorm":
            total += 4 * shape[-1]
        shape = out
    return total + math.prod(shape) * n_classes + n_classes


def _layer_output_shape(name: str, spec: LayerSpec, shape: tuple[int, ...]) -> tuple[int, ...]:
    where = f"layer {name} ({spec.kind})"
    if spec.kind not in LAYER_KINDS:
        raise ConfigError(f"{where}: unknown kind; use one of {', '.join(LAYER_KINDS)}")
    if spec.kind in ("conv", "maxpool", "avgpool"):
        if len(shape) != 3:
            raise ConfigError(f"{where} comes after flatten/dense; put convolutions and pooling before them")
        kernel = _check_int(f"{where} kernel", spec.kernel, minimum=1)
        stride = _check_int(f"{where} stride", spec.stride, minimum=0 if spec.kind != "conv" else 1) or kernel
        _check_choice(f"{where} padding", spec.padding, PADDINGS)
        height, width, channels = shape
        if spec.padding == "valid" and kernel > min(height, width):
            raise ConfigError(f"{where}: kernel {kernel}x{kernel} is larger than its {height}x{width} input; "
                              f"use a smaller kernel, padding 'same', or fewer pooling layers before it")
        if spec.kind == "conv":
            _check_int(f"{where} size (filters)", spec.size, minimum=1)
            _check_choice(f"{where} activation", spec.activation, ACTIVATIONS)
            channels = spec.size
        if spec.padding == "same":
            out = (math.ceil(height / stride), math.ceil(width / stride))
        else:
            out = ((height - kernel) // stride + 1, (width - kernel) // stride + 1)
        return (out[0], out[1], channels)
    if spec.kind == "flatten":
        return (math.prod(shape),)
    if spec.kind == "dense":
        if len(shape) != 1:
            raise ConfigError(f"{where} needs a flat input; add {{\"kind\": \"flatten\"}} before it")
        _check_int(f"{where} size (units)", spec.size, minimum=1)
        _check_choice(f"{where} activation", spec.activation, ACTIVATIONS)
        return (spec.size,)
    if spec.kind == "dropout":
        _check_float(f"{where} rate", spec.rate, low=0.0, high=1.0, high_open=True)
    return shape


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _check_float(name: str, value: Any, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return float(value)


def parse_layers(conv: str | None = None, dense: str | None = None, kernel: int = 3, stride: int = 1,
                 padding: str = "valid", pool: str = "max", pool_size: int = 2, dropout: float = 0.0,
                 batch_norm: bool = False) -> list[LayerSpec]:
    """Layers from the CLI's compact form: ``--conv 32,64,64 --dense 64``.

    Each conv layer but the last is followed by a pooling layer (``pool`` "max" | "avg" | "none"),
    like the seed's network; ``batch_norm`` adds BatchNormalization after each conv, ``dropout``
    a Dropout before the output layer.
    """
    filters = _int_list("--conv", conv if conv is not None else "32,64,64")
    units = _int_list("--dense", dense if dense is not None else "64", allow_empty=True)
    if pool not in ("max", "avg", "none"):
        raise ConfigError(f"--pool must be max, avg or none, got {pool!r}")
    layers: list[LayerSpec] = []
    for i, size in enumerate(filters):
        layers.append(LayerSpec("conv", size, kernel=kernel, stride=stride, padding=padding))
        if batch_norm:
            layers.append(LayerSpec("batchnorm"))
        if pool != "none" and i < len(filters) - 1:
            layers.append(LayerSpec(f"{pool}pool", kernel=pool_size, stride=0, padding=padding))
    layers.append(LayerSpec("flatten"))
    layers.extend(LayerSpec("dense", size) for size in units)
    if dropout:
        layers.append(LayerSpec("dropout", rate=dropout))
    return layers


def _int_list(option: str, text: str, allow_empty: bool = False) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts and not allow_empty:
        raise ConfigError(f"{option} needs at least one size, e.g. {option} 32,64")
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"{option} takes comma-separated integers like 32,64,64, got {text!r}") from None


CNN_PRESETS: dict[str, CNNConfig] = {
    "seed": CNNConfig(),
    "fast": CNNConfig(layers=[LayerSpec("conv", 16), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
                              LayerSpec("conv", 32), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
                              LayerSpec("flatten"), LayerSpec("dense", 128)],
                      epochs=3, batch_size=256, learning_rate=0.005, schedule="onecycle", warmup_epochs=0.5,
                      label_smoothing=0.1),
    "fashion": CNNConfig(dataset="fashion-mnist",
                         layers=[LayerSpec("conv", 32), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
                                 LayerSpec("conv", 64), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
                                 LayerSpec("conv", 64), LayerSpec("batchnorm"), LayerSpec("flatten"),
                                 LayerSpec("dense", 64)],
                         epochs=30, batch_size=128, learning_rate=0.003, schedule="onecycle", warmup_epochs=1.0,
                         label_smoothing=0.1, shift_pixels=1, flip=True),
}
"""`mnistlab cnn train --preset NAME`: "seed" is the documented default (the seed's network,
Adam 0.002, cosine, batch 32, 5 epochs); "fast" is two narrow conv blocks (16 and 32 filters,
each with batch norm and pooling) and a dense layer of 128 (108k weights), Adam 0.005 on a
one-cycle schedule (half an epoch up, then down to 0), label smoothing 0.1, batch 256, 3 epochs:
99.07% on MNIST in 16.4 s of training on two cores, medians over seeds 0-2 (issue 16's search,
benchmarks/README.md)."""
