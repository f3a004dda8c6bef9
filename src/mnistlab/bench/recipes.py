"""Training recipes for `bench tta`, declared once as data; each engine adapter expresses them or says why not.

A `Recipe` fixes everything that decides how fast a net learns: architecture, initialisation,
optimiser, learning-rate schedule, batch size, loss (label smoothing), preprocessing and
augmentation. A `Task` pairs a dataset and a target test accuracy with its default recipe.
The schedule is one pure function, `learning_rate_at`, which every adapter follows (Keras
through a schedule object, PyTorch through `LambdaLR`, mnistlab and scikit-learn only where
their own options give the same numbers).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from mnistlab.bench.fields import check_known_fields, with_tuples
from mnistlab.cnn.config import CNN_PRESETS, CNNConfig
from mnistlab.errors import ConfigError
from mnistlab.mlp.config import FASHION_PRESET, MLPConfig

MODELS = {"mlp": False, "cnn": True}
"""The recipes' models, each with whether it is a convnet (conv blocks, then `dense`) or a dense net (`hidden`)."""
INITS = ("glorot_uniform", "uniform_fan_in")
SCHEDULES = ("constant", "inverse_time", "cosine", "onecycle")
PREPROCESSING = ("unit", "standard")


@dataclass(frozen=True)
class Recipe:
    """One way to train, identical for every engine.

    model : "mlp" (dense layers `hidden`) or "cnn" (3x3 valid conv blocks `conv`, each followed
        by batch norm when `batch_norm`, then 2x2 max pooling except after the last unless
        `pool_last`; flatten; dense layers `dense`); every hidden layer uses `activation`;
        the output is a softmax over 10 classes.
    init : "glorot_uniform" (+-sqrt(6 / (fan_in + fan_out))) or "uniform_fan_in" (+-1 / sqrt(fan_in),
        mnistlab's "sqrt_nodes" and PyTorch's default); biases always start at zero.
    optimizer : "adam" (beta_1, beta_2, epsilon) on the batch-mean cross-entropy, smoothed by
        `label_smoothing` (targets y (1 - s) + s / 10).
    schedule : "constant"; "inverse_time" (lr / (1 + decay * epochs done), per epoch, mnistlab's
        decrease_const); "cosine" (to 0 at `max_epochs`); "onecycle" (linear up over `warmup_epochs`,
        then linear down to 0 at `max_epochs`). "constant" and "cosine" also take a linear warm-up.
    dropout : share of units dropped after every hidden dense layer while training (inverted dropout).
    shift_pixels : each epoch, every training image moves by a random whole number of pixels
        in [-shift_pixels, shift_pixels] on each axis, zero-filled (needs preprocessing "unit").
    flip : each epoch, a random half of the training images is mirrored left-right (any recipe;
        for Fashion-MNIST, whose classes are left-right symmetric).
    preprocessing : "unit" (pixels / 255) or "standard" (per-pixel StandardScaler fitted on train).
    """

    name: str = "mlp-adam"
    model: str = "mlp"
    hidden: tuple[int, ...] = (512, 256)
    conv: tuple[int, ...] = ()
    dense: tuple[int, ...] = ()
    batch_norm: bool = False
    pool_last: bool = False
    activation: str = "relu"
    init: str = "uniform_fan_in"
    optimizer: str = "adam"
    learning_rate: float = 0.001
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    schedule: str = "constant"
    decay: float = 0.0
    warmup_epochs: float = 0.0
    label_smoothing: float = 0.0
    dropout: float = 0.0
    shift_pixels: int = 0
    flip: bool = False
    batch_size: int = 128
    max_epochs: int = 20
    preprocessing: str = "unit"

    def __post_init__(self) -> None:
        for name, value, choices in (("model", self.model, MODELS), ("init", self.init, INITS),
                                     ("schedule", self.schedule, SCHEDULES), ("optimizer", self.optimizer, ("adam",)),
                                     ("preprocessing", self.preprocessing, PREPROCESSING),
                                     ("activation", self.activation, ("relu",))):
            if value not in choices:
                raise ConfigError(f"recipe {self.name}: {name} {value!r} is not one of {', '.join(choices)}")
        if not self.is_convnet and (self.conv or not self.hidden):
            raise ConfigError(f"recipe {self.name}: an mlp recipe needs hidden sizes and no conv layers")
        if self.is_convnet and not self.conv:
            raise ConfigError(f"recipe {self.name}: a cnn recipe needs conv filters, e.g. conv=(32, 64)")
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ConfigError(f"recipe {self.name}: batch_size and max_epochs must be >= 1")
        if not (self.learning_rate > 0 and 0 <= self.label_smoothing < 1 and 0 <= self.dropout < 1
                and self.warmup_epochs >= 0
                and self.decay >= 0 and self.shift_pixels >= 0):
            raise ConfigError(f"recipe {self.name}: need learning_rate > 0, 0 <= label_smoothing < 1, "
                              f"0 <= dropout < 1 and non-negative decay, warmup_epochs and shift_pixels")
        if self.schedule == "onecycle" and not 0 < self.warmup_epochs < self.max_epochs:
            raise ConfigError(f"recipe {self.name}: onecycle needs 0 < warmup_epochs < max_epochs")
        if self.shift_pixels and self.preprocessing != "unit":
            raise ConfigError(f"recipe {self.name}: shift augmentation fills with zeros; it needs preprocessing 'unit'")

    @property
    def is_convnet(self) -> bool:
        """Whether the net starts with conv blocks (engines with dense layers only cannot train it)."""
        return MODELS[self.model]

    @property
    def dense_units(self) -> tuple[int, ...]:
        """Units of the hidden dense layers: `hidden` of a dense net, `dense` after a convnet's conv blocks."""
        return self.dense if self.is_convnet else self.hidden

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Recipe:
        """A recipe from `to_dict`'s output (lists become tuples); unknown keys are errors."""
        check_known_fields(cls, values, "unknown recipe field(s) {unknown}; known: {known}")
        return with_tuples(cls, values)

    def warmup_steps(self, steps_per_epoch: int) -> int:
        """Batches of linear warm-up."""
        return int(round(self.warmup_epochs * steps_per_epoch))


