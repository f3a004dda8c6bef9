"""Train a `CNNConfig`'s model: optimiser, schedule, warm-up, label smoothing, shifts, flips, hold-out, early stop.

`train(config, images, labels)` is the library entry point (the CLI adds the run directory):
one seed (`config.seed`) fixes weights, hold-out split and batch order, so the same seed on the
same backend gives the same history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnistlab.cnn.augment import ShiftedBatches
from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.model import build_model, to_model_input
from mnistlab.cnn.schedules import warmup_schedule
from mnistlab.divergence import divergence_reason, diverged_message
from mnistlab.errors import ConfigError, TrainingDiverged

EpochHook = Callable[[dict[str, float]], "bool | None"]
"""Called with each epoch's metrics row; returning True stops training after that epoch."""
BatchHook = Callable[[int, int], None]
"""Called after each batch with (batches done in this epoch, batches per epoch)."""


@dataclass
class TrainResult:
    """What `train` returns: the fitted Keras model and one history row per epoch."""

    model: Any
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    stopped_early: bool = False
    backend: str = ""


def split_validation(images: np.ndarray, labels: np.ndarray, fraction: float,
                     random_state: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """A seeded hold-out: ((train_images, train_labels), (val_images, val_labels) or None)."""
    if fraction == 0:
        return (images, labels), None
    n_val = int(round(len(images) * fraction))
    if n_val < 1 or n_val >= len(images):
        raise ConfigError(f"validation_split {fraction} leaves {n_val} of {len(images)} images for validation; "
                          f"use a fraction that keeps at least one image on each side")
    order = np.random.default_rng(random_state).permutation(len(images))
    val, fit = order[:n_val], order[n_val:]
    return (images[fit], labels[fit]), (images[val], labels[val])


def make_optimizer(keras: Any, config: CNNConfig, steps_per_epoch: int) -> Any:
    """The Keras optimiser of `config`, its learning rate a per-step schedule where one applies."""
    lr: Any = config.learning_rate
    warmup_steps = int(round(config.warmup_epochs * steps_per_epoch))
    if config.schedule == "onecycle" or (warmup_steps and config.schedule in ("none", "cosine")):
        shape = "constant" if config.schedule == "none" else config.schedule
        lr = warmup_schedule(keras, config.learning_rate, config.epochs * steps_per_epoch, warmup_steps, shape)
    elif config.schedule == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(lr, config.step_epochs * steps_per_epoch,
                                                         config.decay_rate, staircase=True)
    elif config.schedule == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, config.decay_rate)
    elif config.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, config.epochs * steps_per_epoch)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=config.momentum)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr, momentum=config.momentum)
    return keras.optimizers.Adam(learning_rate=lr)


def _current_lr(optimizer: Any) -> float:
    return float(np.asarray(optimizer.learning_rate))


def _callbacks(keras: Any, config: CNNConfig, history: list[dict[str, float]], on_epoch: EpochHook | None,
               on_batch: BatchHook | None, steps_per_epoch: int, diverged: list[tuple[int, str]]) -> list[Any]:
    """Keras callbacks: epoch rows (+ divergence check, stop on request), batch progress, schedule, early stopping."""

    class EpochRecorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()
            self.lr = _current_lr(self.model.optimizer)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            row = {"epoch": epoch + 1, "loss": float(logs.get("loss", math.nan)),
                   "accuracy": float(logs.get("accuracy", math.nan))}
            if "val_loss" in logs:
                row.update(val_loss=float(logs["val_loss"]), val_accuracy=float(logs["val_accuracy"]))
            row.update(learning_rate=self.lr, epoch_seconds=time.perf_counter() - self.start)
            kernels = [w for w in self.model.get_weights() if w.ndim >= 2]  # weight matrices and filters
            finite = math.isfinite(row["loss"]) and all(np.isfinite(w).all() for w in self.model.get_weights())
            reason = divergence_reason([r["loss"] for r in history] + [row["loss"]], row["accuracy"],
                                       n_classes=config.n_classes, weights_finite=finite,
                                       mean_abs_weights=[float(np.abs(w).mean()) for w in kernels] if finite else ())
            if reason is not None:
                diverged.append((epoch + 1, reason))
                self.model.stop_training = True
                if not finite:  # a NaN row is not recorded
                    return
            history.append(row)
            if on_epoch is not None and on_epoch(row):
                self.model.stop_training = True

    class BatchProgress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            on_batch(batch + 1, steps_per_epoch)

    callbacks = [EpochRecorder()]
    if on_batch is not None:
        callbacks.append(BatchProgress())
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=config.decay_rate,
                                                           patience=config.plateau_patience, verbose=0))
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping,
                                                       restore_best_weights=True))
    return callbacks


