"""The epoch loop's building blocks: one-hot targets and the cheap per-batch metrics."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import reference
from mnistlab.mlp.losses import loss_value
from mnistlab.mlp.metrics import batch_metrics, one_hot


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


@pytest.mark.parametrize("reduction,l2,l1", [("mean", 0.01, 0.0), ("sum", 0.0, 0.001)])
def test_large_batches_in_blocks_train_like_one_pass(blobs, monkeypatch, reduction, l2, l1):
    """A batch split into cache-sized blocks gets the same summed gradient, cost and accuracy."""
    from mnistlab import MLPClassifier
    from mnistlab.mlp import trainer

    X, y = blobs
    options = dict(hidden_sizes=(8,), activation="tanh", solver="sgd", learning_rate=0.01, momentum=0.5,
                   loss_reduction=reduction, l2=l2, l1=l1, batch_size=120, epochs=3, n_iter_no_change=None,
                   random_state=0)
    one_pass = MLPClassifier(**options).fit(X, y)
    monkeypatch.setattr(trainer, "BLOCK_ROWS", 50)  # 120-row batches: blocks of 50, 50 and 20
    in_blocks = MLPClassifier(**options).fit(X, y)
    for W_one, W_blocks in zip(one_pass.coefs_, in_blocks.coefs_):
        np.testing.assert_allclose(W_blocks, W_one, rtol=1e-4, atol=1e-6)
    for column in ("loss", "accuracy", "error", "reg_share"):
        np.testing.assert_allclose(in_blocks.history_.as_arrays()[column], one_pass.history_.as_arrays()[column],
                                   rtol=1e-4)
