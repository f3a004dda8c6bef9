"""The options' maths against finite differences: row weights, dropout masks, sparse inputs, identity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from mlp_checks import finite_differences

from mnistlab.mlp.dropout import Dropout
from mnistlab.mlp.losses import loss_value
from mnistlab.mlp.network import NetSpec, Params, Workspace, backward, forward

SIZES = [5, 4, 3, 3]


def problem(seed: int, n: int = 6):
    rng = np.random.default_rng(seed)
    params = Params([rng.uniform(-1, 1, (i, o)) for i, o in zip(SIZES[:-1], SIZES[1:])],
                    [rng.uniform(-0.5, 0.5, o) for o in SIZES[1:]])
    X = rng.normal(size=(n, SIZES[0]))
    Y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], n)]
    return params, X, Y, rng


def weighted_loss(spec, params, X, Y, ws, weights, dropout, scale):
    outputs = forward(spec, params, X, ws.acts, dropout=dropout)
    per_row = [loss_value(spec.loss, outputs[i:i + 1], Y[i:i + 1]) for i in range(len(Y))]
    return scale * float(np.dot(per_row, weights))


@pytest.mark.parametrize("act", ["relu", "tanh", "identity", "sigmoid"])
@pytest.mark.parametrize("weighted,dropped", [(True, False), (False, True), (True, True)])
def test_weighted_and_dropped_gradients_match_finite_differences(act, weighted, dropped):
    params, X, Y, rng = problem(3)
    spec = NetSpec(activation=act, output="softmax", loss="cross_entropy")
    ws = Workspace(SIZES, batch_size=len(X), dtype=np.float64)
    weights = rng.uniform(0, 2, len(X)) if weighted else np.ones(len(X))
    dropout = None
    if dropped:
        dropout = Dropout(0.4, SIZES, len(X), np.float64)
        dropout.draw(rng, len(X))  # fixed masks: the loss is a smooth function of the weights
    scale = 1 / weights.sum()
    numeric = finite_differences(lambda: weighted_loss(spec, params, X, Y, ws, weights, dropout, scale),
                                 params.arrays())
    forward(spec, params, X, ws.acts, dropout=dropout)
    backward(spec, params, X, Y, ws, scale=scale, row_weights=weights if weighted else None, dropout=dropout)
    for got, want in zip(ws.grads, numeric):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_dropout_masks_drop_the_rate_and_rescale():
    dropout = Dropout(0.25, [3, 400, 2], 500, np.float32)
    dropout.draw(np.random.default_rng(0), 500)
    mask = dropout.masks[0]
    assert set(np.unique(mask)) == {0.0, np.float32(1 / 0.75)}
    assert np.mean(mask == 0) == pytest.approx(0.25, abs=0.01)


def test_sparse_input_gives_the_dense_forward_and_backward():
    params, X, Y, _ = problem(5)
    X[X < 0.3] = 0.0
    spec = NetSpec(activation="relu")
    dense, sparse = (Workspace(SIZES, batch_size=len(X), dtype=np.float64, gather_inputs=g) for g in (True, False))
    out_dense = forward(spec, params, X, dense.acts).copy()
    backward(spec, params, X, Y, dense)
    out_sparse = forward(spec, params, scipy.sparse.csr_matrix(X), sparse.acts)
    backward(spec, params, scipy.sparse.csr_matrix(X), Y, sparse)
    np.testing.assert_allclose(out_sparse, out_dense, rtol=1e-12)
    for got, want in zip(sparse.grads, dense.grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
