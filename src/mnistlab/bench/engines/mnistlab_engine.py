"""mnistlab's own NumPy MLP (`mnistlab.MLPClassifier`) as a benchmark engine, plus its targets 3 and 4."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from typing import Any

import numpy as np

from mnistlab.bench.engines.base import BenchData, CoreEngine, TrainOutcome, partial_fit_to_target
from mnistlab.bench.jobs import Job, TrainJob, TtaJob
from mnistlab.mlp.config import SEED_PRESET
from mnistlab.mlp.estimator import MLPClassifier

_INIT = {"glorot_uniform": "glorot", "uniform_fan_in": "sqrt_nodes"}
_SCHEDULE = {"constant": "constant", "inverse_time": "decay", "cosine": "cosine", "onecycle": "onecycle"}


class MnistlabEngine(CoreEngine):
    """`mnistlab.MLPClassifier`: dense nets only, softmax + mean cross-entropy.

    `bench mlp`: solver "sgd" with classical momentum ``v = momentum v - lr grad; w += v``, as in
    Keras and scikit-learn; weights start Glorot-uniform, as in Keras and the PyTorch loop.
    `bench tta`: the recipe's Adam, its initialiser, its schedule (inverse_time is `decrease_const`;
    constant, cosine and onecycle with warm-up are the estimator's per-batch `lr_schedule`) and
    label smoothing; one `partial_fit` per epoch, so shifts are fresh.
    """

    name = "mnistlab"

    def cannot_express(self, job: Job) -> str | None:
        """Convnets, and recipes whose schedule or loss MLPClassifier has no option for."""
        if job.is_convnet:
            return "mnistlab's NumPy engine trains dense nets only, no convolutions"
        if not isinstance(job, TtaJob):
            return None
        recipe = job.recipe
        if recipe.schedule == "inverse_time" and recipe.warmup_epochs:
            return "MLPClassifier's per-epoch decay (decrease_const) takes no warm-up"
        return None

    def _train_to_target(self, data: BenchData, job: TtaJob) -> TrainOutcome:
        recipe = job.recipe
        model = MLPClassifier(
            hidden_sizes=recipe.hidden, activation="relu", output="softmax", loss="cross_entropy",
            loss_reduction="mean", solver="adam", learning_rate=recipe.learning_rate,
            lr_schedule=_SCHEDULE[recipe.schedule], warmup_epochs=recipe.warmup_epochs,
            label_smoothing=recipe.label_smoothing, epochs=recipe.max_epochs,
            decrease_const=recipe.decay if recipe.schedule == "inverse_time" else 0.0, beta_1=recipe.beta_1,
            beta_2=recipe.beta_2, epsilon=recipe.epsilon, batch_size=recipe.batch_size, shuffle=True,
            init=_INIT[recipe.init], random_state=job.random_state, dropout=recipe.dropout,
            shift_pixels=recipe.shift_pixels, flip=recipe.flip,
        )
        return partial_fit_to_target(data, job, model, model_shifts=True)

    def _train_dense(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Fit a fresh estimator for `job.epochs` epochs; each epoch's wall time runs end to end of fit."""
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
