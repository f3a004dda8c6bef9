"""The interface every benchmark engine implements, and what a training job and its result hold."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class TrainJob:
    """One training run to time: the net, the optimiser and the setting, identical for every engine.

    The optimiser is plain mini-batch SGD with (heavy-ball) momentum on the batch-mean
    softmax cross-entropy, the one every engine offers: ``v = momentum v - lr grad; w += v``.
    """

    hidden: tuple[int, ...] = (70, 30)
    activation: str = "sigmoid"
    epochs: int = 35
    batch_size: int = 500
    learning_rate: float = 0.1
    momentum: float = 0.9
    random_state: int = 0

    def layer_sizes(self, n_features: int, n_classes: int) -> tuple[int, ...]:
        """Units per layer, input first: ``(n_features, *hidden, n_classes)``."""
        return (n_features, *self.hidden, n_classes)


@dataclass(frozen=True)
class BenchData:
    """Preprocessed float32 features ``(n, n_features)`` and int labels ``(n,)``, train and test."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes (labels are 0..n_classes-1)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1


@dataclass
class TrainOutcome:
    """What an engine's `train` returns: wall seconds of each epoch and the test accuracy after training."""

    epoch_seconds: list[float]
    test_accuracy: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    measured_warmup: float | None = None

    @property
    def warmup_seconds(self) -> float:
        """Warm-up timed apart when the engine did so, else the first epoch's excess over the median later one."""
        if self.measured_warmup is not None:
            return self.measured_warmup
        if len(self.epoch_seconds) < 2:
            return 0.0
        return max(0.0, self.epoch_seconds[0] - statistics.median(self.epoch_seconds[1:]))

    @property
    def train_seconds(self) -> float:
        """Wall seconds of all epochs without the warm-up excess."""
        if self.measured_warmup is not None:
            return sum(self.epoch_seconds)
        return sum(self.epoch_seconds) - self.warmup_seconds


class Engine(Protocol):
    """A way to train the benchmark net: mnistlab's NumPy MLP, Keras on one backend, PyTorch, scikit-learn."""

    name: str

    def available(self) -> tuple[bool, str]:
        """Whether the engine can run here, and if not, a one-line reason naming what to install."""

    def setup(self, threads: int) -> None:
        """Import the framework and bound its own thread pools (called once per worker, after configure_threads)."""

    def threads_used(self) -> dict[str, Any]:
        """The thread counts the framework reports for its pools (measured CPU/wall is added by the worker)."""

    def make_job(self, fields: dict[str, Any]) -> Any:
        """The job object `train` takes, from its JSON fields."""

    def train(self, data: BenchData, job: Any) -> TrainOutcome:
        """Train a freshly initialised net on `data` as `job` says; time each epoch; score on the test set."""


class DenseEngine:
    """Shared plumbing of the dense-net engines: jobs are `TrainJob`s."""

    name = "dense"

    def make_job(self, fields: dict[str, Any]) -> TrainJob:
        """A `TrainJob` from JSON fields (lists become tuples)."""
        return TrainJob(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def module_available(module: str, extra: str) -> tuple[bool, str]:
    """(True, "") when `module` can be imported, else (False, a reason naming the pip extra)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return False, f"{module} is not installed (pip install -e '.[{extra}]')"
    return True, ""


def blas_threads() -> int | None:
    """Threads of the first BLAS pool threadpoolctl sees (None when no BLAS is loaded)."""
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return int(lib["num_threads"])
    return None
