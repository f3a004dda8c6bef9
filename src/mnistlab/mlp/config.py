"""MLPConfig: every option of the MLP in one typed dataclass, its validation, and the presets.

The fields are exactly `MLPClassifier`'s constructor parameters (a test keeps them equal).
`docs/mlp.md` maps each of the seed's parameter names to these.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
from mnistlab.mlp.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from mnistlab.mlp.init import INIT_METHODS
from mnistlab.mlp.losses import LOSSES
from mnistlab.mlp.optimizers import MOMENTUM_TYPES, SCHEDULES, SOLVERS, WARMUP_SCHEDULES


@dataclass
class MLPConfig:
    """Architecture, loss, optimiser, training schedule and stopping rule of one MLP.

    One field per option of `mnistlab.mlp.options.OPTIONS`, in its order and with its
    defaults (a test keeps them equal); the table in docs/mlp.md explains each. The
    defaults suit small data as scikit-learn's do (batch "auto", up to 200 epochs, a
    convergence stop); the presets below are fixed epoch budgets (n_iter_no_change=None).
    """

    hidden_sizes: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    output: str = "softmax"
    loss: str = "cross_entropy"
    loss_reduction: str = "mean"
    label_smoothing: float = 0.0
    solver: str = "adam"
    learning_rate: float = 0.001
    lr_schedule: str = "decay"
    decrease_const: float = 0.0
    power_t: float = 0.5
    warmup_epochs: float = 0.0
    momentum: float = 0.0
    momentum_type: str = "classical"
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    l2: float = 0.0
    l1: float = 0.0
    batch_size: int | str = "auto"
    epochs: int = 200
    shuffle: bool = True
    tol: float = 1e-4
    n_iter_no_change: int | float | None = 10
    max_fun: int = 15000
    init: str = "glorot"
    init_first: str | None = None
    init_factor: float = 1.0
    init_intervals: tuple[tuple[float, float], ...] | None = None
    leaky_slope: float = 0.01
    dropout: float = 0.0
    shift_pixels: int = 0
    flip: bool = False
    class_weight: str | dict | None = None
    early_stopping: bool = False
    validation_fraction: float = 0.1
    eval_train_every: int = 0
    eval_test_every: int = 0
    dtype: str = "float32"
    warm_start: bool = False
    verbose: bool = False
    random_state: Any = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MLPConfig:
        """Build from a dict (e.g. config.json), rejecting unknown keys; tuples restored from lists."""
        if not isinstance(values, dict):
            raise ConfigError(f"the MLP options must be a JSON object of option: value, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        values = _upgrade_legacy(values)
        unknown = sorted(map(str, set(values) - known))
        if unknown:
            raise ConfigError(f"unknown MLP option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(known))}")
        values = dict(values)
        sizes = values.get("hidden_sizes")
        if isinstance(sizes, list):
            values["hidden_sizes"] = tuple(sizes)
        intervals = values.get("init_intervals")
        if intervals is not None:
            if not isinstance(intervals, (list, tuple)) or not all(isinstance(iv, (list, tuple)) for iv in intervals):
                raise ConfigError(f"init_intervals={intervals!r} is not valid; give a list of [low, high] pairs, "
                                  "one per weight layer")
            values["init_intervals"] = tuple(tuple(iv) for iv in intervals)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (a RandomState or Generator is stored as None: it is no seed)."""
        values = asdict(self)
        if not (values["random_state"] is None or isinstance(values["random_state"], numbers.Integral)):
            values["random_state"] = None
        if isinstance(values["class_weight"], dict):
            values["class_weight"] = {str(k): float(v) for k, v in values["class_weight"].items()}
        return values


def _upgrade_legacy(values: dict[str, Any]) -> dict[str, Any]:
    """A config written before the scikit-learn stopping rule (it has `patience`) keeps its meaning:
    a fixed epoch budget, or with early stopping patience -> n_iter_no_change, min_delta -> tol."""
    if "patience" not in values and "min_delta" not in values:
        return values
    values = dict(values)
    patience, min_delta = values.pop("patience", 5), values.pop("min_delta", 0.0)
    if values.get("early_stopping"):
        values.setdefault("n_iter_no_change", patience)
        values.setdefault("tol", min_delta)
    else:
        values.setdefault("n_iter_no_change", None)
    return values


