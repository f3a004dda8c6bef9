"""The epoch loop's building blocks: one-hot targets and the cheap per-batch metrics."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import reference
from mnistlab.mlp.losses import loss_value
from mnistlab.mlp.trainer import batch_metrics, one_hot


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("loss,output", [("logloss", "sigmoid"), ("cross_entropy", "softmax"), ("mse", "sigmoid"),
                                         ("logloss", "softmax")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_metrics_agree_with_the_general_loss(loss, output, dtype):
    rng = np.random.default_rng(0)
    A = reference.activate(output, rng.normal(scale=3, size=(50, 4))).astype(dtype)
    y = rng.integers(0, 4, 50)
    Y = one_hot(y, 4, dtype)
    cost, error, correct = batch_metrics(loss, A, Y, y, np.empty_like(A))
    assert cost == pytest.approx(loss_value(loss, A, Y), rel=1e-5 if dtype == np.float32 else 1e-12)
    assert error == pytest.approx(float(np.abs(A - Y).mean()), rel=1e-5)
    assert correct == int(np.sum(A.argmax(axis=1) == y))
