"""A recorded training run of the MLP on MNIST or Fashion-MNIST (what `mnistlab mlp train` does).

`MLPRunConfig` adds the data side (dataset, preprocessing, threads) to `MLPConfig`;
`train_run` loads and preprocesses the data, trains with progress hooks, and writes the run
directory: config.json, metrics.csv (one row per epoch), model.npz, figures, summary.json.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
from mnistlab.mlp.config import DEFAULT_PRESET, SEED_PRESET, MLPConfig, validate_config

DATASETS = ("mnist", "fashion-mnist")
N_PIXELS = 28 * 28
METRIC_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "train_accuracy", "test_accuracy",
                  "learning_rate", "epoch_seconds")


@dataclass
class MLPRunConfig:
    """Everything a training run needs: data, preprocessing, threads and the MLP's options."""

    dataset: str = "mnist"
    scaler: str = "standard"
    pca_components: int | float | None = None
    kmeans_clusters: int | None = None
    train_size: int | None = None
    threads: int | None = None
    mlp: MLPConfig = field(default_factory=MLPConfig)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MLPRunConfig:
        """Build from a dict such as a run's config.json, rejecting unknown keys."""
        if not isinstance(values, dict):
            raise ConfigError(f"an MLP run config must be a JSON object, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(str, set(values) - known))
        if unknown:
            raise ConfigError(f"unknown run option(s) {', '.join(unknown)} in the config; "
                              f"valid: {', '.join(sorted(known))}")
        values = dict(values)
        values["mlp"] = MLPConfig.from_dict(values.get("mlp") or {})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready nested dict (config.json)."""
        return asdict(self)

    def validate(self) -> None:
        """Raise ConfigError for the first invalid value."""
        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset={self.dataset!r} is not valid; choose one of {', '.join(DATASETS)}")
        if self.train_size is not None and (not isinstance(self.train_size, int) or self.train_size < 2):
            raise ConfigError(f"train_size={self.train_size!r} is not valid; give at least 2 images or omit it")
        self.preprocess_config()
        validate_config(self.mlp)
        self._check_against_data_size()

    def _check_against_data_size(self) -> None:
        """PCA components and k-means clusters cannot outnumber the training images (or the pixels)."""
        from mnistlab.data.catalog import EXPECTED

        n_images = EXPECTED[(self.dataset, "train")].count
        n_images = min(n_images, self.train_size) if self.train_size is not None else n_images
        pca = self.pca_components
        if isinstance(pca, int) and pca > min(n_images, N_PIXELS):
            raise ConfigError(f"pca_components={pca} is more than PCA can give here (at most {min(n_images, N_PIXELS)}: "
                              f"{n_images} training images, {N_PIXELS} pixels); choose fewer components")
        if self.kmeans_clusters is not None and self.kmeans_clusters > n_images:
            raise ConfigError(f"kmeans_clusters={self.kmeans_clusters} is more than the {n_images} training images; "
                              "choose fewer clusters (the seed used 40 to 70)")

    def preprocess_config(self):
        """The data layer's PreprocessConfig of this run."""
        from mnistlab.data.preprocess import PreprocessConfig

        return PreprocessConfig(scaler=self.scaler, pca_components=self.pca_components,
                                kmeans_clusters=self.kmeans_clusters, random_state=self.mlp.random_state or 0)


PRESETS = {
    # The seed standardised its inputs (StandardScaler), so the seed preset does too.
    "seed": MLPRunConfig(scaler="standard", mlp=SEED_PRESET),
    # Pixels / 255: StandardScaler turns rarely inked border pixels into inputs of up to ~400 at
    # test time, which costs a ReLU net about half a point of test accuracy on MNIST.
    "default": MLPRunConfig(scaler="unit", mlp=DEFAULT_PRESET),
}
"""Starting points of `mnistlab mlp train --preset NAME`."""


def prepare_data(cfg: MLPRunConfig):
    """Load and preprocess the train and test splits: (X_train, y_train, X_test, y_test, test_set, preprocessor)."""
    from mnistlab.data import load
    from mnistlab.data.preprocess import build_preprocessor

    train_set, test_set = load(cfg.dataset, "train"), load(cfg.dataset, "test")
    images, labels = train_set.images, train_set.labels
    if cfg.train_size is not None:
        images, labels = images[:cfg.train_size], labels[:cfg.train_size]
    pre = build_preprocessor(cfg.preprocess_config())
    X_train = np.ascontiguousarray(pre.fit_transform(images), dtype=np.float32)
    X_test = np.ascontiguousarray(pre.transform(test_set.images), dtype=np.float32)
    return X_train, labels, X_test, test_set.labels, test_set, pre


def metrics_row(row: dict[str, float]) -> dict[str, Any]:
    """A history row in the run-directory column order; NaN (not measured) becomes an empty cell."""
    ordered = {c: row.get(c, math.nan) for c in METRIC_COLUMNS}
    ordered.update({k: v for k, v in row.items() if k not in ordered})
    return {k: ("" if isinstance(v, float) and math.isnan(v) else (int(v) if k == "epoch" else v))
            for k, v in ordered.items()}


def train_run(cfg: MLPRunConfig, *, runs_dir: str, name: str,
              on_batch_end: Callable[[int, int], None] | None = None,
              on_epoch_end: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Train `cfg` in a new run directory and return the summary (also summary.json)."""
    from mnistlab.mlp.estimator import MLPClassifier
    from mnistlab.runs.plots import write_run_figures
    from mnistlab.runs.rundir import RunDir

    cfg.validate()
    X_train, y_train, X_test, y_test, test_set, _ = prepare_data(cfg)
    run = RunDir.create(runs_dir, name, "mlp", cfg.to_dict())
    clf = MLPClassifier.from_config(cfg.mlp)
    summary: dict[str, Any] = {"model": "mlp", "dataset": cfg.dataset, "epochs": 0, "test_accuracy": None,
                               "train_seconds": 0.0, "run_dir": str(run.path)}
    seconds = {"train": 0.0, "eval": 0.0}

    def epoch_done(row: dict) -> None:
        seconds["train"] += row["epoch_seconds"]
        seconds["eval"] += row["eval_seconds"]
        summary["epochs"] = int(row["epoch"])
        run.log_epoch(metrics_row(row))
        if on_epoch_end is not None:
            on_epoch_end(row)

    start = time.perf_counter()
    with run.recording(summary):
        try:
            clf.fit(X_train, y_train, eval_set=(X_test, y_test), on_batch_end=on_batch_end, on_epoch_end=epoch_done)
        finally:
            summary.update(train_seconds=seconds["train"], wall_seconds=time.perf_counter() - start)
        wall = time.perf_counter() - start
        y_pred = clf.predict(X_test)
        metadata = {"dataset": cfg.dataset, "scaler": cfg.scaler, "pca_components": cfg.pca_components,
                    "kmeans_clusters": cfg.kmeans_clusters, "train_size": cfg.train_size,
                    "random_state": cfg.mlp.random_state}
        clf.save(run.file("model.npz"), metadata=metadata)
        class_index = np.searchsorted(clf.classes_, y_pred)
        first = clf.coefs_[0] if clf.coefs_[0].shape[0] == 784 else None
        write_run_figures(run, images=test_set.images, y_true=y_test, y_pred=class_index,
                          class_names=test_set.class_names, first_layer_weights=first)
    h = clf.history_.as_arrays()
    last = {k: (None if math.isnan(v[-1]) else float(v[-1])) for k, v in h.items()} if len(clf.history_) else {}
    summary.update(epochs=clf.n_iter_, test_accuracy=float(np.mean(y_pred == y_test)),
                   train_seconds=seconds["train"], eval_seconds=seconds["eval"], wall_seconds=wall,
                   train_accuracy=last.get("train_accuracy"), batch_accuracy=last.get("accuracy"),
                   val_accuracy=last.get("val_accuracy"), loss=last.get("loss"),
                   model_path=str(run.file("model.npz")))
    run.finish(summary)
    return summary
