"""The one interface every benchmark engine implements, the data it trains on and what it returns.

An engine is one framework (mnistlab's NumPy MLP, scikit-learn, Keras on one backend, plain
PyTorch). It takes any job of `mnistlab.bench.jobs` through `train`, after `cannot_express`
has said it can: a dense-only library asked for a convnet, or a framework without a schedule
a recipe asks for, names what is missing instead of silently training something else.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_info

from mnistlab.bench.jobs import CnnJob, Job, TrainJob, TtaJob
from mnistlab.data.augment import flip_images, shift_images
from mnistlab.errors import ConfigError


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
    """A way to train: mnistlab's NumPy MLP, scikit-learn, Keras on one backend, plain PyTorch."""

    name: str

    def available(self) -> tuple[bool, str]:
        """Whether the engine can run here, and if not, a one-line reason naming what to install."""

    def setup(self, threads: int) -> None:
        """Import the framework and bound its own thread pools (called once per worker, after configure_threads)."""

    def threads_used(self) -> dict[str, Any]:
        """The thread counts the framework reports for its pools (measured CPU/wall is added by the worker)."""

    def cannot_express(self, job: Job) -> str | None:
        """Why this engine cannot train `job` exactly as stated, or None when it can (loads no framework)."""

    def train(self, data: BenchData, job: Job) -> TrainOutcome:
        """Train a freshly initialised net on `data` as `job` says; time it; score it on the test set."""


class JobDispatch:
    """The `cannot_express` and `train` engines share: each kind of job goes to a method of its own.

    An engine defines `_train_dense` (a `TrainJob`, `bench mlp`), `_time_cnn` (a `CnnJob`,
    `bench cnn`) and `_train_to_target` (a `TtaJob`, `bench tta`); one whose `cannot_express`
    turns a kind away need not define its method.
    """

    name: str

    def cannot_express(self, job: Job) -> str | None:
        """None: the engine states every job and recipe of the benchmark (engines with gaps override this)."""
        return None

    def train(self, data: BenchData, job: Job) -> TrainOutcome:
        """Train as `job` says: a `bench mlp` run, a `bench cnn` timing, or a `bench tta` run to a target."""
        if isinstance(job, TtaJob):
            return self._train_to_target(data, job)
        if isinstance(job, CnnJob):
            return self._time_cnn(data, job)
        return self._train_dense(data, job)

    def _train_dense(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        raise NotImplementedError(f"{self.name} has no adapter for dense jobs")

    def _time_cnn(self, data: BenchData, job: CnnJob) -> TrainOutcome:
        raise NotImplementedError(f"{self.name} has no adapter for CNN jobs")

    def _train_to_target(self, data: BenchData, job: TtaJob) -> TrainOutcome:
        raise NotImplementedError(f"{self.name} has no adapter for recipes")


class CoreEngine(JobDispatch):
    """An engine on the core dependencies alone (mnistlab's NumPy MLP, scikit-learn): BLAS is its only pool."""

    def available(self) -> tuple[bool, str]:
        """The core dependencies are always installed: always available."""
        return True, ""

    def setup(self, threads: int) -> None:
        """Nothing to import ahead: BLAS is already bounded by configure_threads."""

    def threads_used(self) -> dict[str, Any]:
        """BLAS pool size."""
        return {"blas": blas_threads()}


def train_to_target(job: TtaJob, train_epoch: Callable[[int], None], test_accuracy: Callable[[], float]) -> TrainOutcome:
    """The epoch loop every engine's `bench tta` adapter shares: train, then score (timed apart), until done.

    `train_epoch(epoch)` runs one epoch; `test_accuracy()` scores the test set. Training seconds
    and evaluation seconds are kept per epoch; the loop ends after `job.recipe.max_epochs`, or at
    the first epoch at or above `job.target` when `job.stop_at_target`.
    """
    seconds, accuracies, eval_seconds = [], [], []
    for epoch in range(job.recipe.max_epochs):
        start = time.perf_counter()
        train_epoch(epoch)
        trained = time.perf_counter()
        accuracies.append(float(test_accuracy()))
        eval_seconds.append(time.perf_counter() - trained)
        seconds.append(trained - start)
        if job.stop_at_target and accuracies[-1] >= job.target:
            break
    return TrainOutcome(seconds, accuracies[-1], extra={"epoch_accuracy": accuracies, "eval_seconds": eval_seconds},
                        measured_warmup=0.0)


def partial_fit_to_target(data: BenchData, job: TtaJob, model: Any, *, model_shifts: bool = False) -> TrainOutcome:
    """`train_to_target` for an estimator with `partial_fit` and `predict` (mnistlab's and scikit-learn's).

    One `partial_fit` per epoch, on images shifted (and flipped) afresh when the recipe asks (by this
    function, unless `model_shifts`: the estimator moves each batch itself, as mnistlab's `shift_pixels`).
    """
    recipe = job.recipe
    rng = np.random.default_rng(job.random_state)
    classes = np.arange(data.n_classes)

    def train_epoch(epoch: int) -> None:
        X = data.X_train
        if recipe.shift_pixels and not model_shifts:
            X = shift_images(X, recipe.shift_pixels, rng)
        if recipe.flip and not model_shifts:
            X = flip_images(X, rng)
        model.partial_fit(X, data.y_train, classes=classes)

    return train_to_target(job, train_epoch, lambda: np.mean(model.predict(data.X_test) == data.y_test))


def cnn_batches(data: BenchData, job: CnnJob) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A `CnnJob`'s images (n, 28, 28, 1) and labels: warm-up images, warm-up labels, timed images, timed labels."""
    n_warm, n_timed = job.batch_size * job.warmup_batches, job.batch_size * job.n_batches
    need = n_warm + n_timed
    if need > data.X_train.shape[0]:
        raise ConfigError(f"{job.n_batches}+{job.warmup_batches} batches of {job.batch_size} need {need} "
                          f"images, only {data.X_train.shape[0]} loaded; use fewer batches")
    images = data.X_train[:need].reshape(-1, 28, 28, 1)
    labels = data.y_train[:need].astype(np.int64)
    return images[:n_warm], labels[:n_warm], images[n_warm:], labels[n_warm:]


def module_available(module: str, extra: str) -> tuple[bool, str]:
    """(True, "") when `module` can be imported, else (False, a reason naming the pip extra)."""
    if importlib.util.find_spec(module) is None:
        return False, f"{module} is not installed (pip install -e '.[{extra}]')"
    return True, ""


def blas_threads() -> int | None:
    """Threads of the first BLAS pool threadpoolctl sees (None when no BLAS is loaded)."""
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return int(lib["num_threads"])
    return None
