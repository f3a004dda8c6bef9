"""scikit-learn's MLPClassifier as a benchmark engine: dense nets, one `partial_fit` per epoch."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mnistlab.bench.engines.base import BenchData, CoreEngine, TrainOutcome, partial_fit_to_target
from mnistlab.bench.jobs import Job, TrainJob, TtaJob


class SklearnEngine(CoreEngine):
    """`sklearn.neural_network.MLPClassifier`, one `partial_fit` per epoch so each epoch is timed.

    `bench mlp`: solver="sgd", learning_rate="constant", nesterovs_momentum=False, alpha=0 gives
    exactly ``v = momentum v - lr grad; w += v`` on the batch-mean log-loss; "logistic" is sigmoid;
    initialisation is scikit-learn's own (uniform, Glorot-style bound).
    `bench tta`: solver="adam", alpha=0, the recipe's initialiser with zero biases (scikit-learn
    draws biases from the weights' interval, so `_init_coef` is overridden); Adam's learning rate
    is constant in scikit-learn, so recipes with a schedule are reported as not expressible.
    """

    name = "sklearn"

    def cannot_express(self, job: Job) -> str | None:
        """Convnets, learning-rate schedules for Adam, warm-up, label smoothing."""
        if job.is_convnet:
            return "scikit-learn's MLPClassifier has dense layers only, no convolutions"
        if isinstance(job, TtaJob):
            recipe = job.recipe
            if recipe.schedule != "constant" or recipe.warmup_epochs:
                return f"MLPClassifier keeps Adam's learning rate constant (no {recipe.schedule} schedule, no warm-up)"
            if recipe.label_smoothing:
                return "MLPClassifier has no label smoothing"
            if recipe.dropout:
                return "MLPClassifier has no dropout"
        return None

    def _train_dense(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        from sklearn.neural_network import MLPClassifier  # its MLP loads only in the worker that runs it

        activation = {"sigmoid": "logistic"}.get(job.activation, job.activation)
        model = MLPClassifier(
            hidden_layer_sizes=job.hidden, activation=activation, solver="sgd", alpha=0.0,
            batch_size=job.batch_size, learning_rate="constant", learning_rate_init=job.learning_rate,
            momentum=job.momentum, nesterovs_momentum=False, shuffle=True, random_state=job.random_state,
        )
        classes = np.arange(data.n_classes)
        epoch_seconds = []
        for _ in range(job.epochs):
            start = time.perf_counter()
            model.partial_fit(data.X_train, data.y_train, classes=classes)
            epoch_seconds.append(time.perf_counter() - start)
        accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
        return TrainOutcome(epoch_seconds, accuracy)

    def _train_to_target(self, data: BenchData, job: TtaJob) -> TrainOutcome:
        recipe = job.recipe
        model = _recipe_classifier(recipe.init)(
            hidden_layer_sizes=recipe.hidden, activation="relu", solver="adam", alpha=0.0,
            batch_size=recipe.batch_size, learning_rate_init=recipe.learning_rate, beta_1=recipe.beta_1,
            beta_2=recipe.beta_2, epsilon=recipe.epsilon, shuffle=True, random_state=job.random_state,
        )
        return partial_fit_to_target(data, job, model)


def _recipe_classifier(init: str) -> type:
    """MLPClassifier whose weights start as the recipe says and whose biases start at zero."""
    from sklearn.neural_network import MLPClassifier  # its MLP loads only in the worker that runs it

    class RecipeMLPClassifier(MLPClassifier):
        def _init_coef(self, fan_in: int, fan_out: int, dtype: Any) -> tuple[Any, Any]:
            bound = np.sqrt(6.0 / (fan_in + fan_out)) if init == "glorot_uniform" else 1.0 / np.sqrt(fan_in)
            weights = self._random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False)
            return weights, np.zeros(fan_out, dtype=dtype)

    return RecipeMLPClassifier
