"""Recorded training runs: train the MLP or the CNN and leave a run directory behind.

`train_mlp_run` and `train_cnn_run` are what `mnistlab mlp train` and `mnistlab cnn train` do,
as library functions for notebooks, sweeps and the lab. They never print: progress goes to
`on_batch(done, total)` after every batch and `on_epoch(row)` after every epoch; an `on_epoch`
that returns True stops training after that epoch (run status "stopped", summary "stopped": true).

>>> from mnistlab.mlp.run import PRESETS  # doctest: +SKIP
>>> summary = train_mlp_run(PRESETS["seed"], runs_dir="runs")  # doctest: +SKIP
>>> summary["test_accuracy"], summary["run_dir"]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.evaluate import evaluate as evaluate_cnn
from mnistlab.cnn.io import save_model as save_cnn
from mnistlab.cnn.train import train as fit_cnn
from mnistlab.data import load
from mnistlab.fileio import atomic_write, write_json_atomic
from mnistlab.mlp.run import MLPRunConfig, prepare_data
from mnistlab.runs.checkpoint import DEFAULT_EVERY, Checkpointer, save_cnn_checkpoint, save_mlp_checkpoint
from mnistlab.runs.plots import write_run_figures
from mnistlab.runs.metrics import ordered_cells
from mnistlab.runs.rundir import RunDir, RunStatus
from mnistlab.runs.snapshots import first_layer_snapshot, keras_snapshot, save_snapshot

if TYPE_CHECKING:
    from mnistlab.mlp.estimator import MLPClassifier

EpochCallback = Callable[[dict[str, Any]], "bool | None"]
"""on_epoch(row): the epoch's metrics row; returning True stops training after that epoch."""
BatchCallback = Callable[[int, int], None]
"""on_batch(done, total): batches done in this epoch and batches per epoch."""

def metrics_row(row: dict[str, float]) -> dict[str, Any]:
    """A history row in the run-directory column order; NaN (not measured) becomes an empty cell."""
    return ordered_cells(row)


