"""Keras 3 on one backend (jax, torch or tensorflow) as a benchmark engine: dense nets, convnets, recipes."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from mnistlab.bench.engines.base import (
    BenchData, JobDispatch, TrainOutcome, blas_threads, cnn_batches, module_available, train_to_target,
)
from mnistlab.bench.jobs import CnnJob, TrainJob, TtaJob
from mnistlab.bench.recipes import Recipe
from mnistlab.data.augment import flip_images, shift_images
from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.model import build_model
from mnistlab.cnn.schedules import warmup_schedule

_BACKEND_MODULE = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}
_BACKEND_EXTRA = {"jax": "bench", "torch": "cnn", "tensorflow": "tensorflow"}


class KerasEngine(JobDispatch):
    """Keras models trained with `model.fit`, on the backend fixed when the worker starts.

    `bench mlp`: `keras.Sequential` of Dense layers, `keras.optimizers.SGD(momentum=...)` (Keras'
    SGD is ``v = momentum v - lr grad; w += v``), weights Glorot-uniform, biases zero.
    `bench cnn`: the seed's convnet (`mnistlab.cnn.model.build_model`), SGD with momentum.
    `bench tta`: the recipe's layers, initialiser, Adam, schedule (a Keras schedule object
    stepped per batch) and label smoothing; one `fit` call per epoch.
    The backend is fixed by KERAS_BACKEND before keras is imported, so each backend needs its
    own process: the worker calls `setup` before anything imports keras.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.name = f"keras-{backend}"

    def available(self) -> tuple[bool, str]:
        """Available when keras and this backend's package import."""
        ok, reason = module_available("keras", "cnn")
        if not ok:
            return ok, reason
        return module_available(_BACKEND_MODULE[self.backend], _BACKEND_EXTRA[self.backend])

    def setup(self, threads: int) -> None:
        """Select the backend, import keras, and bound the backend's own pools."""
        os.environ["KERAS_BACKEND"] = self.backend
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if self.backend == "torch":
            import torch

            torch.set_num_threads(threads)
        elif self.backend == "tensorflow":
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        import keras

        keras.config.disable_interactive_logging()

    def threads_used(self) -> dict[str, Any]:
        """The pool sizes the backend reports (JAX/XLA reports none: read the measured CPU/wall)."""
        info: dict[str, Any] = {"blas": blas_threads()}
        if self.backend == "torch":
            import torch

            info["torch_intra_op"] = torch.get_num_threads()
        elif self.backend == "tensorflow":
            import tensorflow as tf

            info["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
            info["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
        elif self.backend == "jax":
            info["xla_flags"] = os.environ.get("XLA_FLAGS", "")
        return info

    def _time_cnn(self, data: BenchData, job: CnnJob) -> TrainOutcome:
        """Compile, fit the warm-up batches, then time `n_batches` batches of one `fit`."""
        import keras

        keras.utils.set_random_seed(job.random_state)
        model = build_model(CNNConfig(backend=self.backend, seed=job.random_state), keras=keras)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=job.learning_rate, momentum=job.momentum),
                      loss="sparse_categorical_crossentropy")
        x_warm, y_warm, x, y = cnn_batches(data, job)
        start = time.perf_counter()
        model.fit(x_warm, y_warm, batch_size=job.batch_size, epochs=1, verbose=0, shuffle=False)
        warmup = time.perf_counter() - start
        start = time.perf_counter()
        model.fit(x, y, batch_size=job.batch_size, epochs=1, verbose=0, shuffle=False)
        return TrainOutcome([time.perf_counter() - start], None, measured_warmup=warmup)

    def _train_to_target(self, data: BenchData, job: TtaJob) -> TrainOutcome:
        import keras

        recipe = job.recipe
        keras.utils.set_random_seed(job.random_state)
        model = _recipe_model(keras, recipe, data.X_train.shape[1], data.n_classes)
        shape = (-1, 28, 28, 1) if recipe.is_convnet else (-1, data.X_train.shape[1])
        x, x_test = data.X_train.reshape(shape), data.X_test.reshape(shape)
        y = data.y_train.astype("int32")
        if recipe.label_smoothing:  # Keras smooths only one-hot targets
            y = np.eye(data.n_classes, dtype=np.float32)[y]
            loss: Any = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
        else:
            loss = "sparse_categorical_crossentropy"
        steps = math.ceil(len(x) / recipe.batch_size)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=_schedule(keras, recipe, steps),
                                                      beta_1=recipe.beta_1, beta_2=recipe.beta_2,
                                                      epsilon=recipe.epsilon), loss=loss)
        rng = np.random.default_rng(job.random_state)

        def train_epoch(epoch: int) -> None:
            images = shift_images(x, recipe.shift_pixels, rng) if recipe.shift_pixels else x
            images = flip_images(images, rng) if recipe.flip else images
            model.fit(images, y, batch_size=recipe.batch_size, epochs=epoch + 1, initial_epoch=epoch, shuffle=True,
                      verbose=0)

        def test_accuracy() -> float:
            proba = model.predict(x_test, batch_size=2000, verbose=0)
            return float(np.mean(np.argmax(proba, axis=1) == data.y_test))

        return train_to_target(job, train_epoch, test_accuracy)

    def _train_dense(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Build and fit a fresh model for `job.epochs` epochs; time each epoch; return the test accuracy."""
        import keras

        keras.utils.set_random_seed(job.random_state)
        sizes = job.layer_sizes(data.X_train.shape[1], data.n_classes)
        model = keras.Sequential([keras.Input((sizes[0],))]
                                 + [keras.layers.Dense(n, activation=job.activation) for n in sizes[1:-1]]
                                 + [keras.layers.Dense(sizes[-1], activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=job.learning_rate, momentum=job.momentum),
                      loss="sparse_categorical_crossentropy")
        timer = _EpochTimer()
        model.fit(data.X_train, data.y_train.astype("int32"), batch_size=job.batch_size, epochs=job.epochs,
                  shuffle=True, verbose=0, callbacks=[timer])
        proba = model.predict(data.X_test, batch_size=10000, verbose=0)
        accuracy = float(np.mean(np.argmax(proba, axis=1) == data.y_test))
        return TrainOutcome(timer.seconds, accuracy)


def _recipe_model(keras: Any, recipe: Recipe, n_features: int, n_classes: int) -> Any:
    """The recipe's net as a `keras.Sequential`: (n, n_features) inputs for an MLP, (n, 28, 28, 1) for a CNN."""
    layers = keras.layers
    if recipe.init == "glorot_uniform":
        init: Any = "glorot_uniform"
    else:  # uniform in +-1/sqrt(fan_in): variance 1/(3 fan_in)
        init = keras.initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_in", distribution="uniform")
    stack: list[Any] = []
    if recipe.is_convnet:
        stack.append(keras.Input((28, 28, 1)))
        for i, filters in enumerate(recipe.conv):
            stack.append(layers.Conv2D(filters, 3, activation=recipe.activation, kernel_initializer=init))
            if recipe.batch_norm:
                stack.append(layers.BatchNormalization())
            if i < len(recipe.conv) - 1 or recipe.pool_last:
                stack.append(layers.MaxPooling2D(2))
        stack.append(layers.Flatten())
    else:
        stack.append(keras.Input((n_features,)))
    for units in recipe.dense_units:
        stack.append(layers.Dense(units, activation=recipe.activation, kernel_initializer=init))
        if recipe.dropout:
            stack.append(layers.Dropout(recipe.dropout))
    stack.append(layers.Dense(n_classes, activation="softmax", kernel_initializer=init))
    return keras.Sequential(stack)


def _schedule(keras: Any, recipe: Recipe, steps_per_epoch: int) -> Any:
    """The recipe's learning rate as Keras takes it: a float, or a schedule object stepped per batch."""
    if recipe.schedule == "inverse_time":
        return keras.optimizers.schedules.InverseTimeDecay(recipe.learning_rate, steps_per_epoch, recipe.decay,
                                                           staircase=True)
    if recipe.schedule == "constant" and not recipe.warmup_epochs:
        return recipe.learning_rate
    return warmup_schedule(keras, recipe.learning_rate, recipe.max_epochs * steps_per_epoch,
                           recipe.warmup_steps(steps_per_epoch), recipe.schedule)


def _EpochTimer() -> Any:  # noqa: N802  (a factory: keras is imported only here)
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall seconds from the start of training to the first epoch end, then between epoch ends."""

        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_train_begin(self, logs: Any = None) -> None:
            self._last = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            now = time.perf_counter()
            self.seconds.append(now - self._last)
            self._last = now

    return EpochTimer()
