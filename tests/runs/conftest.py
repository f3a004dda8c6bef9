"""Run directories made the way training commands make them, from small synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.runs import RunDir
from mnistlab.runs.plots import write_run_figures

CLASSES = tuple("0123456789")


def _digit_like_images(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 28, 28) uint8: a bright blob at a random place on a dark background, plus noise."""
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, size=(n, 2))
    blobs = np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 18.0)
    return np.clip(255 * blobs + rng.normal(0, 12, size=(n, 28, 28)), 0, 255).astype(np.uint8)


def write_synthetic_figures(run, kind="mlp", seed=0):
    """write_run_figures on synthetic test images, predictions (80 % right) and weights."""
    rng = np.random.default_rng(seed)
    images = _digit_like_images(rng, 60)
    y_true = rng.integers(0, 10, size=60)
    y_pred = np.where(rng.random(60) < 0.8, y_true, (y_true + 1) % 10)
    weights = rng.normal(size=(784, 12)) if kind == "mlp" else None
    return write_run_figures(run, images=images, y_true=y_true, y_pred=y_pred, class_names=CLASSES,
                             first_layer_weights=weights)


def make_run(runs_dir, name="run", *, kind="mlp", epochs=4, learning_rate=0.1, status="completed",
             figures=None):
    """A run with `epochs` metric rows, the PNGs in `figures` ({file name: bytes}) and a summary.

    No summary when `status` is "running" (a run still training or killed without a record).
    """
    config = {"dataset": "mnist", "epochs": epochs, "learning_rate": learning_rate,
              "hidden_sizes": [16], "batch_size": 64}
    run = RunDir.create(runs_dir, name, kind, config)
    for epoch in range(1, epochs + 1):
        run.log_epoch({"epoch": epoch, "loss": learning_rate * 10 / epoch, "accuracy": 1 - 0.4 / epoch,
                       "val_loss": 1.1 / epoch, "val_accuracy": 1 - 0.5 / epoch,
                       "test_accuracy": 1 - 0.45 / epoch, "epoch_seconds": 0.25})
    for file_name, png in (figures or {}).items():
        if kind == "mlp" or file_name != "first_layer_weights.png":
            (run.path / file_name).write_bytes(png)
    (run.path / ("model.npz" if kind == "mlp" else "model.keras")).write_bytes(b"model")
    if status != "running":
        run.finish({"model": kind, "dataset": "mnist", "epochs": epochs,
                    "test_accuracy": 1 - 0.45 / epochs, "train_seconds": 0.25 * epochs}, status=status)
    return run


@pytest.fixture(scope="session")
def figure_run(tmp_path_factory):
    """A synthetic MLP run and the paths write_run_figures returned for it, made once per session."""
    run = RunDir.create(tmp_path_factory.mktemp("figures"), "figures", "mlp", {})
    for epoch in range(1, 5):
        run.log_epoch({"epoch": epoch, "loss": 1 / epoch, "test_accuracy": 1 - 0.45 / epoch})
    return run, write_synthetic_figures(run)


@pytest.fixture(scope="session")
def standard_figures(figure_run):
    """The PNGs of `figure_run`: {file name: bytes}."""
    return {path.name: path.read_bytes() for path in figure_run[1]}


@pytest.fixture
def run_factory(runs_dir, standard_figures):
    """make_run bound to a fresh runs directory; pass figures=False for a run without PNGs."""
    def factory(name="run", figures=True, **kwargs):
        return make_run(runs_dir, name, figures=standard_figures if figures else None, **kwargs)
    return factory
