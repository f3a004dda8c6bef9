"""The benchmark's data: a dataset, standard-scaled once, shared with worker processes as .npy files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from mnistlab.bench.engines.base import BenchData
from mnistlab.data import load
from mnistlab.data.preprocess import PreprocessConfig, build_preprocessor
from mnistlab.errors import ConfigError, DataError
from mnistlab.fileio import atomic_write

_FILES = ("X_train", "y_train", "X_test", "y_test")


def load_bench_data(dataset: str = "mnist", n_train: int | None = None, random_state: int = 0,
                    scaler: str = "standard", n_test: int | None = None) -> BenchData:
    """`dataset`'s train and test splits as float32 ``(n, 784)``, `scaler` fitted on train.

    `n_train` / `n_test` keep the first n training / test images (for tests and smoke runs); the
    CNN benchmarks use ``scaler="unit"`` (pixels / 255) and reshape to ``(n, 28, 28, 1)``.
    """
    train = load(dataset, "train", random_state=random_state)
    test = load(dataset, "test", random_state=random_state)
    if n_train is not None:
        if n_train < 1:
            raise ConfigError(f"n_train must be positive, got {n_train}")
        train_images, train_labels = train.images[:n_train], train.labels[:n_train]
    else:
        train_images, train_labels = train.images, train.labels
    if n_test is not None:
        if n_test < 1:
            raise ConfigError(f"n_test must be positive, got {n_test}")
        test = replace(test, images=test.images[:n_test], labels=test.labels[:n_test])
    scaler = build_preprocessor(PreprocessConfig(scaler=scaler, random_state=random_state))
    X_train = np.ascontiguousarray(scaler.fit_transform(train_images), dtype=np.float32)
    X_test = np.ascontiguousarray(scaler.transform(test.images), dtype=np.float32)
    return BenchData(X_train, train_labels.astype(np.int64), X_test, test.labels.astype(np.int64))


def synthetic_bench_data(n_train: int = 600, n_test: int = 200, n_features: int = 784, n_classes: int = 10,
                         noise: float = 1.0, random_state: int = 0) -> BenchData:
    """A small learnable problem: Gaussian blobs (std `noise`) around one random centre per class (for tests)."""
    rng = np.random.default_rng(random_state)
    centres = rng.standard_normal((n_classes, n_features)).astype(np.float32)
    y = rng.integers(0, n_classes, n_train + n_test)
    X = (centres[y] + noise * rng.standard_normal((y.size, n_features))).astype(np.float32)
    return BenchData(X[:n_train], y[:n_train].astype(np.int64), X[n_train:], y[n_train:].astype(np.int64))


def save_bench_data(data: BenchData, directory: Path) -> None:
    """Write the four arrays as .npy files into `directory` (for the worker processes)."""
    directory = Path(directory)
    for name in _FILES:
        with atomic_write(directory / f"{name}.npy", "wb") as fh:
            np.save(fh, getattr(data, name))


def read_bench_data(directory: Path) -> BenchData:
    """Read what `save_bench_data` wrote."""
    directory = Path(directory)
    try:
        arrays = {name: np.load(directory / f"{name}.npy", allow_pickle=False) for name in _FILES}
    except OSError as exc:
        raise DataError(f"cannot read the benchmark data in {directory}: {exc}; rerun the benchmark") from exc
    return BenchData(**arrays)
