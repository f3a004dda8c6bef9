"""scikit-learn's MLPClassifier as a benchmark engine (solver "sgd", heavy-ball momentum)."""

from __future__ import annotations

import time
from typing import Any

from mnistlab.bench.engines.base import BenchData, DenseEngine, TrainJob, TrainOutcome, blas_threads


class SklearnEngine(DenseEngine):
    """`sklearn.neural_network.MLPClassifier`, one `partial_fit` per epoch so each epoch is timed.

    Mapping: solver="sgd", learning_rate="constant", nesterovs_momentum=False, alpha=0 gives
    exactly ``v = momentum v - lr grad; w += v`` on the batch-mean log-loss; "logistic" is sigmoid.
    Initialisation is scikit-learn's own (uniform, Glorot-style bound).
    """

    name = "sklearn"

    def available(self) -> tuple[bool, str]:
        """scikit-learn is a core dependency: always available."""
        return True, ""

    def setup(self, threads: int) -> None:
        """Nothing to import ahead: BLAS is already bounded by configure_threads."""

    def threads_used(self) -> dict[str, Any]:
        """BLAS pool size."""
        return {"blas": blas_threads()}

    def train(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Fit a fresh MLPClassifier for `job.epochs` epochs and score it on the test set."""
        import numpy as np
        from sklearn.neural_network import MLPClassifier

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
