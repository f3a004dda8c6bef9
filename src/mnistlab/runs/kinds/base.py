"""What a model kind is: the one place that knows how a kind's runs are configured, trained and read back.

A `ModelKind` answers every question the CLI, the sweep, the lab, `resume`, `rerun`, `report` and
`runs` ask about a run of its kind, so none of them branches on the kind's name:

- configuration: `presets`, `option_names`, `resolve_config(preset, config_file, overrides)` (the
  one resolution every entry point calls), `config_from_dict`, `epochs_of`, `resumed_to`;
- training: `prepare` (threads and framework set before any data loads), `train` (a new run
  directory), `resume` (on from a checkpoint), `recorded_metrics`;
- the trained model: `model_file`, `load_model`, `evaluate`, `predict_proba`, `activations`;
- presentation: `extra_figures` (figures a finished run holds beyond the shared ones), `flat_config`,
  `config_lines` and `summary_line` (what `<kind> train` and `rerun` print).

Resolution has three layers, in this order: a starting point (a preset, default `default_preset`,
or a config file / an already-read config dict), then the `overrides` (option name -> value, by
the train command's option names or the config's field names), then validation. Cross-option
rules that depend on where a value came from (e.g. the MLP's "PCA turns the preset's image shifts
off") live in the kind's `_apply`, so every entry point gets them.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError
from mnistlab.fileio import read_json_object
from mnistlab.runs.rundir import RunDir
from mnistlab.runs.summary import RunSummary
from mnistlab.threads import configure_threads

EpochCallback = Callable[[dict[str, Any]], "bool | None"]
BatchCallback = Callable[[int, int], None]


class ModelKind(ABC):
    """One kind of model (mlp, cnn): its config, training, resuming, model loading and evaluation."""

    name: ClassVar[str]
    presets: ClassVar[tuple[str, ...]]
    """Preset names, accepted alike by `<kind> train --preset`, a sweep spec's `preset` and the lab's form."""
    default_preset: ClassVar[str]
    model_file: ClassVar[str]
    """The model file a finished run of this kind leaves in its run directory (model.npz, model.keras)."""
    extra_figures: ClassVar[tuple[str, ...]] = ()
    """Figure stems a finished run holds beyond the shared curves, confusion and misclassified images."""
    option_names: ClassVar[tuple[str, ...]]
    """Every name `overrides` may use: the train command's option names and the config's field names."""
    epoch_views: ClassVar[tuple[str, ...]] = ()
    """What `model_at_epoch` gives truly as it was at an epoch, by the lab's view names (weights, kernels, maps, oip)."""

    # --- configuration -------------------------------------------------------------------------------

    def resolve_config(self, preset: str | None = None, config_file: str | os.PathLike | None = None,
                       overrides: Mapping[str, Any] | None = None, *, base: Mapping[str, Any] | None = None) -> Any:
        """The validated config: `preset` (or `config_file`, or `base`, a config already read), then `overrides`.

        `overrides` maps option names (see `option_names`) to values, as typed or as text ("70,30");
        None values count as not given. Raises ConfigError naming the value and the fix.
        """
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        starts = [label for label, value in (("--preset", preset), ("--config", config_file), ("base", base))
                  if value is not None]
        if len(starts) > 1:
            raise ConfigError(f"{' and '.join(starts)} both set the starting point; give one of them")
        unknown = sorted(set(given) - set(self.option_names))
        if unknown:
            raise ConfigError(f"unknown {self.name} option(s) {', '.join(unknown)}; "
                              f"use one of {', '.join(sorted(self.option_names))}")
        if config_file is not None:
            path = Path(config_file)
            try:
                start = self.config_from_dict(read_json_object(path, "--config file"))
            except ConfigError as exc:
                raise ConfigError(str(exc) if str(path) in str(exc) else f"--config {path}: {exc}") from None
        elif base is not None:
            start = self.config_from_dict(dict(base))
        else:
            name = preset or self.default_preset
            if name not in self.presets:
                raise ConfigError(f"preset {name!r} is not a {self.name} preset; choose one of {', '.join(self.presets)}")
            start = self.preset_config(name)
        return self._apply(start, given, from_preset=config_file is None and base is None)

    @abstractmethod
    def preset_config(self, name: str) -> Any:
        """A fresh copy of preset `name`'s config."""

    @abstractmethod
    def config_from_dict(self, values: dict[str, Any]) -> Any:
        """The validated config of a dict such as a run's config.json (unknown keys are errors)."""

    @abstractmethod
    def _apply(self, start: Any, given: dict[str, Any], *, from_preset: bool) -> Any:
        """`start` with the options in `given` applied (and the kind's cross-option rules), validated."""

    @abstractmethod
    def epochs_of(self, config: Any) -> int:
        """The epochs `config` plans to train."""

    @abstractmethod
    def resumed_to(self, config: Any, epochs: int) -> Any:
        """`config` continued to `epochs` epochs in all (ConfigError when its saved state cannot, e.g. a laid-out schedule)."""

    @abstractmethod
    def recorded_metrics(self, config: Any) -> tuple[str, ...]:
        """The per-epoch metrics a training with `config` records (what a sweep may optimise)."""

    def flat_config(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """A config dict as one level of keys that line up across kinds (nested keys dotted)."""
        return flatten(dict(values or {}))

    def config_lines(self, config: Any) -> list[str]:
        """What `<kind> train` prints before training: the resolved config as one JSON line."""
        return [f"config: {json.dumps(config.to_dict(), default=str)}"]

    @abstractmethod
    def summary_line(self, summary: RunSummary) -> str:
        """One line of a finished run's summary: test accuracy, epochs, time, where the run is."""

    # --- training -------------------------------------------------------------------------------------

    def prepare(self, config: Any) -> Any:
        """Bound the threads and start the framework before any data is loaded (a bad setting fails here);
        return `config` with what the start settled (the CNN's backend)."""
        configure_threads(getattr(config, "threads", None))
        return config

    @abstractmethod
    def train(self, config: Any, *, runs_dir: str | os.PathLike = "runs", name: str | None = None,
              on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
              checkpoint_every: int = 1, trial: dict[str, Any] | None = None) -> RunSummary:
        """Train `config` as a new run directory under `runs_dir`; return its summary.

        `trial` (a sweep's name, trial id...) is kept in the run's record (`RunDir.trial`).
        """

    @abstractmethod
    def resume(self, run: Any, config: Any, checkpoint: Any, *, prepare: Callable[[], float],
               on_epoch: EpochCallback | None, on_batch: BatchCallback | None, checkpoint_every: int) -> RunSummary:
        """Continue `run` from `checkpoint` up to `config`'s epochs; return the summary.

        The kind loads what it needs first (so a failure leaves the run untouched), then calls
        `prepare()`, which readies the run directory and returns the seconds already trained.
        """

    # --- the trained model ----------------------------------------------------------------------------

    @abstractmethod
    def load_model(self, path: str | os.PathLike, *, dataset: str | None = None, backend: str | None = None) -> Any:
        """The model of a run directory or model file, ready for `predict_proba` and `activations`.

        `dataset` overrides the one the model was trained on (an MLP refits its preprocessing on it).
        """

    @abstractmethod
    def predict_proba(self, model: Any, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes) of uint8 images (n, 28, 28)."""

    @abstractmethod
    def activations(self, model: Any, images: np.ndarray) -> dict[str, np.ndarray]:
        """Per-layer activations of images (n, 28, 28), in layer order, ending with "output" (the probabilities)."""

    def model_at_epoch(self, model: Any, run_dir: str | os.PathLike, epoch: int) -> Any:
        """The loaded final `model` of the run at `run_dir` with the weights it kept for `epoch` (runs/snapshots.py).

        Only what `epoch_views` names is the epoch's own; ModelFileError when the run kept no weights of `epoch`.
        """
        raise NotImplementedError(f"{self.name} runs keep no weights per epoch")

    @abstractmethod
    def evaluate(self, path: Path, *, dataset: str | None, split: str, backend: str | None = None) -> Any:
        """(dataset, Evaluation, class names) of the model at `path` on `dataset`'s `split`."""


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict as one level of dotted keys ("layers.0.size")."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def run_dataset(model_path: Path) -> str | None:
    """The dataset named in the config of the run directory holding `model_path`, or None."""
    run = RunDir(Path(model_path).parent)
    if not run.config_path.is_file():
        return None
    dataset = run.read_config().get("dataset")  # a damaged one is an error, not a guess
    return dataset if dataset in DATASET_NAMES else None


def model_path(path: str | os.PathLike, model_file: str) -> Path:
    """`path` itself when it is a model file, else `path/model_file` (a run directory)."""
    path = Path(path)
    return path / model_file if path.is_dir() else path
