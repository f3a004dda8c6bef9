"""The options a sweep may set or search, and how one trial's config is built from them.

A spec names options the way the model's `train` command does (`lr`, `hidden`, `train_size`, ...)
or by their config field (`learning_rate`, `hidden_sizes`). `trial_config` hands them, with the
spec's dataset, threads and seed, to the model kind's one config resolution
(`ModelKind.resolve_config`, the CLI's and the lab's too), so a preset and an option mean the same
in a spec as on the command line, and a bad value fails before Ray starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError
from mnistlab.runs.kinds import KIND_NAMES, get_kind

MODELS = KIND_NAMES

# Set by the spec's own keys, never per option: one sentence on where each belongs.
RESERVED = {"dataset": "set it with the top-level key dataset", "threads": "set threads_per_trial instead",
            "seed": "list the seeds in the top-level key seeds", "random_state": "list them in seeds",
            "backend": "set it in the base config", "device": "sweeps train on the CPU"}


def option_names(model: str) -> list[str]:
    """Every option name a spec may use in [fixed] or [space] for `model`."""
    return sorted(set(get_kind(model).option_names) - set(RESERVED))


def check_option_name(model: str, section: str, name: str) -> None:
    """Raise ConfigError when `name` is not an option of `model`'s train command."""
    if name in RESERVED:
        raise ConfigError(f"[{section}] {name}: not an option here; {RESERVED[name]}")
    if name not in option_names(model):
        raise ConfigError(f"[{section}] {name}: unknown {model} option; use one of {', '.join(option_names(model))}")


def read_base(model: str, base: str | None) -> dict[str, Any] | None:
    """The config.json at `base` as a dict (it travels to every trial), or None without a base."""
    if base is None:
        return None
    path = Path(base)
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"base: cannot read {path} ({exc}); give a {model} run's config.json") from None
    if not isinstance(values, dict):
        raise ConfigError(f"base: {path} holds no config object; give a {model} run's config.json")
    return values


def trial_config(model: str, *, preset: str | None, base: dict[str, Any] | None, dataset: str, threads: int,
                 seed: int, options: dict[str, Any]) -> Any:
    """The validated config of one trial: `preset` (or `base`), then `options`, dataset, threads and seed."""
    overrides = {**options, "dataset": dataset, "threads": threads, "seed": seed}
    try:
        return get_kind(model).resolve_config(preset=None if base is not None else preset, base=base,
                                              overrides=overrides)
    except TypeError as exc:  # a value of the wrong type deep inside a dataclass
        raise ConfigError(f"{exc}; check the types of {', '.join(options) or 'the base config'}") from None


def recorded_metrics(model: str, config: Any) -> tuple[str, ...]:
    """The per-epoch metrics a training with `config` records (what a sweep may optimise)."""
    return get_kind(model).recorded_metrics(config)
