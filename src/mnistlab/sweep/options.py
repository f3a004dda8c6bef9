"""The options a sweep may set or search, and how one trial's config is built from them.

A spec names options the way the model's `train` command does (`lr`, `hidden`, `train_size`, ...)
or by their config field (`learning_rate`, `hidden_sizes`); `trial_config` applies them to the base
config (a preset or a run's config.json) and validates the result, so a bad value fails before Ray
starts. The MLP's names come from its one declaration (`mnistlab.mlp.options.OPTIONS`, which also
makes the `mlp train` flags); the CNN's mirror `mnistlab cnn train`, and a test keeps them equal.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from mnistlab.cnn.config import CNNConfig, parse_layers
from mnistlab.errors import ConfigError
from mnistlab.mlp.options import OPTIONS
from mnistlab.mlp.run import PRESETS, MLPRunConfig

MODELS = ("mlp", "cnn")

MLP_FIELDS = tuple(o.name for o in OPTIONS if o.flag)  # the MLP options `mlp train` has a flag for
MLP_ALIASES = {o.flag.removeprefix("--").replace("-", "_"): o.name for o in OPTIONS  # e.g. lr -> learning_rate
               if o.flag and o.flag.removeprefix("--").replace("-", "_") != o.name}
MLP_RUN_ALIASES = {"pca": "pca_components", "clusters": "kmeans_clusters"}  # -> MLPRunConfig field
MLP_RUN_FIELDS = ("scaler", "pca_components", "kmeans_clusters", "train_size")
CNN_ALIASES = {"lr": "learning_rate"}
CNN_ARCH_OPTIONS = ("conv", "dense", "kernel", "stride", "padding", "pool", "pool_size", "dropout", "batch_norm")
# Set by the spec's own keys, never per option: one sentence on where each belongs.
RESERVED = {"dataset": "set it with the top-level key dataset", "threads": "set threads_per_trial instead",
            "seed": "list the seeds in the top-level key seeds", "random_state": "list them in seeds",
            "backend": "set it in the base config", "device": "sweeps train on the CPU"}

MLP_METRICS = ("loss", "accuracy", "train_accuracy", "test_accuracy", "val_loss", "val_accuracy",
               "epoch_seconds")
CNN_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "epoch_seconds")


def option_names(model: str) -> list[str]:
    """Every option name a spec may use in [fixed] or [space] for `model`."""
    if model == "mlp":
        names = [*MLP_FIELDS, *MLP_ALIASES, *MLP_RUN_FIELDS, *MLP_RUN_ALIASES]
    else:
        names = [f.name for f in fields(CNNConfig) if f.name != "layers"] + list(CNN_ALIASES) + list(CNN_ARCH_OPTIONS)
    return sorted(set(names) - set(RESERVED))


def check_option_name(model: str, section: str, name: str) -> None:
    """Raise ConfigError when `name` is not an option of `model`'s train command."""
    if name in RESERVED:
        raise ConfigError(f"[{section}] {name}: not an option here; {RESERVED[name]}")
    if name not in option_names(model):
        raise ConfigError(f"[{section}] {name}: unknown {model} option; use one of {', '.join(option_names(model))}")


def base_config(model: str, preset: str | None, base: str | None) -> dict[str, Any]:
    """The starting config as a dict: a preset's, or the config.json at `base`."""
    if base is not None:
        path = Path(base)
        try:
            values = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"base: cannot read {path} ({exc}); give a {model} run's config.json") from None
        if not isinstance(values, dict):
            raise ConfigError(f"base: {path} holds no config object; give a {model} run's config.json")
        return values
    if model == "mlp":
        if preset not in PRESETS:
            raise ConfigError(f"preset = {preset!r} is not an mlp preset; choose one of {', '.join(PRESETS)}")
        return PRESETS[preset].to_dict()
    if preset != "default":
        raise ConfigError(f"preset = {preset!r} is not a cnn preset; use preset = \"default\" or base = \"...\"")
    return CNNConfig().to_dict()


def _hidden_sizes(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            return () if text in ("", "none") else tuple(int(p) for p in text.split(","))
        except ValueError:
            raise ConfigError(f"hidden = {value!r} is not valid; give sizes like \"70,30\" or [70, 30]") from None
    return tuple(value) if isinstance(value, list) else value


def _mlp_config(base: dict[str, Any], dataset: str, threads: int, seed: int, options: dict[str, Any]):
    run = {k: v for k, v in base.items() if k != "mlp"}
    mlp = dict(base.get("mlp") or {})
    run.update(dataset=dataset, threads=threads)
    mlp["random_state"] = seed
    for name, value in options.items():
        name = MLP_RUN_ALIASES.get(name, name)
        if name in MLP_RUN_FIELDS:
            run[name] = value
        else:
            name = MLP_ALIASES.get(name, name)
            mlp[name] = _hidden_sizes(value) if name == "hidden_sizes" else value
    config = MLPRunConfig.from_dict({**run, "mlp": mlp})
    config.validate()
    return config


def _cnn_config(base: dict[str, Any], dataset: str, threads: int, seed: int, options: dict[str, Any]):
    values = dict(base, dataset=dataset, threads=threads, seed=seed)
    arch = {k: v for k, v in options.items() if k in CNN_ARCH_OPTIONS}
    values.update({CNN_ALIASES.get(k, k): v for k, v in options.items() if k not in CNN_ARCH_OPTIONS})
    if arch:
        arch = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in arch.items()}
        values["layers"] = [vars(layer) for layer in parse_layers(**arch)]
    return CNNConfig.from_dict(values)


def trial_config(model: str, base: dict[str, Any], *, dataset: str, threads: int, seed: int,
                 options: dict[str, Any]):
    """The validated config (MLPRunConfig or CNNConfig) of one trial: base, then `options`, seed, threads."""
    build = _mlp_config if model == "mlp" else _cnn_config
    try:
        return build(base, dataset, threads, seed, options)
    except TypeError as exc:  # a value of the wrong type deep inside a dataclass
        raise ConfigError(f"{exc}; check the types of {', '.join(options) or 'the base config'}") from None


def recorded_metrics(model: str, config: Any) -> tuple[str, ...]:
    """The per-epoch metrics a training with `config` records (what a sweep may optimise)."""
    if model == "mlp":
        mlp = config.mlp
        skip = {"train_accuracy": not mlp.eval_train_every, "test_accuracy": not mlp.eval_test_every,
                "val_loss": not mlp.early_stopping, "val_accuracy": not mlp.early_stopping}
        return tuple(m for m in MLP_METRICS if not skip.get(m))
    has_val = config.validation_split > 0
    return tuple(m for m in CNN_METRICS if has_val or not m.startswith("val_"))
