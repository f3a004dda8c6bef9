"""Loss values and output deltas against the reference; the canonical pairs are A - Y."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import reference
from mnistlab.mlp.losses import loss_value, output_delta


def outputs(output: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    A = reference.activate(output, rng.normal(size=(5, 4)))
    Y = np.eye(4)[rng.integers(0, 4, 5)]
    return A, Y


@pytest.mark.parametrize("loss", ["logloss", "cross_entropy", "mse"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_loss_and_delta_match_reference(loss, output):
    A, Y = outputs(output)
    assert loss_value(loss, A, Y) == pytest.approx(reference.loss(loss, A, Y), rel=1e-12)
    want = reference.output_backward(output, A, reference.loss_gradient(loss, A, Y))
    np.testing.assert_allclose(output_delta(loss, output, A, Y, out=np.empty_like(A)), want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss,output", [("logloss", "sigmoid"), ("cross_entropy", "softmax")])
def test_canonical_pairs_reduce_to_difference(loss, output):
    A, Y = outputs(output, seed=3)
    np.testing.assert_array_equal(output_delta(loss, output, A, Y, out=np.empty_like(A)), A - Y)


def test_log_losses_stay_finite_for_saturated_outputs():
    A = np.array([[0.0, 1.0]], dtype=np.float32)
    Y = np.array([[1.0, 0.0]], dtype=np.float32)
    assert np.isfinite(loss_value("logloss", A, Y))
    assert np.isfinite(loss_value("cross_entropy", A, Y))


def test_unknown_loss_is_named():
    with pytest.raises(ValueError, match="hinge"):
        loss_value("hinge", np.zeros((1, 2)), np.zeros((1, 2)))
