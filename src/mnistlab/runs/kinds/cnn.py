"""The Keras convnet as a model kind: its config (presets, options, layers), runs and trained models.

Config: `CNNConfig`. Overrides use the `cnn train` names (`lr`, `conv`, `dense`, `kernel`, ...) or
the config's field names; the architecture options rebuild the layer list (`parse_layers`: the
options not given take parse_layers' defaults, not the starting config's layers), lists such as a
sweep's `conv = [8, 16]` meaning the same as the text "8,16".

A trained model is the Keras model (loaded in safe mode) with one feature extractor over its
conv and pooling layers, so one forward pass gives every map and the class probabilities.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.cnn.backend import cpu_settings_in_force, import_keras
from mnistlab.cnn.config import CNN_PRESETS, CNNConfig, parse_layers
from mnistlab.cnn.cpu_settings import describe_backend
from mnistlab.cnn.evaluate import Evaluation
from mnistlab.cnn.evaluate import evaluate as evaluate_cnn
from mnistlab.cnn.io import load_model as load_keras_model
from mnistlab.cnn.model import to_model_input
from mnistlab.data import load
from mnistlab.errors import ConfigError, MnistlabError, ModelFileError
from mnistlab.insight.extract import layer_kind, layers_of_kind, model_input
from mnistlab.runs.summary import RunSummary
from mnistlab.runs.kinds.base import BatchCallback, EpochCallback, ModelKind, model_path, run_dataset
from mnistlab.runs.snapshots import keras_weights, load_snapshot
from mnistlab.runs.training import cnn_session, train_cnn_run

ALIASES = {"lr": "learning_rate"}
ALIAS_OF = ALIASES
ARCH_OPTIONS = ("conv", "dense", "kernel", "stride", "padding", "pool", "pool_size", "dropout", "batch_norm")
"""The `cnn train` options that build the layer list together (`parse_layers`)."""
FIELDS = tuple(f.name for f in fields(CNNConfig) if f.name != "layers")
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "epoch_seconds")
LAID_OUT_SCHEDULES = ("cosine", "onecycle")  # their decay is laid out for the planned epochs


@dataclass
class CNNModel:
    """A trained Keras CNN with a feature extractor over its conv/pooling layers and its output."""

    model: Any
    extractor: Any
    map_layers: list[str]
    conv_layers: list[str]
    dataset: str


def _studied(model: Any, dataset: str, backend: str | None = None) -> CNNModel:
    """`model` with one feature extractor over its conv/pooling layers and its output."""
    keras = import_keras(backend)
    map_layers = layers_of_kind(model, ("conv", "pool"))
    extractor = keras.Model(inputs=model_input(model), outputs=[layer.output for layer in map_layers] + [model.output])
    conv = [layer.name for layer in map_layers if layer_kind(layer) == "conv"]
    return CNNModel(model, extractor, [layer.name for layer in map_layers], conv, dataset)


class CNNKind(ModelKind):
    """`mnistlab cnn train`: the seed's Keras 3 convnet."""

    name = "cnn"
    presets = tuple(CNN_PRESETS)
    default_preset = "seed"
    model_file = "model.keras"
    option_names = (*FIELDS, *ALIASES, *ARCH_OPTIONS)
    epoch_views = ("kernels", "maps", "oip")

    def preset_config(self, name: str) -> CNNConfig:
        return CNN_PRESETS[name].replace()

    def config_from_dict(self, values: dict[str, Any]) -> CNNConfig:
        return CNNConfig.from_dict(values)

    def _apply(self, start: CNNConfig, given: dict[str, Any], *, from_preset: bool) -> CNNConfig:
        changes: dict[str, Any] = {}
        arch = {}
        for option, value in given.items():
            if option in ARCH_OPTIONS:
                arch[option] = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
                continue
            field = ALIASES.get(option, option)
            if field in changes:
                first = next(name for name in given if name != option and field in (name, ALIAS_OF.get(name)))
                raise ConfigError(f"{first} and {option} both set {field}; give one of them")
            changes[field] = value
        if arch:
            changes["layers"] = parse_layers(**arch)
        return start.replace(**changes)

    def epochs_of(self, config: CNNConfig) -> int:
        return config.epochs

    def resumed_to(self, config: CNNConfig, epochs: int) -> CNNConfig:
        if config.schedule in LAID_OUT_SCHEDULES and epochs != config.epochs:
            raise ConfigError(f"the {config.schedule} schedule is laid out for {config.epochs} epochs, which the "
                              f"saved optimiser keeps; resume to {config.epochs} epochs or train a new run")
        return config.replace(epochs=epochs)

    def recorded_metrics(self, config: CNNConfig) -> tuple[str, ...]:
        has_val = config.validation_split > 0
        return tuple(m for m in METRICS if has_val or not m.startswith("val_"))

    def prepare(self, config: CNNConfig) -> CNNConfig:
        """Start Keras with the config's backend, device and threads (measuring the CPU settings once)."""
        keras = import_keras(config.backend, device=config.device, threads=config.threads,
                             gpu_memory_fraction=config.gpu_memory_fraction, measure_cpu=True)
        return config.replace(backend=keras.backend.backend())

    def config_lines(self, config: CNNConfig) -> list[str]:
        """The config, and the framework CPU settings in force (after `prepare`)."""
        in_force = cpu_settings_in_force().get(config.backend, [])
        return [*super().config_lines(config), f"cpu settings: {describe_backend(config.backend, in_force)}"]

    def summary_line(self, summary: RunSummary) -> str:
        return (f"test accuracy {summary.test_accuracy:.2%} after {summary.epochs} epochs "
                f"({summary.train_seconds:.0f} s, {summary.backend}); run: {summary.run_dir}")

    def train(self, config: CNNConfig, *, runs_dir: str | os.PathLike = "runs", name: str | None = None,
              on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
              checkpoint_every: int = 1, trial: dict[str, Any] | None = None) -> RunSummary:
        summary = train_cnn_run(config, runs_dir=str(runs_dir), name=name, on_epoch=on_epoch, on_batch=on_batch,
                                checkpoint_every=checkpoint_every, trial=trial)
        return RunSummary.from_dict(summary)

    def resume(self, run: Any, config: CNNConfig, checkpoint: Any, *, prepare: Callable[[], float],
               on_epoch: EpochCallback | None, on_batch: BatchCallback | None, checkpoint_every: int) -> RunSummary:
        """Weights and optimiser state continue from the checkpoint; the shuffle stream starts afresh."""
        keras = import_keras(config.backend, device=config.device, threads=config.threads,
                             gpu_memory_fraction=config.gpu_memory_fraction)
        model = load_keras_model(checkpoint.path, backend=keras.backend.backend(), compile=True)
        prior_seconds = prepare()
        summary = cnn_session(run, config, on_epoch=on_epoch, on_batch=on_batch,
                              checkpoint_every=checkpoint_every, model=model, done=checkpoint.epoch, prior_seconds=prior_seconds)
        return RunSummary.from_dict(summary)

    def load_model(self, path: str | os.PathLike, *, dataset: str | None = None,
                   backend: str | None = None) -> CNNModel:
        """The Keras model of model.keras (safe mode) and its extractor of conv/pooling maps."""
        file = model_path(path, self.model_file)
        model = load_keras_model(file, backend=backend)
        return _studied(model, dataset or run_dataset(file) or "mnist", backend)

    def model_at_epoch(self, model: CNNModel, run_dir: str | os.PathLike, epoch: int) -> CNNModel:
        """A copy of the architecture with every weight as it was after `epoch` (0: the initial weights)."""
        weights = keras_weights(load_snapshot(run_dir, epoch))
        keras = import_keras()
        clone = keras.models.clone_model(model.model)
        try:
            clone.set_weights(weights)
        except ValueError as exc:
            raise ModelFileError(f"the weights kept for epoch {epoch} do not fit {Path(run_dir).name}'s model "
                                 f"({str(exc).splitlines()[0]}); train the run again with `mnistlab rerun`") from None
        return _studied(clone, model.dataset)

    def predict_proba(self, model: CNNModel, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Class probabilities (n, 10), in batches called directly (no `predict` loop set-up per call)."""
        keras = import_keras()
        chunks = [keras.ops.convert_to_numpy(model.model(to_model_input(images[i:i + batch_size]), training=False))
                  for i in range(0, len(images), batch_size)]
        return np.concatenate(chunks).astype(np.float32)

    def activations(self, model: CNNModel, images: np.ndarray) -> dict[str, np.ndarray]:
        """{conv/pooling layer name: maps (n, h, w, c), ..., "output": probabilities (n, 10)}, one forward pass.

        Through Keras's compiled predict step, not an eager call: the lab calls this for every drawing,
        and an eager pass, op by op, gives up the GIL at each op and waits to get it back behind the
        server's other threads (4 ms alone, 0.7 s beside two busy Python threads; compiled: 0.8 ms, 16 ms).
        """
        outputs = model.extractor.predict_on_batch(to_model_input(images))
        arrays = [np.asarray(out, dtype=np.float32) for out in outputs]
        return {**dict(zip(model.map_layers, arrays[:-1])), "output": arrays[-1]}

    def evaluate(self, path: Path, *, dataset: str | None, split: str,
                 backend: str | None = None) -> tuple[str, Evaluation, tuple[str, ...]]:
        dataset = dataset or run_dataset(path)
        if dataset is None:
            raise ConfigError("the dataset is required when the model is a file outside a run directory; "
                              "e.g. --dataset mnist")
        model = load_keras_model(path, backend=backend)
        data = load(dataset, split)
        try:
            return dataset, evaluate_cnn(model, data.images, data.labels), data.class_names
        except ValueError as exc:
            raise MnistlabError(f"{path} does not take 28x28 images ({str(exc).splitlines()[0]})") from None