MAX_SEED = 2**32 - 1  # what NumPy's and Keras' seeding accept everywhere
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 10_000_000


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _choice(name: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{name}={value!r} is not valid; choose one of {', '.join(options)}")


def _number(name: str, value: Any, *, low: float, high: float = float("inf"), low_open: bool = False,
            integer: bool = False, hint: str = "", allow_inf: bool = False) -> None:
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok:  # NaN fails every comparison; infinity only passes where it means something (allow_inf)
        ok = (allow_inf or math.isfinite(value)) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        upper = f" and <= {high}" if high != float("inf") else ""
        what = "an integer" if integer else "a number"
        raise ConfigError(f"{name}={value!r} is not valid; it must be {what} {bound}{upper}{hint}")


def check_onecycle_warmup(warmup_epochs: float, epochs: int | None) -> None:
    """One-cycle warms up, then anneals to 0 at the end: 0 < warmup_epochs < epochs, the epochs of the whole
    training (None: not known yet, only the warm-up is checked). ConfigError otherwise.

    >>> check_onecycle_warmup(2, 3)  # 2 epochs up, 1 down; a run resumed after epoch 1 keeps this
    """
    if warmup_epochs > 0 and (epochs is None or warmup_epochs < epochs):
        return
    raise ConfigError(f"lr_schedule='onecycle' needs 0 < warmup_epochs < epochs (of the whole training), got "
                      f"warmup_epochs={warmup_epochs!r} and epochs={epochs!r}; e.g. warmup_epochs=1")


def validate_config(cfg: MLPConfig) -> None:
    """Raise ConfigError naming the first invalid option and what would be valid."""
    sizes = cfg.hidden_sizes
    if isinstance(sizes, numbers.Integral):
        sizes = (sizes,)
    if not isinstance(sizes, (tuple, list)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
        raise ConfigError(f"hidden_sizes={cfg.hidden_sizes!r} is not valid; give a tuple of positive integers, "
                          "e.g. (70, 30), or () for no hidden layer")
    if any(s < 1 for s in sizes):
        raise ConfigError(f"hidden_sizes={tuple(cfg.hidden_sizes)!r} has a layer of size < 1; "
                          "every hidden layer needs at least one unit")
    if cfg.activation == "logistic":
        raise ConfigError("activation='logistic' is scikit-learn's name; mnistlab calls it 'sigmoid'")
    _choice("activation", cfg.activation, HIDDEN_ACTIVATIONS)
    _choice("output", cfg.output, OUTPUT_ACTIVATIONS)
    _choice("loss", cfg.loss, LOSSES)
    _choice("loss_reduction", cfg.loss_reduction, ("mean", "sum"))
    _choice("solver", cfg.solver, SOLVERS)
    _choice("momentum_type", cfg.momentum_type, MOMENTUM_TYPES)
    _choice("lr_schedule", cfg.lr_schedule, SCHEDULES)
    _choice("dtype", cfg.dtype, ("float32", "float64"))
    _choice("init", cfg.init, INIT_METHODS)
    if cfg.init_first is not None:
        _choice("init_first", cfg.init_first, INIT_METHODS)
    if isinstance(cfg.learning_rate, str):
        raise ConfigError(f"learning_rate={cfg.learning_rate!r} is scikit-learn's schedule name; in mnistlab "
                          f"learning_rate is the initial step size (scikit-learn's learning_rate_init): "
                          f"set lr_schedule={cfg.learning_rate!r} instead")
    _number("learning_rate", cfg.learning_rate, low=0, low_open=True)
    _number("power_t", cfg.power_t, low=0)
    _number("warmup_epochs", cfg.warmup_epochs, low=0)
    if cfg.warmup_epochs and cfg.lr_schedule not in WARMUP_SCHEDULES:
        raise ConfigError(f"warmup_epochs={cfg.warmup_epochs!r} needs lr_schedule constant, cosine or onecycle, "
                          f"not {cfg.lr_schedule!r}; set warmup_epochs=0 or change the schedule")
    if cfg.lr_schedule == "onecycle":
        # With warm_start, `epochs` are those of one more fit and the schedule spans the earlier fits' too
        # (a resumed run may have fewer epochs left than its warm-up): `fit` checks the whole training then.
        check_onecycle_warmup(cfg.warmup_epochs, None if cfg.warm_start else cfg.epochs)
    _number("label_smoothing", cfg.label_smoothing, low=0, high=1)
    if cfg.label_smoothing >= 1:
        raise ConfigError(f"label_smoothing={cfg.label_smoothing!r} is not valid; it must be in [0, 1)")
    _number("tol", cfg.tol, low=0)
    _number("max_fun", cfg.max_fun, low=1, integer=True)
    _number("dropout", cfg.dropout, low=0, high=1)
    if cfg.dropout >= 1:
        raise ConfigError(f"dropout={cfg.dropout!r} is not valid; it must be in [0, 1) (the share of units dropped)")
    _number("shift_pixels", cfg.shift_pixels, low=0, integer=True)
    if not isinstance(cfg.flip, bool | np.bool_):
        raise ConfigError(f"flip={cfg.flip!r} is not valid; it must be true or false")
    if cfg.n_iter_no_change is not None:
        _number("n_iter_no_change", cfg.n_iter_no_change, low=1, allow_inf=True,
                hint=" (an integer, np.inf to never stop, or None for a fixed epoch budget)")
    if cfg.batch_size != "auto":
        _number("batch_size", cfg.batch_size, low=1, high=MAX_BATCH_SIZE, integer=True, hint=' or "auto"')
    if not (cfg.class_weight is None or cfg.class_weight == "balanced" or isinstance(cfg.class_weight, dict)):
        raise ConfigError(f"class_weight={cfg.class_weight!r} is not valid; give 'balanced', a dict "
                          "{label: weight}, or None")
    _number("decrease_const", cfg.decrease_const, low=0)
    _number("momentum", cfg.momentum, low=0, high=1, hint=" (momentum must stay below 1)")
    if cfg.momentum >= 1:
        raise ConfigError(f"momentum={cfg.momentum!r} is not valid; it must be in [0, 1)")
    for name in ("rho", "beta_1", "beta_2"):
        _number(name, getattr(cfg, name), low=0, high=1)
        if getattr(cfg, name) >= 1:
            raise ConfigError(f"{name}={getattr(cfg, name)!r} is not valid; it must be in [0, 1)")
    _number("epsilon", cfg.epsilon, low=0, low_open=True)
    _number("l2", cfg.l2, low=0)
    _number("l1", cfg.l1, low=0)
    _number("epochs", cfg.epochs, low=1, high=MAX_EPOCHS, integer=True)
    _number("init_factor", cfg.init_factor, low=0, low_open=True)
    _number("leaky_slope", cfg.leaky_slope, low=0, high=1)
    _number("validation_fraction", cfg.validation_fraction, low=0, high=1, low_open=True)
    if cfg.validation_fraction >= 1:
        raise ConfigError(f"validation_fraction={cfg.validation_fraction!r} is not valid; it must be in (0, 1)")
    _number("eval_train_every", cfg.eval_train_every, low=0, integer=True)
    _number("eval_test_every", cfg.eval_test_every, low=0, integer=True)
    for name in ("shuffle", "early_stopping", "warm_start"):
        if not isinstance(getattr(cfg, name), (bool, numbers.Integral)):
            raise ConfigError(f"{name}={getattr(cfg, name)!r} is not valid; give True or False")
    if cfg.init_intervals is not None:
        n_layers = len(sizes) + 1
        ivs = cfg.init_intervals
        if len(ivs) != n_layers or any(len(iv) != 2 or not all(_is_real(v) for v in iv) or not iv[0] < iv[1]
                                       for iv in ivs):
            raise ConfigError(f"init_intervals={ivs!r} is not valid; give one (low, high) pair with low < high "
                              f"for each of the {n_layers} weight layers")
    if isinstance(cfg.random_state, numbers.Integral) and not isinstance(cfg.random_state, bool):
        _number("random_state", cfg.random_state, low=0, high=MAX_SEED, integer=True, hint=" (or None)")
    elif not (cfg.random_state is None or isinstance(cfg.random_state, (np.random.RandomState, np.random.Generator))):
        raise ConfigError(f"random_state={cfg.random_state!r} is not valid; give an integer seed, None, "
                          "a numpy RandomState or a numpy Generator")


SEED_PRESET = MLPConfig(
    hidden_sizes=(70, 30), activation="sigmoid", output="sigmoid", loss="logloss", loss_reduction="sum",
    solver="sgd", learning_rate=0.001, decrease_const=1e-6, momentum=0.5, momentum_type="seed",
    l2=0.01, batch_size=500, epochs=35, shuffle=True, n_iter_no_change=None, init="sqrt_nodes", init_factor=2.0,
    eval_train_every=1, eval_test_every=1, random_state=0,
)
"""The seed's configuration (Step I article), translated option by option, with the seed's
momentum form at rate 0.5 instead of its 0.00005 (which is no momentum at all); see docs/mlp.md."""

DEFAULT_PRESET = MLPConfig(hidden_sizes=(512, 256), decrease_const=0.3, batch_size=128, epochs=15, shift_pixels=1,
                           n_iter_no_change=None, init="sqrt_nodes", random_state=0, eval_train_every=1,
                           eval_test_every=1)
"""The documented default: 784-512-256-10 ReLU, softmax, Adam (lr 0.001 / (1 + 0.3 t)), batch 128,
15 epochs, every batch's images shifted by up to one pixel; with pixels scaled to [0, 1] it reaches
98.8% on MNIST in about 16 s of training on two cores (issue 16; docs/mlp.md, benchmarks/README.md).
Until issue 16 it had L2 5e-4, no shift and 20 epochs: 98.3% in 24 s."""

FASHION_PRESET = MLPConfig(hidden_sizes=(1024, 512), dropout=0.3, shift_pixels=1, label_smoothing=0.1,
                           lr_schedule="onecycle", warmup_epochs=1.0, batch_size=128, epochs=50,
                           n_iter_no_change=None, init="sqrt_nodes", random_state=0, eval_train_every=0,
                           eval_test_every=1)
"""Fashion-MNIST's preset: 784-1024-512-10 ReLU, dropout 0.3, softmax with label smoothing 0.1, Adam
0.001 on a one-cycle schedule (one epoch up, then linearly down to 0), batch 128, 50 epochs, every
batch shifted by up to one pixel: 90.41, 90.20, 90.38% for seeds 0-2 (median 90.38%; with 30 epochs
the median was 89.93%). Measured figures: docs/mlp.md."""