def save_history(history: list[dict[str, float]], path: str | os.PathLike) -> Path:
    """Write the per-epoch history as CSV (path ending .csv) or JSON (anything else), atomically."""
    path = Path(path)
    if path.suffix != ".csv":
        return write_json_atomic(path, history)
    columns = list(dict.fromkeys(key for row in history for key in row))
    with atomic_write(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
    return path


class _EpochRelay:
    """Records each epoch in the run, checkpoints it, forwards it to the caller's on_epoch, remembers a stop."""

    def __init__(self, run: RunDir, on_epoch: EpochCallback | None,
                 checkpoint: Callable[[int], None] | None = None) -> None:
        self.run, self.on_epoch, self.checkpoint = run, on_epoch, checkpoint
        self.rows: list[dict[str, Any]] = []
        self.stopped = False

    def __call__(self, row: dict[str, Any]) -> bool:
        self.rows.append(row)
        self.run.log_epoch(metrics_row(row))
        if self.checkpoint is not None:
            self.checkpoint(int(row["epoch"]))
        if self.on_epoch is not None and self.on_epoch(dict(row)):
            self.stopped = True
        return self.stopped

    def total(self, key: str) -> float:
        """The sum of column `key` over the epochs so far (e.g. epoch_seconds)."""
        return float(sum(row.get(key, 0.0) for row in self.rows))


def train_mlp_run(config: MLPRunConfig, *, runs_dir: str = "runs", name: str | None = None,
                  on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
                  checkpoint_every: int = DEFAULT_EVERY, trial: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the MLP of `config` in a new run directory and return the summary (also summary.json).

    The run directory (under `runs_dir`, named after `name`, default "mlp-<dataset>") gets
    config.json, the per-epoch metrics, model.npz, figures and summary.json, and a checkpoint every
    `checkpoint_every` epochs (0: only when interrupted) that `resume_run` continues.
    """
    config.validate()
    data = prepare_data(config)
    run = RunDir.create(runs_dir, name or f"mlp-{config.dataset}", "mlp", config.to_dict(), trial=trial)
    return mlp_session(run, config, data, on_epoch=on_epoch, on_batch=on_batch, checkpoint_every=checkpoint_every)


def mlp_session(run: RunDir, config: MLPRunConfig, data: tuple, *, on_epoch: EpochCallback | None,
                on_batch: BatchCallback | None, checkpoint_every: int, state: dict | None = None,
                done: int = 0, prior_seconds: float = 0.0) -> dict[str, Any]:
    """Train (from scratch, or on from checkpoint `state` holding `done` epochs) inside `run`; finish it."""
    # The estimator is a scikit-learn one (about a second to import): loaded to train, not to read runs.
    from mnistlab.mlp.estimator import MLPClassifier

    X_train, y_train, X_test, y_test, test_set, _ = data
    remaining = config.mlp.epochs - done
    if state is None:
        clf = MLPClassifier.from_config(config.mlp)
    elif remaining == 0:  # killed after its last checkpoint: only the ending (best weights, files) is left
        clf = MLPClassifier.from_config(config.mlp).load_state_dict(state)
        clf.restore_best_weights()
    else:  # warm start: the remaining epochs, continuing the saved state bit for bit
        clf = MLPClassifier.from_config(replace(config.mlp, epochs=remaining, warm_start=True))
        clf.load_state_dict(state)
    checkpoints = Checkpointer(run, save_mlp_checkpoint, checkpoint_every, remember=True)
    capture = getattr(clf, "state_dict", None)  # the estimator's checkpointable state (branch sklearn)

    def epoch_done(epoch: int) -> None:
        save_snapshot(run, epoch, first_layer_snapshot(clf.coefs_))
        if capture is not None:
            checkpoints.epoch_done(epoch, capture)

    def started(fitted: MLPClassifier) -> None:
        if done == 0:  # a resumed run kept its first epochs' weights already
            save_snapshot(run, 0, first_layer_snapshot(fitted.coefs_))

    epochs = _EpochRelay(run, on_epoch, epoch_done)
    summary: dict[str, Any] = {"model": "mlp", "dataset": config.dataset, "epochs": done, "test_accuracy": None,
                               "train_seconds": prior_seconds, "run_dir": str(run.path)}
    start = time.perf_counter()
    with run.recording(summary):  # Ctrl-C, SIGTERM, divergence, a full disk...: recorded, then re-raised
        try:
            if remaining > 0:
                clf.fit(X_train, y_train, eval_set=(X_test, y_test), on_batch_end=on_batch, on_epoch_end=epochs,
                        on_start=started)
        except KeyboardInterrupt:
            checkpoints.interrupted()
            raise
        finally:
            summary.update(epochs=done + len(epochs.rows), train_seconds=prior_seconds + epochs.total("epoch_seconds"),
                           wall_seconds=time.perf_counter() - start)
        wall = time.perf_counter() - start
        y_pred = clf.predict(X_test)
        metadata = {"dataset": config.dataset, "scaler": config.scaler, "pca_components": config.pca_components,
                    "kmeans_clusters": config.kmeans_clusters, "train_size": config.train_size,
                    "random_state": config.mlp.random_state}
        if state is not None:  # the model file keeps the run's config, not the resumed fit's (epochs left, warm start)
            clf.set_params(epochs=config.mlp.epochs, warm_start=config.mlp.warm_start)
        clf.save(run.file("model.npz"), metadata=metadata)
        class_index = np.searchsorted(clf.classes_, y_pred)
        first = clf.coefs_[0] if clf.coefs_[0].shape[0] == 784 else None
        write_run_figures(run, images=test_set.images, y_true=y_test, y_pred=class_index,
                          class_names=test_set.class_names, first_layer_weights=first)
    h = clf.history_.as_arrays()
    last = {k: (None if math.isnan(v[-1]) else float(v[-1])) for k, v in h.items()} if len(clf.history_) else {}
    summary.update(epochs=len(clf.history_), test_accuracy=float(np.mean(y_pred == y_test)),
                   train_seconds=prior_seconds + epochs.total("epoch_seconds"),
                   eval_seconds=epochs.total("eval_seconds"), wall_seconds=wall,
                   train_accuracy=last.get("train_accuracy"), batch_accuracy=last.get("accuracy"),
                   val_accuracy=last.get("val_accuracy"), loss=last.get("loss"),
                   model_path=str(run.file("model.npz")))
    return _finish(run, summary, epochs.stopped)


def train_cnn_run(config: CNNConfig, *, runs_dir: str = "runs", name: str | None = None,
                  on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
                  checkpoint_every: int = DEFAULT_EVERY, trial: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the CNN of `config` in a new run directory and return the summary (also summary.json).

    The run directory (under `runs_dir`, named after `name`, default "cnn-<dataset>") gets
    config.json, the per-epoch metrics, history.json, model.keras, figures and summary.json, and a checkpoint
    every `checkpoint_every` epochs (0: only when interrupted). Keras is set up first from
    `config.backend`, `config.threads` and `config.device`.
    """
    config = config.validate()
    # The backend, threads and device take effect (or fail) before any data is loaded or run recorded,
    # and config.json names the backend actually used.
    keras = import_keras(config.backend, device=config.device, threads=config.threads,
                         gpu_memory_fraction=config.gpu_memory_fraction)
    config = config.replace(backend=keras.backend.backend())
    load(config.dataset, "train")  # a missing dataset fails here, before a run directory exists
    run = RunDir.create(runs_dir, name or f"cnn-{config.dataset}", "cnn", config.to_dict(), trial=trial)
    return cnn_session(run, config, on_epoch=on_epoch, on_batch=on_batch, checkpoint_every=checkpoint_every)


def cnn_session(run: RunDir, config: CNNConfig, *, on_epoch: EpochCallback | None, on_batch: BatchCallback | None,
                checkpoint_every: int, model: Any = None, done: int = 0,
                prior_seconds: float = 0.0) -> dict[str, Any]:
    """Train the CNN (from scratch, or on from a checkpoint `model` holding `done` epochs) inside `run`."""
    train_set, test_set = load(config.dataset, "train"), load(config.dataset, "test")
    current: dict[str, Any] = {}
    checkpoints = Checkpointer(run, save_cnn_checkpoint, checkpoint_every)

    def epoch_done(epoch: int) -> None:
        if "model" in current:  # fit_cnn hands its model over through on_model before the first epoch
            save_snapshot(run, epoch, keras_snapshot(current["model"]))
        checkpoints.epoch_done(epoch, lambda: current.get("model"))

    def built(keras_model: Any) -> None:
        current.update(model=keras_model)
        if done == 0:  # the initial weights; a resumed run kept its first epochs' weights already
            save_snapshot(run, 0, keras_snapshot(keras_model))

    epochs = _EpochRelay(run, on_epoch, epoch_done)
    summary: dict[str, Any] = {"model": "cnn", "dataset": config.dataset, "epochs": done, "test_accuracy": None,
                               "train_seconds": prior_seconds, "backend": config.backend, "run_dir": str(run.path)}
    start = time.perf_counter()
    with run.recording(summary):  # Ctrl-C, SIGTERM, divergence, a full disk...: recorded, then re-raised
        try:
            result = fit_cnn(config, train_set.images, train_set.labels, on_epoch=epochs, on_batch=on_batch,
                             model=model, initial_epoch=done, on_model=built)
        except KeyboardInterrupt:
            if "model" in current:  # the weights trained so far, counted as the last finished epoch
                checkpoints.interrupted(lambda: current["model"], done + len(epochs.rows))
            raise
        finally:
            summary.update(epochs=done + len(epochs.rows), train_seconds=prior_seconds + time.perf_counter() - start)
        scores = evaluate_cnn(result.model, test_set.images, test_set.labels)
        save_cnn(result.model, run.file("model.keras"))
        save_history(read_rows(run) if done else result.history, run.file("history.json"))
        write_run_figures(run, images=test_set.images, y_true=test_set.labels, y_pred=scores.y_pred,
                          class_names=test_set.class_names, first_layer_weights=None)
    last = result.history[-1] if result.history else {}
    summary.update(epochs=done + len(result.history), test_accuracy=scores.accuracy,
                   train_seconds=prior_seconds + result.train_seconds, backend=result.backend,
                   stopped_early=result.stopped_early and not epochs.stopped,
                   val_accuracy=last.get("val_accuracy"), accuracy=last.get("accuracy"),
                   per_class_accuracy=scores.to_dict(test_set.class_names)["per_class_accuracy"],
                   model_path=str(run.file("model.keras")))
    return _finish(run, summary, epochs.stopped)


def read_rows(run: RunDir) -> list[dict[str, float]]:
    """The logged epochs of `run` as numbers (empty cells left out)."""
    return [row.numbers() for row in run.epoch_rows()]


def _finish(run: RunDir, summary: dict[str, Any], stopped: bool) -> dict[str, Any]:
    """Mark the run completed, or stopped at the caller's request, and write summary.json."""
    if stopped:
        summary["stopped"] = True
    run.finish(summary, status=RunStatus.STOPPED if stopped else RunStatus.COMPLETED)
    return summary
