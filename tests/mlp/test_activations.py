"""In-place activations and their output-based derivatives against the textbook forms."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import reference
from mnistlab.mlp.activations import ACTIVATIONS, DERIVATIVES, row_max, row_sum, softmax_backward


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inplace_activation_matches_reference(name, dtype):
    Z = np.random.default_rng(0).normal(scale=4, size=(7, 5)).astype(dtype)
    want = reference.activate(name, Z.astype(np.float64), slope=0.01)
    got = Z.copy()
    ACTIVATIONS[name](got, 0.01)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-7)


def test_sigmoid_does_not_overflow_for_huge_inputs():
    Z = np.array([[-1e30, -100.0, 0.0, 100.0, 1e30]], dtype=np.float32)
    with np.errstate(all="raise"):
        ACTIVATIONS["sigmoid"](Z)
    np.testing.assert_allclose(Z, [[0, 0, 0.5, 1, 1]], atol=1e-7)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_derivative_from_outputs_equals_derivative_from_inputs(name):
    rng = np.random.default_rng(1)
    Z = rng.normal(scale=3, size=(6, 4))
    A = reference.activate(name, Z, 0.05)
    delta = rng.normal(size=Z.shape)
    got = delta.copy()
    DERIVATIVES[name](A, got, np.empty_like(A), 0.05)
    np.testing.assert_allclose(got, delta * reference.activation_derivative(name, Z, 0.05), rtol=1e-12)


def test_softmax_backward_is_the_jacobian_product():
    rng = np.random.default_rng(2)
    A = reference.activate("softmax", rng.normal(size=(3, 4)))
    g = rng.normal(size=(3, 4))
    want = reference.output_backward("softmax", A, g)
    got = g.copy()
    softmax_backward(A, got)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("shape", [(300, 10), (100, 10), (300, 40), (300, 1), (0, 10)])
def test_row_max_and_row_sum_match_numpy_reductions(shape):
    Z = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    m, s = row_max(Z), row_sum(Z)
    assert m.shape == s.shape == (shape[0], 1)
    np.testing.assert_array_equal(m, Z.max(axis=1, keepdims=True) if shape[0] else m)
    np.testing.assert_allclose(s, Z.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-5)


def test_softmax_rows_of_a_large_batch_sum_to_one_and_keep_the_order():
    Z = np.random.default_rng(4).normal(scale=30, size=(1000, 10)).astype(np.float32)
    A = Z.copy()
    ACTIVATIONS["softmax"](A)
    np.testing.assert_allclose(A.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(A.argmax(axis=1), Z.argmax(axis=1))
