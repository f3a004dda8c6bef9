"""The fast network against the plain float64 reference, and both against finite differences."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

from mlp_checks import finite_differences

from mnistlab.mlp import reference
from mnistlab.mlp.network import Evaluator, NetSpec, Params, Workspace, backward, forward, regularisation_cost

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT_LOSS = list(itertools.product(("sigmoid", "softmax"), ("logloss", "cross_entropy", "mse")))
REGULARISERS = [(0.0, 0.0), (0.3, 0.0), (0.0, 0.2), (0.3, 0.2)]
SIZES = [5, 4, 3, 3]


def tiny_problem(seed: int, sizes=SIZES, n: int = 4):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, (i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [rng.uniform(-0.5, 0.5, o) for o in sizes[1:]]
    X = rng.normal(size=(n, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    return weights, biases, X, Y


def numeric_gradients(weights, biases, X, Y, act, out, loss, l2, l1, scale, h=1e-6):
    def f():
        return reference.objective(weights, biases, X, Y, act, out, loss, l2, l1, scale)

    return finite_differences(f, [*weights, *biases], h)


@pytest.mark.parametrize("act", HIDDEN)
@pytest.mark.parametrize("out,loss", OUTPUT_LOSS)
@pytest.mark.parametrize("l2,l1", REGULARISERS)
def test_gradients_match_finite_differences(act, out, loss, l2, l1):
    weights, biases, X, Y = tiny_problem(seed=zlib.crc32(f"{act}{out}{loss}{l2}{l1}".encode()))
    scale = 1 / len(X)
    numeric = numeric_gradients(weights, biases, X, Y, act, out, loss, l2, l1, scale)
    gw, gb = reference.gradients(weights, biases, X, Y, act, out, loss, l2, l1, scale)
    for got, want in zip([*gw, *gb], numeric):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # the fast implementation, run in float64, computes the same gradient
    spec = NetSpec(activation=act, output=out, loss=loss)
    params = Params([w.copy() for w in weights], [b.copy() for b in biases])
    ws = Workspace(SIZES, batch_size=8, dtype=np.float64)
    forward(spec, params, X, ws.acts)
    backward(spec, params, X, Y, ws, scale=scale, l2=l2, l1=l1)
    for got, want in zip(ws.grads, [*gw, *gb]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("act", HIDDEN)
@pytest.mark.parametrize("out,loss", OUTPUT_LOSS)
def test_float32_fast_path_matches_float64_reference(act, out, loss):
    sizes = [20, 16, 8, 4]
    weights, biases, X, Y = tiny_problem(7, sizes, n=32)
    weights = [w * 0.5 for w in weights]
    spec = NetSpec(activation=act, output=out, loss=loss)
    params = Params([w.astype(np.float32) for w in weights], [b.astype(np.float32) for b in biases])
    ws = Workspace(sizes, batch_size=32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    outputs = forward(spec, params, X32, ws.acts)
    _, As = reference.forward(weights, biases, X, act, out)
    np.testing.assert_allclose(outputs, As[-1], rtol=1e-4, atol=1e-5)
    backward(spec, params, X32, Y32, ws, scale=1 / 32, l2=0.01, l1=0.001)
    gw, gb = reference.gradients(weights, biases, X, Y, act, out, loss, 0.01, 0.001, 1 / 32)
    for got, want in zip(ws.grads, [*gw, *gb]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-4)


def test_partial_batch_uses_leading_rows_of_the_buffers():
    weights, biases, X, Y = tiny_problem(3, n=3)
    spec = NetSpec("tanh", "softmax", "cross_entropy")
    params = Params(weights, biases)
    ws = Workspace(SIZES, batch_size=10, dtype=np.float64)
    forward(spec, params, X, ws.acts)
    backward(spec, params, X, Y, ws)
    gw, gb = reference.gradients(weights, biases, X, Y, "tanh", "softmax", "cross_entropy")
    for got, want in zip(ws.grads, [*gw, *gb]):
        np.testing.assert_allclose(got, want, rtol=1e-9)


def test_regularisation_cost_leaves_biases_alone():
    params = Params([np.array([[1.0, -2.0]])], [np.array([100.0, 100.0])])
    assert regularisation_cost(params, l2=2.0, l1=0.5) == pytest.approx(0.5 * 2.0 * 5.0 + 0.5 * 3.0)


def test_evaluator_chunks_agree_with_one_pass_and_skip_output_activation():
    weights, biases, _, _ = tiny_problem(5, [6, 5, 3])
    X = np.random.default_rng(0).normal(size=(50, 6))
    spec = NetSpec("relu", "sigmoid", "logloss")
    params = Params(weights, biases)
    small = Evaluator([6, 5, 3], chunk_size=7, dtype=np.float64)
    _, As = reference.forward(weights, biases, X, "relu", "sigmoid")
    np.testing.assert_allclose(small.outputs(spec, params, X), As[-1], rtol=1e-12)
    np.testing.assert_array_equal(small.predict_index(spec, params, X), As[-1].argmax(axis=1))
    y = As[-1].argmax(axis=1)
    y[:5] = (y[:5] + 1) % 3
    assert small.accuracy(spec, params, X, y) == pytest.approx(45 / 50)


def test_backward_writes_no_delta_for_the_input_layer():
    ws = Workspace(SIZES, batch_size=4)
    assert ws.deltas[0].size == 0


@pytest.mark.parametrize("sizes", [[5, 3], [5, 4, 3], [6, 5, 4, 4, 3]])
def test_any_depth_matches_the_reference(sizes):
    weights, biases, X, Y = tiny_problem(11, sizes, n=6)
    spec = NetSpec("tanh", "softmax", "cross_entropy")
    ws = Workspace(sizes, batch_size=6, dtype=np.float64)
    forward(spec, Params(weights, biases), X, ws.acts)
    backward(spec, Params(weights, biases), X, Y, ws, scale=0.5, l2=0.1)
    gw, gb = reference.gradients(weights, biases, X, Y, "tanh", "softmax", "cross_entropy", l2=0.1, scale=0.5)
    for got, want in zip(ws.grads, [*gw, *gb]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_params_flat_makes_every_array_a_view_of_one_buffer():
    weights, biases, _, _ = tiny_problem(7)
    params = Params([w.astype(np.float32) for w in weights], [b.astype(np.float32) for b in biases])
    before = [a.copy() for a in params.arrays()]
    flat = params.flat()
    assert flat.size == sum(a.size for a in before)
    assert all(a.base is flat for a in params.arrays())
    for a, b in zip(params.arrays(), before):
        np.testing.assert_array_equal(a, b)
    assert params.flat() is flat
    flat *= 2  # an update of the buffer is an update of every layer
    np.testing.assert_array_equal(params.weights[1], 2 * before[1])


def test_params_flat_rebuilds_after_an_array_is_replaced_or_pickled():
    import pickle

    weights, biases, _, _ = tiny_problem(8)
    params = Params(weights, biases)
    first = params.flat()
    params.weights[0] = np.full_like(params.weights[0], 5.0)
    second = params.flat()
    assert second is not first and np.all(params.weights[0] == 5.0) and params.weights[0].base is second
    copy = pickle.loads(pickle.dumps(params))
    assert "_flat" not in copy.__dict__
    np.testing.assert_array_equal(copy.flat(), second)


def test_params_assign_copies_values_and_keeps_the_views():
    weights, biases, _, _ = tiny_problem(9)
    params, other = Params(weights, biases), Params(*tiny_problem(10)[:2])
    flat = params.flat()
    params.assign(other)
    assert params.flat() is flat
    for a, b in zip(params.arrays(), other.arrays()):
        np.testing.assert_array_equal(a, b)


def test_workspace_gradients_are_views_of_flat_grads():
    ws = Workspace(SIZES, batch_size=4)
    assert ws.flat_grads.size == sum(g.size for g in ws.grads)
    assert all(g.base is ws.flat_grads for g in ws.grads)
    assert [g.shape for g in ws.grads] == [(5, 4), (4, 3), (3, 3), (4,), (3,), (3,)]
