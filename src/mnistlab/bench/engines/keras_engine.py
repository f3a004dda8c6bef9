"""Keras 3 on one backend (jax, torch or tensorflow) as a benchmark engine."""

from __future__ import annotations

import os
import time
from typing import Any

from mnistlab.bench.engines.base import BenchData, DenseEngine, TrainJob, TrainOutcome, blas_threads, module_available

_BACKEND_MODULE = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}
_BACKEND_EXTRA = {"jax": "bench", "torch": "cnn", "tensorflow": "tensorflow"}


class KerasEngine(DenseEngine):
    """`keras.Sequential` of Dense layers, `keras.optimizers.SGD(momentum=...)`, `model.fit`.

    Keras' SGD is ``v = momentum v - lr grad; w += v``; weights Glorot-uniform, biases zero.
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

    def train(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Build and fit a fresh model for `job.epochs` epochs; time each epoch; return the test accuracy."""
        import keras
        import numpy as np

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
