"""mnistlab's own NumPy MLP (`mnistlab.MLPClassifier`) as a benchmark engine, plus its targets 3 and 4."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from mnistlab.bench.engines.base import BenchData, DenseEngine, TrainJob, TrainOutcome, blas_threads


class MnistlabEngine(DenseEngine):
    """`mnistlab.MLPClassifier` with solver "sgd", classical momentum, softmax + mean cross-entropy.

    Classical momentum is ``v = momentum v - lr grad; w += v``, as in Keras and scikit-learn;
    weights start Glorot-uniform, as in Keras and the PyTorch loop.
    """

    name = "mnistlab"

    def available(self) -> tuple[bool, str]:
        """Available when the MLP estimator imports (it needs only the core dependencies)."""
        import importlib.util

        if importlib.util.find_spec("mnistlab.mlp.estimator") is None:
            return False, "mnistlab.mlp.estimator is missing from this checkout"
        return True, ""

    def setup(self, threads: int) -> None:
        """Import the estimator (NumPy only; BLAS is bounded by configure_threads)."""
        import mnistlab.mlp.estimator  # noqa: F401

    def threads_used(self) -> dict[str, Any]:
        """BLAS pool size."""
        return {"blas": blas_threads()}

    def train(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Fit a fresh estimator for `job.epochs` epochs; each epoch's wall time runs end to end of fit."""
        import numpy as np

        from mnistlab import MLPClassifier

        model = MLPClassifier(
            hidden_sizes=job.hidden, activation=job.activation, output="softmax", loss="cross_entropy",
            loss_reduction="mean", solver="sgd", learning_rate=job.learning_rate, momentum=job.momentum,
            momentum_type="classical", batch_size=job.batch_size, epochs=job.epochs, n_iter_no_change=None,
            shuffle=True, init="glorot",
            random_state=job.random_state,
        )
        stamps = _Stamps()
        model.fit(data.X_train, data.y_train, on_epoch_end=stamps)
        accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
        return TrainOutcome(stamps.epoch_seconds(), accuracy)

    def targets(self, data: BenchData, job: TrainJob, repeats: int = 1) -> TrainOutcome:
        """The seed's preset at `job.epochs` epochs, timed without and with per-epoch train+test accuracy.

        Targets 3 and 4: the evaluation overhead is the ratio of the medians of the two fit
        times (runs alternate, after one untimed epoch that pages the data in and starts the
        BLAS threads, which would otherwise land on whichever run goes first); the worker adds
        the process's peak RSS.
        """
        import statistics

        import numpy as np

        from mnistlab import MLPClassifier
        from mnistlab.mlp.config import SEED_PRESET

        seed = replace(SEED_PRESET, epochs=job.epochs, random_state=job.random_state)
        plain = replace(seed, eval_train_every=0, eval_test_every=0)
        MLPClassifier.from_config(replace(plain, epochs=1)).fit(data.X_train, data.y_train)
        times: dict[str, list[float]] = {"plain": [], "eval": []}
        for _ in range(repeats):
            for key, cfg in (("plain", plain), ("eval", seed)):
                model = MLPClassifier.from_config(cfg)
                start = time.perf_counter()
                model.fit(data.X_train, data.y_train, eval_set=(data.X_test, data.y_test))
                times[key].append(time.perf_counter() - start)
        accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
        eval_seconds = statistics.median(times["eval"])
        plain_seconds = statistics.median(times["plain"])
        return TrainOutcome([plain_seconds], accuracy, extra={"eval_train_seconds": eval_seconds,
                                                              "plain_runs": times["plain"], "eval_runs": times["eval"]})


class _Stamps:
    """An `on_epoch_end` hook that records the wall time between successive epoch ends."""

    def __init__(self) -> None:
        self.times = [time.perf_counter()]

    def __call__(self, row: dict[str, Any]) -> None:
        self.times.append(time.perf_counter())

    def epoch_seconds(self) -> list[float]:
        return [b - a for a, b in zip(self.times[:-1], self.times[1:])]
