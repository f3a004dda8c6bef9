"""The NumPy MLP as a model kind: its config (presets, options, the PCA rule), runs and trained models.

Config: `MLPRunConfig` (the data side: dataset, scaler, PCA, k-means, train size, threads) around
`MLPConfig` (the network's options, declared once in `mnistlab.mlp.options`). Overrides use the
`mlp train` names (`lr`, `hidden`, `pca`, `clusters`, ...) or the config's field names; text forms
("70,30", "auto", "inf") are parsed by `mnistlab.mlp.option_text`.

The cross-option rule: PCA or k-means features are no longer pixels, so when either is given on
top of a preset, the preset's image shifts (`shift_pixels`) are turned off; an explicit
`shift_pixels` with them stays and fails validation with a one-line error.

A trained model is the classifier plus its preprocessing refitted on the run's own training
split (same scaler, PCA components, k-means seed), exactly as in training.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from mnistlab.cnn.evaluate import Evaluation, score
from mnistlab.data import load
from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.data.preprocess import build_preprocessor
from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.mlp.option_text import parse_option
from mnistlab.mlp.options import OPTIONS
from mnistlab.mlp.run import PRESETS, MLPRunConfig, prepare_data
from mnistlab.runs.checkpoint import load_mlp_state
from mnistlab.runs.summary import RunSummary
from mnistlab.runs.kinds.base import BatchCallback, EpochCallback, ModelKind, flatten, model_path
from mnistlab.runs.plots import WEIGHTS
from mnistlab.runs.snapshots import load_snapshot
from mnistlab.runs.training import mlp_session, train_mlp_run
from mnistlab.threads import configure_threads

if TYPE_CHECKING:
    from mnistlab.mlp.estimator import MLPClassifier

RUN_FIELDS = ("dataset", "scaler", "pca_components", "kmeans_clusters", "train_size", "threads")
"""MLPRunConfig fields an override may set (the rest are the network's, under "mlp")."""
RUN_ALIASES = {"pca": "pca_components", "clusters": "kmeans_clusters"}
NET_FIELDS = tuple(o.name for o in OPTIONS if o.flag)  # the MLP options `mlp train` has a flag for
NET_ALIASES = {o.flag.removeprefix("--").replace("-", "_"): o.name for o in OPTIONS  # e.g. lr -> learning_rate
               if o.flag and o.flag.removeprefix("--").replace("-", "_") != o.name}
ALIAS_OF = {**RUN_ALIASES, **NET_ALIASES}
METRICS = ("loss", "accuracy", "train_accuracy", "test_accuracy", "val_loss", "val_accuracy", "epoch_seconds")


@dataclass
class MLPModel:
    """A trained MLP and its refitted preprocessing: uint8 images (n, 28, 28) in, arrays out."""

    classifier: MLPClassifier
    preprocessor: Any
    config: MLPRunConfig

    @property
    def dataset(self) -> str:
        return self.config.dataset

    def features(self, images: np.ndarray) -> np.ndarray:
        """The classifier's inputs, float32 (n, n_features): the training's own preprocessing."""
        return np.ascontiguousarray(self.preprocessor.transform(images), dtype=np.float32)


class MLPKind(ModelKind):
    """`mnistlab mlp train`: the from-scratch NumPy MLP."""

    name = "mlp"
    presets = tuple(sorted(PRESETS))  # default, fashion, seed
    default_preset = "default"
    model_file = "model.npz"
    extra_figures = (WEIGHTS,)
    option_names = (*RUN_FIELDS, *RUN_ALIASES, *NET_FIELDS, *NET_ALIASES)
    epoch_views = ("weights",)

    def preset_config(self, name: str) -> MLPRunConfig:
        preset = PRESETS[name]
        return replace(preset, mlp=replace(preset.mlp))

    def config_from_dict(self, values: dict[str, Any]) -> MLPRunConfig:
        config = MLPRunConfig.from_dict(values)
        config.validate()
        return config

    def _apply(self, start: MLPRunConfig, given: dict[str, Any], *, from_preset: bool) -> MLPRunConfig:
        run = start.to_dict()
        net = run.pop("mlp")
        values: dict[str, Any] = {}
        for option, value in given.items():
            field = RUN_ALIASES.get(option) or NET_ALIASES.get(option) or option
            if field in values:
                first = next(name for name in given if name != option and field in (name, ALIAS_OF.get(name)))
                raise ConfigError(f"{first} and {option} both set {field}; give one of them")
            values[field] = parse_option(field, value)
        pca = values.get("pca_components")
        if isinstance(pca, float) and pca.is_integer() and pca >= 1:
            values["pca_components"] = int(pca)  # 50.0 components is 50 components, not a variance share
        if from_preset and (pca is not None or values.get("kmeans_clusters") is not None):
            net["shift_pixels"] = 0  # the preset's image shifts and flips mean nothing for PCA / k-means features
            net["flip"] = False
        for field, value in values.items():
            (run if field in RUN_FIELDS else net)[field] = value
        config = MLPRunConfig.from_dict({**run, "mlp": net})
        config.validate()
        return config

    def epochs_of(self, config: MLPRunConfig) -> int:
        return config.mlp.epochs

    def resumed_to(self, config: MLPRunConfig, epochs: int) -> MLPRunConfig:
        config = replace(config, mlp=replace(config.mlp, epochs=epochs))
        config.validate()
        return config

    def recorded_metrics(self, config: MLPRunConfig) -> tuple[str, ...]:
        mlp = config.mlp
        skip = {"train_accuracy": not mlp.eval_train_every, "test_accuracy": not mlp.eval_test_every,
                "val_loss": not mlp.early_stopping, "val_accuracy": not mlp.early_stopping}
        return tuple(m for m in METRICS if not skip.get(m))

    def flat_config(self, values: dict[str, Any] | None) -> dict[str, Any]:
        """The network's options lifted out of "mlp", so they line up with the CNN's (epochs, ...)."""
        values = dict(values or {})
        return flatten({**{k: v for k, v in values.items() if k != self.name}, **(values.get(self.name) or {})})

    def summary_line(self, summary: RunSummary) -> str:
        return (f"test accuracy {summary.test_accuracy:.2%} after {summary.epochs} epochs "
                f"(train {summary.train_seconds:.1f} s, evaluation {summary.eval_seconds:.1f} s); "
                f"run: {summary.run_dir}")

    def train(self, config: MLPRunConfig, *, runs_dir: str | os.PathLike = "runs", name: str | None = None,
              on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
              checkpoint_every: int = 1, trial: dict[str, Any] | None = None) -> RunSummary:
        summary = train_mlp_run(config, runs_dir=str(runs_dir), name=name, on_epoch=on_epoch, on_batch=on_batch,
                                checkpoint_every=checkpoint_every, trial=trial)
        return RunSummary.from_dict(summary)

    def resume(self, run: Any, config: MLPRunConfig, checkpoint: Any, *, prepare: Callable[[], float],
               on_epoch: EpochCallback | None, on_batch: BatchCallback | None, checkpoint_every: int) -> RunSummary:
        """Bit for bit: weights, optimiser, random generator and history continue from the checkpoint.

        The run's thread bound is applied again: BLAS sums in another order on another thread count,
        and float32 weights would then differ in their last bits from the uninterrupted run's.
        """
        if config.threads is not None:
            configure_threads(config.threads)
        data = prepare_data(config)
        state = load_mlp_state(checkpoint)
        prior_seconds = prepare()
        summary = mlp_session(run, config, data, on_epoch=on_epoch, on_batch=on_batch,
                              checkpoint_every=checkpoint_every, state=state, done=checkpoint.epoch, prior_seconds=prior_seconds)
        return RunSummary.from_dict(summary)

    def load_model(self, path: str | os.PathLike, *, dataset: str | None = None,
                   backend: str | None = None) -> MLPModel:
        """The classifier of model.npz (no pickles) with its preprocessing refitted on the training split."""
        # The estimator is a scikit-learn one (about a second to import): loaded with a model, not to list runs.
        from mnistlab.mlp.estimator import MLPClassifier

        file = model_path(path, self.model_file)
        classifier = MLPClassifier.load(file)
        meta = dict(classifier.metadata_)
        dataset = dataset or meta.get("dataset")
        if dataset is None:
            raise ConfigError(f"{file} does not say which dataset it was trained on; "
                              f"pass --dataset {'|'.join(DATASET_NAMES)}")
        config = MLPRunConfig(dataset=dataset, scaler=meta.get("scaler", "standard"),
                              pca_components=meta.get("pca_components"), kmeans_clusters=meta.get("kmeans_clusters"),
                              train_size=meta.get("train_size"), mlp=classifier.config)
        preprocessor = build_preprocessor(config.preprocess_config())
        images = load(dataset, "train").images[:config.train_size]
        preprocessor.fit(images)
        model = MLPModel(classifier, preprocessor, config)
        width = model.features(images[:1]).shape[1]
        if width != classifier.n_features_in_:
            raise ConfigError(f"{file} expects {classifier.n_features_in_} features but {dataset} gives {width}; "
                              "check the model's preprocessing")
        return model

    def model_at_epoch(self, model: MLPModel, run_dir: str | os.PathLike, epoch: int) -> MLPModel:
        """The model with its first layer as it was after `epoch`; the MLP keeps only that layer per epoch,
        so the other layers, and the predictions, stay the final ones (`epoch_views`: weights)."""
        first = load_snapshot(run_dir, epoch)["first_layer"].astype(np.float32)  # (n_features, units)
        final = model.classifier.coefs_
        if first.shape != final[0].shape:
            raise ModelFileError(f"the weights kept for epoch {epoch} are {first.shape}, the model's first layer "
                                 f"{final[0].shape}; train the run again with `mnistlab rerun`")
        classifier = copy.copy(model.classifier)
        classifier.coefs_ = [first, *final[1:]]
        return replace(model, classifier=classifier)

    def predict_proba(self, model: MLPModel, images: np.ndarray) -> np.ndarray:
        return model.classifier.predict_proba(model.features(images))

    def activations(self, model: MLPModel, images: np.ndarray) -> dict[str, np.ndarray]:
        """{"hidden1": (n, units), ..., "output": probabilities (n, n_classes)}: the library's forward pass."""
        layers = model.classifier.layer_activations(model.features(images))
        names = [f"hidden{i}" for i in range(1, len(layers))] + ["output"]
        return dict(zip(names, layers))

    def evaluate(self, path: Path, *, dataset: str | None, split: str,
                 backend: str | None = None) -> tuple[str, Evaluation, tuple[str, ...]]:
        """Score the MLP on `split` through its refitted preprocessing, as in training."""
        model = self.load_model(path, dataset=dataset)
        data = load(model.dataset, split)
        images, labels = data.images, data.labels
        if split == "train":
            images, labels = images[:model.config.train_size], labels[:model.config.train_size]
        y_pred = np.asarray(model.classifier.predict(model.features(images)))
        return model.dataset, score(labels, y_pred, len(data.class_names)), data.class_names
