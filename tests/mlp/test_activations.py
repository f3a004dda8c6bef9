"""In-place activations and their output-based derivatives against the textbook forms."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import reference
from mnistlab.mlp.activations import ACTIVATIONS, DERIVATIVES, softmax_backward


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
