"""A sweep spec: a TOML file declaring what to train, what to search, and how (issue 14).

`load_spec(path)` parses and validates it; every problem is one `ConfigError` naming the key and
the fix, raised before Ray starts. The keys::

    model = "mlp"              # mlp | cnn
    dataset = "mnist"          # mnist | fashion-mnist
    preset = "seed"            # a preset of `<model> train` (default: its default), or: base = "runs/<run>/config.json"
    metric = "val_accuracy"    # any per-epoch metric the trainings record
    mode = "max"               # max | min
    search = "grid"            # grid | random | optuna
    samples = 8                # points for random/optuna; ignored by grid
    seeds = [0, 1]             # every point is trained once per seed
    threads_per_trial = 1
    max_concurrent = 2
    scheduler = "none"         # none | asha (grace_period, reduction_factor)

    [fixed]                    # options of the model's train command, set for every trial
    train_size = 10000
    [space]                    # searched options: a list, or {loguniform|uniform|randint|choice = [...]}
    lr = [0.001, 0.002]
"""

from __future__ import annotations

import numbers
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError
from mnistlab.runs.kinds import get_kind
from mnistlab.sweep.options import MODELS, check_option_name, read_base, recorded_metrics, trial_config

SEARCHES = ("grid", "random", "optuna")
SCHEDULERS = ("none", "asha")
DATASETS = ("mnist", "fashion-mnist")
DISTRIBUTIONS = ("loguniform", "uniform", "randint", "choice")


@dataclass
class SweepSpec:
    """A validated sweep: the model and base config, the searched space, seeds and execution limits."""

    model: str = "mlp"
    dataset: str = "mnist"
    preset: str | None = None
    base: str | None = None
    metric: str = "test_accuracy"
    mode: str = "max"
    search: str = "grid"
    samples: int = 1
    seeds: list[int] = field(default_factory=lambda: [0])
    threads_per_trial: int = 1
    max_concurrent: int = 1
    scheduler: str = "none"
    grace_period: int = 1
    reduction_factor: float = 2.0
    name: str = "sweep"
    fixed: dict[str, Any] = field(default_factory=dict)
    space: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, name: str = "sweep") -> SweepSpec:
        """Build and validate a spec from parsed TOML; unknown keys are errors."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r} in the spec; valid keys: {', '.join(known)}")
        spec = cls(**{"name": name, **values})
        spec.validate()
        return spec

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict (stored in sweep.json)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def base_config(self) -> dict[str, Any]:
        """The config every trial starts from, as a dict: the preset's, or the run config at `base`."""
        values = read_base(self.model, self.base)
        return values if values is not None else get_kind(self.model).resolve_config(preset=self.preset).to_dict()

    def trial_config(self, options: dict[str, Any], seed: int) -> Any:
        """The validated config of the trial training `options` (on top of [fixed]) with `seed`."""
        return trial_config(self.model, preset=self.preset, base=read_base(self.model, self.base),
                            dataset=self.dataset, threads=self.threads_per_trial, seed=seed,
                            options={**self.fixed, **options})

    def validate(self) -> None:
        """Raise ConfigError naming the first invalid key and its fix."""
        _choice("model", self.model, MODELS)
        _choice("dataset", self.dataset, DATASETS)
        if self.preset is not None and self.base is not None:
            raise ConfigError("preset and base are both set; keep one (base = a run's config.json)")
        if self.preset is None and self.base is None:
            self.preset = get_kind(self.model).default_preset  # as `<model> train` without --preset
        if self.preset is not None and self.preset not in get_kind(self.model).presets:
            raise ConfigError(f"preset = {self.preset!r} is not a preset of {self.model}; choose one of "
                              f"{', '.join(get_kind(self.model).presets)} (as for `mnistlab {self.model} train`)")
        _choice("mode", self.mode, ("max", "min"))
        _choice("search", self.search, SEARCHES)
        _choice("scheduler", self.scheduler, SCHEDULERS)
        _integer("samples", self.samples, 1)
        _integer("threads_per_trial", self.threads_per_trial, 1)
        _integer("max_concurrent", self.max_concurrent, 1)
        _integer("grace_period", self.grace_period, 1)
        if not _is_number(self.reduction_factor) or self.reduction_factor <= 1:
            raise ConfigError(f"reduction_factor = {self.reduction_factor!r} is not valid; give a number > 1, e.g. 2")
        if not isinstance(self.seeds, list) or not self.seeds or not all(_is_int(s) and s >= 0 for s in self.seeds):
            raise ConfigError(f"seeds = {self.seeds!r} is not valid; give a list of integers >= 0, e.g. [0, 1]")
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds = {self.seeds!r} repeats a seed; list each seed once")
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise ConfigError(f"name = {self.name!r} is not valid; give a short name without '/'")
        for section in ("fixed", "space"):
            if not isinstance(getattr(self, section), dict):
                raise ConfigError(f"{section} must be a table ([{section}] with one option per line)")
        if not self.space:
            raise ConfigError("[space] is empty; add at least one option to search, e.g. lr = [0.001, 0.002]")
        for name in self.fixed:
            check_option_name(self.model, "fixed", name)
        for name, values in self.space.items():
            check_option_name(self.model, "space", name)
            if name in self.fixed:
                raise ConfigError(f"[space] {name} is also in [fixed]; keep it in one of the two")
            _check_axis(name, values, self.search)
        self._check_configs()
        if self.base is not None:  # sweep.json keeps it absolute, so --resume works from any directory
            self.base = str(Path(self.base).resolve())

    def _check_configs(self) -> None:
        """Build a trial config for every searched value (and each distribution's ends); check the metric."""
        def build(options: dict[str, Any], where: str):
            try:
                return self.trial_config(options, self.seeds[0])
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None

        first = {name: axis_values(values)[0] for name, values in self.space.items()}
        config = build(first, "[fixed]")
        for name, values in self.space.items():
            for value in axis_values(values):
                build({**first, name: value}, f"[space] {name} = {value!r}")
        metrics = recorded_metrics(self.model, config)
        if self.metric not in metrics:
            hint = {"val_accuracy": " (the mlp records it with early_stopping = true; the cnn with "
                                    "validation_split > 0)",
                    "test_accuracy": " (set eval_test_every = 1)",
                    "train_accuracy": " (set eval_train_every = 1)"}.get(self.metric, "")
            raise ConfigError(f"metric = {self.metric!r} is not recorded by these trainings{hint}; "
                              f"choose one of {', '.join(metrics)}")

    @property
    def n_points(self) -> int:
        """Points of the space to train (each once per seed)."""
        if self.search != "grid":
            return self.samples
        count = 1
        for values in self.space.values():
            count *= len(values)
        return count