def train(config: CNNConfig, images: np.ndarray, labels: np.ndarray, *, on_epoch: EpochHook | None = None,
          on_batch: BatchHook | None = None, model: Any = None, initial_epoch: int = 0,
          on_model: Callable[[Any], None] | None = None) -> TrainResult:
    """Fit the model of `config` on uint8 `images` (n, 28, 28) with integer `labels` (n,).

    A `config.validation_split` share is held out (seeded by `config.seed`); `on_epoch(row)` is
    called after each epoch with the metrics row (epoch, loss, accuracy, val_loss, val_accuracy,
    learning_rate, epoch_seconds) and stops training when it returns True; `on_batch(done, total)`
    after each batch. Raises TrainingDiverged by the rule of mnistlab.divergence.

    To continue a checkpoint, pass its compiled `model` (optimiser state included) and the epochs
    it holds as `initial_epoch`: training runs epochs initial_epoch+1..config.epochs. `on_model(model)`
    is called once the model exists (a caller saving checkpoints keeps it).

    Examples
    --------
    >>> from mnistlab.data import load  # doctest: +SKIP
    >>> ds = load("mnist", "train")  # doctest: +SKIP
    >>> result = train(CNNConfig(epochs=1), ds.images[:512], ds.labels[:512])  # doctest: +SKIP
    """
    config = config.validate()
    labels = np.asarray(labels)
    x = to_model_input(images)  # (n, 28, 28, 1) float32
    if labels.shape != (len(x),):
        raise ConfigError(f"labels must have shape ({len(x)},) to match the images, got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= config.n_classes):
        raise ConfigError(f"labels must be class indices 0..{config.n_classes - 1}")
    if config.train_size is not None:
        x, labels = x[:config.train_size], labels[:config.train_size]
    (x_fit, y_fit), validation = split_validation(x, labels.astype(np.int64), config.validation_split, config.seed)
    keras = import_keras(config.backend, device=config.device, threads=config.threads,
                         gpu_memory_fraction=config.gpu_memory_fraction)
    # A resumed run draws its shuffles from a stream of its own: same seed, moved on by the epochs done.
    keras.utils.set_random_seed((config.seed + initial_epoch) % 2**32)
    steps_per_epoch = math.ceil(len(x_fit) / config.batch_size)
    if config.label_smoothing:  # Keras smooths only one-hot targets
        y_fit = np.eye(config.n_classes, dtype=np.float32)[y_fit]
        if validation is not None:
            validation = (validation[0], np.eye(config.n_classes, dtype=np.float32)[validation[1]])
        loss: Any = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    else:
        loss = "sparse_categorical_crossentropy"
    if model is None:  # else a checkpoint's model, compiled with its optimiser state
        model = build_model(config, keras=keras, planned_steps=config.epochs * steps_per_epoch)
        model.compile(optimizer=make_optimizer(keras, config, steps_per_epoch), loss=loss, metrics=["accuracy"])
    if on_model is not None:
        on_model(model)
    history: list[dict[str, float]] = []
    diverged: list[tuple[int, str]] = []
    inputs: dict[str, Any] = {"x": x_fit, "y": y_fit, "batch_size": config.batch_size, "shuffle": True}
    if config.shift_pixels or config.flip:
        inputs = {"x": ShiftedBatches(keras, x_fit, y_fit, config.batch_size, config.shift_pixels,
                                      (config.seed + initial_epoch) % 2**32, flip=config.flip)}
    start = time.perf_counter()
    model.fit(**inputs, epochs=config.epochs, initial_epoch=initial_epoch, validation_data=validation, verbose=0,
              callbacks=_callbacks(keras, config, history, on_epoch, on_batch, steps_per_epoch, diverged))
    seconds = time.perf_counter() - start
    if diverged:
        epoch, reason = diverged[0]
        raise TrainingDiverged(diverged_message(epoch, reason, config.learning_rate, CNNConfig.learning_rate))
    return TrainResult(model=model, history=history, train_seconds=seconds,
                       stopped_early=len(history) < config.epochs - initial_epoch, backend=keras.backend.backend())

