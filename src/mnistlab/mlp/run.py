"""The configuration of an MLP training run on MNIST or Fashion-MNIST, and its data.

`MLPRunConfig` adds the data side (dataset, preprocessing, threads) to `MLPConfig`;
`prepare_data` loads and preprocesses both splits. Recording a run (the run directory) is
`mnistlab.runs.training.train_mlp_run`, one layer up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from mnistlab.data import load
from mnistlab.data.catalog import DATASET_NAMES, EXPECTED
from mnistlab.data.preprocess import PreprocessConfig, build_preprocessor
from mnistlab.errors import ConfigError
from mnistlab.mlp.config import DEFAULT_PRESET, FASHION_PRESET, SEED_PRESET, MLPConfig, validate_config

N_PIXELS = 28 * 28


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
        if self.dataset not in DATASET_NAMES:
            raise ConfigError(f"dataset={self.dataset!r} is not valid; choose one of {', '.join(DATASET_NAMES)}")
        if self.train_size is not None and (not isinstance(self.train_size, int) or self.train_size < 2):
            raise ConfigError(f"train_size={self.train_size!r} is not valid; give at least 2 images or omit it")
        self.preprocess_config()
        validate_config(self.mlp)
        if self.mlp.flip and (self.pca_components is not None or self.kmeans_clusters is not None):
            raise ConfigError("flip mirrors images, but PCA / k-means turn them into other features; "
                              "turn it off (--no-flip) or drop --pca / --clusters")
        if self.mlp.shift_pixels and (self.pca_components is not None or self.kmeans_clusters is not None):
            raise ConfigError("shift_pixels moves images, but PCA / k-means turn them into other features; "
                              "set shift_pixels to 0 (--shift-pixels 0) or drop --pca / --clusters")
        self._check_against_data_size()

    def _check_against_data_size(self) -> None:
        """PCA components and k-means clusters cannot outnumber the training images (or the pixels)."""
        n_images = EXPECTED[(self.dataset, "train")].count
        n_images = min(n_images, self.train_size) if self.train_size is not None else n_images
        pca = self.pca_components
        if isinstance(pca, int) and pca > min(n_images, N_PIXELS):
            raise ConfigError(f"pca_components={pca} is more than PCA can give here (at most {min(n_images, N_PIXELS)}: "
                              f"{n_images} training images, {N_PIXELS} pixels); choose fewer components")
        if self.kmeans_clusters is not None and self.kmeans_clusters > n_images:
            raise ConfigError(f"kmeans_clusters={self.kmeans_clusters} is more than the {n_images} training images; "
                              "choose fewer clusters (the seed used 40 to 70)")

    def preprocess_config(self) -> PreprocessConfig:
        """The data layer's PreprocessConfig of this run."""
        return PreprocessConfig(scaler=self.scaler, pca_components=self.pca_components,
                                kmeans_clusters=self.kmeans_clusters, random_state=self.mlp.random_state or 0)


PRESETS = {
    # The seed standardised its inputs (StandardScaler), so the seed preset does too.
    "seed": MLPRunConfig(scaler="standard", mlp=SEED_PRESET),
    # Pixels / 255: StandardScaler turns rarely inked border pixels into inputs of up to ~400 at
    # test time, which costs a ReLU net about half a point of test accuracy on MNIST.
    "default": MLPRunConfig(scaler="unit", mlp=DEFAULT_PRESET),
    # Fashion-MNIST's own preset: a wider net, dropout and a one-cycle schedule (docs/mlp.md).
    "fashion": MLPRunConfig(dataset="fashion-mnist", scaler="unit", mlp=FASHION_PRESET),
}
"""Starting points of `mnistlab mlp train --preset NAME`."""


def prepare_data(cfg: MLPRunConfig):
    """Load and preprocess the train and test splits: (X_train, y_train, X_test, y_test, test_set, preprocessor)."""
    train_set, test_set = load(cfg.dataset, "train"), load(cfg.dataset, "test")
    images, labels = train_set.images, train_set.labels
    if cfg.train_size is not None:
        images, labels = images[:cfg.train_size], labels[:cfg.train_size]
    pre = build_preprocessor(cfg.preprocess_config())
    X_train = np.ascontiguousarray(pre.fit_transform(images), dtype=np.float32)
    X_test = np.ascontiguousarray(pre.transform(test_set.images), dtype=np.float32)
    return X_train, labels, X_test, test_set.labels, test_set, pre