def axis_values(values: Any) -> list[Any]:
    """The values of one searched option to validate: a list's items, a distribution's ends or choices."""
    if isinstance(values, list):
        return values
    (kind, args), = values.items()
    if kind == "choice":
        return list(args)
    return [args[0], args[1] - 1] if kind == "randint" else list(args)


def _check_axis(name: str, values: Any, search: str) -> None:
    where = f"[space] {name}"
    if isinstance(values, list):
        if not values:
            raise ConfigError(f"{where} is an empty list; give at least one value")
        if search == "optuna" and any(isinstance(v, (list, dict)) for v in values):
            raise ConfigError(f"{where}: optuna chooses among plain values only; write lists as strings, "
                              "e.g. hidden = [\"70,30\", \"100,50\"]")
        return
    if not isinstance(values, dict) or len(values) != 1 or next(iter(values)) not in DISTRIBUTIONS:
        raise ConfigError(f"{where} must be a list or one of {{ {' | '.join(DISTRIBUTIONS)} = [...] }}, "
                          f"got {values!r}")
    if search == "grid":
        raise ConfigError(f"{where}: grid search takes lists only; give a list of values or set "
                          "search = \"random\" (or \"optuna\")")
    (kind, args), = values.items()
    if kind == "choice":
        if not isinstance(args, list) or not args:
            raise ConfigError(f"{where}: choice needs a non-empty list, e.g. {{ choice = [32, 64] }}")
        return
    if not (isinstance(args, list) and len(args) == 2 and all(_is_number(a) for a in args) and args[0] < args[1]):
        raise ConfigError(f"{where}: {kind} needs [low, high] with low < high, e.g. {{ {kind} = [1e-4, 1e-1] }}")
    if kind == "loguniform" and args[0] <= 0:
        raise ConfigError(f"{where}: loguniform needs low > 0; e.g. {{ loguniform = [1e-4, 1e-1] }}")
    if kind == "randint" and not all(_is_int(a) for a in args):
        raise ConfigError(f"{where}: randint needs integer ends [low, high) e.g. {{ randint = [40, 71] }}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _choice(key: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{key} = {value!r} is not valid; choose one of {', '.join(options)}")


def _integer(key: str, value: Any, low: int) -> None:
    if not _is_int(value) or value < low:
        raise ConfigError(f"{key} = {value!r} is not valid; give an integer >= {low}")


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate the TOML spec at `path` (the sweep's name defaults to the file's stem)."""
    path = Path(path)
    try:
        values = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"spec {path} does not exist; check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"spec {path} is not valid TOML ({exc}); fix the line named") from None
    return SweepSpec.from_dict(values, name=values.get("name", path.stem))