def learning_rate_at(recipe: Recipe, step: int, steps_per_epoch: int) -> float:
    """The learning rate of batch `step` (0-based, counted over the whole run) under `recipe`'s schedule."""
    lr = recipe.learning_rate
    if recipe.schedule == "inverse_time":
        return lr / (1.0 + recipe.decay * (step // steps_per_epoch))
    total = recipe.max_epochs * steps_per_epoch
    warm = recipe.warmup_steps(steps_per_epoch)
    if step < warm:
        return lr * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    if recipe.schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    if recipe.schedule == "onecycle":
        return lr * (1.0 - progress)
    return lr


def recipe_from_cnn_config(name: str, config: CNNConfig) -> Recipe:
    """The `Recipe` of a CNN preset, so that `bench tta` times exactly what `cnn train --preset` trains.

    Raises ConfigError for layer lists a recipe cannot state (anything but conv [batchnorm] [maxpool]
    blocks, flatten, dense layers).
    """
    conv, dense, batch_norm, pools = [], [], False, 0
    for spec in config.layers:
        if spec.kind == "conv" and spec.kernel == 3 and spec.stride == 1 and spec.padding == "valid":
            conv.append(spec.size)
        elif spec.kind == "batchnorm" and conv:
            batch_norm = True
        elif spec.kind == "maxpool" and spec.kernel == 2:
            pools += 1
        elif spec.kind == "dense":
            dense.append(spec.size)
        elif spec.kind != "flatten":
            raise ConfigError(f"preset {name}: layer {spec.kind} has no recipe form")
    if pools not in (len(conv) - 1, len(conv)) or config.optimizer != "adam":
        raise ConfigError(f"preset {name}: only Adam and a 2x2 max pool after every conv block (or all but the last)")
    schedule = {"none": "constant", "cosine": "cosine", "onecycle": "onecycle"}.get(config.schedule)
    if schedule is None:
        raise ConfigError(f"preset {name}: schedule {config.schedule!r} has no recipe form")
    return Recipe(name=name, model="cnn", hidden=(), conv=tuple(conv), dense=tuple(dense), batch_norm=batch_norm,
                  pool_last=pools == len(conv), init="glorot_uniform", learning_rate=config.learning_rate,
                  schedule=schedule, warmup_epochs=config.warmup_epochs, label_smoothing=config.label_smoothing,
                  shift_pixels=config.shift_pixels, flip=config.flip, batch_size=config.batch_size, max_epochs=config.epochs,
                  preprocessing="unit")


def recipe_from_mlp_config(name: str, config: MLPConfig) -> Recipe:
    """The `Recipe` of an MLP preset (ReLU, softmax, Adam), so that `bench tta` times what `mlp train --preset` trains.

    Raises ConfigError for a preset a recipe cannot state (another solver, activation or schedule).
    """
    schedule = {"constant": "constant", "decay": "inverse_time", "cosine": "cosine",
                "onecycle": "onecycle"}.get(config.lr_schedule)
    init = {"sqrt_nodes": "uniform_fan_in", "glorot": "glorot_uniform"}.get(config.init)
    if (config.solver, config.activation, config.output) != ("adam", "relu", "softmax") or schedule is None \
            or init is None or config.init_factor != 1.0 or config.l2 or config.l1:
        raise ConfigError(f"preset {name}: only ReLU, softmax, Adam, no L1/L2, a sqrt_nodes or glorot init and "
                          f"a constant, decay, cosine or onecycle schedule have a recipe form")
    return Recipe(name=name, model="mlp", hidden=tuple(config.hidden_sizes), init=init,
                  learning_rate=config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2,
                  epsilon=config.epsilon, schedule=schedule, decay=config.decrease_const if schedule == "inverse_time"
                  else 0.0, warmup_epochs=config.warmup_epochs, label_smoothing=config.label_smoothing,
                  dropout=config.dropout, shift_pixels=config.shift_pixels, flip=config.flip,
                  batch_size=config.batch_size, max_epochs=config.epochs, preprocessing="unit")


_MLP_ADAM = Recipe()
RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    _MLP_ADAM,
    replace(_MLP_ADAM, name="mlp-adam-decay", schedule="inverse_time", decay=0.3),
    replace(_MLP_ADAM, name="mlp-adam-dropout", schedule="inverse_time", decay=0.3, dropout=0.2),
    replace(_MLP_ADAM, name="mlp-default", schedule="inverse_time", decay=0.3, shift_pixels=1, max_epochs=15),
    replace(_MLP_ADAM, name="mlp-wide-onecycle", hidden=(1024, 1024), init="glorot_uniform", batch_size=256,
            learning_rate=0.002, schedule="onecycle", warmup_epochs=1.0, max_epochs=8, label_smoothing=0.1),
    recipe_from_cnn_config("cnn-fast", CNN_PRESETS["fast"]),
    recipe_from_cnn_config("cnn-seed", CNN_PRESETS["seed"]),
    recipe_from_mlp_config("mlp-fashion", FASHION_PRESET),
    recipe_from_cnn_config("cnn-fashion", CNN_PRESETS["fashion"]),
)}
"""Every named recipe: MLP ones every engine can state (mlp-adam) or only some (the schedules,
label smoothing); mlp-default is `mnistlab mlp train`'s preset (decay 0.3, 1-pixel shifts,
15 epochs); mlp-fashion is `mlp train --preset fashion`; and the CNN presets of `mnistlab cnn train --preset`."""


@dataclass(frozen=True)
class Task:
    """A target to reach: `model` on `dataset` to `target` test accuracy, by default with `recipe`."""

    name: str
    dataset: str
    target: float
    recipe: str


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("mlp-mnist", "mnist", 0.98, "mlp-adam"),
    Task("mlp-mnist-98.5", "mnist", 0.985, "mlp-default"),
    Task("cnn-mnist", "mnist", 0.99, "cnn-fast"),
    Task("mlp-fashion", "fashion-mnist", 0.90, "mlp-fashion"),
    Task("cnn-fashion", "fashion-mnist", 0.93, "cnn-fashion"),
)}
"""mlp-mnist-98.5 is the road to 98.5% with `mnistlab mlp train`'s default preset (mlp-default): without
augmentation no MLP recipe tried reaches it (benchmarks/README.md, "Searching for faster presets")."""
DEFAULT_TASKS = ("mlp-mnist", "cnn-mnist")


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`."""
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def get_task(name: str) -> Task:
    """The task called `name`."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]
