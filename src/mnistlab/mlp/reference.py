"""A plain float64 MLP, written like the maths: the yardstick the fast `network` must match.

No buffers, no in-place tricks, no shortcuts: each activation has a textbook derivative in Z,
each loss a textbook gradient in A, and the output Jacobian is applied explicitly. Slow and
obvious on purpose; only tests and debugging use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def activate(name: str, Z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """The activation `name` of Z (n, units)."""
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, slope * Z)
    if name == "identity":
        return Z.copy()
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(name)


def activation_derivative(name: str, Z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Element-wise d act / dZ for the hidden activations, from Z."""
    if name == "sigmoid":
        s = activate("sigmoid", Z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if name == "relu":
        return (Z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, slope)
    if name == "identity":
        return np.ones_like(Z)
    raise ValueError(name)


def loss(name: str, A: np.ndarray, Y: np.ndarray) -> float:
    """Loss summed over the batch."""
    if name == "logloss":
        return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
    if name == "cross_entropy":
        return float(-np.sum(Y * np.log(A)))
    if name == "mse":
        return float(0.5 * np.sum((A - Y) ** 2))
    raise ValueError(name)


def loss_gradient(name: str, A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dL/dA (n, classes)."""
    if name == "logloss":
        return -Y / A + (1 - Y) / (1 - A)
    if name == "cross_entropy":
        return -Y / A
    if name == "mse":
        return A - Y
    raise ValueError(name)


def output_backward(output: str, A: np.ndarray, grad_A: np.ndarray) -> np.ndarray:
    """dL/dZ from dL/dA through the output activation, with the full softmax Jacobian."""
    if output == "sigmoid":
        return grad_A * A * (1 - A)
    rows = []
    for a, g in zip(A, grad_A):
        jacobian = np.diag(a) - np.outer(a, a)  # d softmax_i / d z_j
        rows.append(jacobian @ g)
    return np.array(rows)


def forward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray,
            activation: str, output: str, slope: float = 0.01) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations Zs and activations As of every layer (As[0] = X)."""
    As, Zs = [np.asarray(X, float)], []
    for l, (W, b) in enumerate(zip(weights, biases)):
        Z = As[-1] @ W + b
        Zs.append(Z)
        As.append(activate(output if l == len(weights) - 1 else activation, Z, slope))
    return Zs, As


def objective(weights, biases, X, Y, activation, output, loss_name, l2=0.0, l1=0.0, scale=1.0, slope=0.01) -> float:
    """scale * (loss + l2/2 sum W^2 + l1 sum |W|), the quantity the gradients differentiate."""
    _, As = forward(weights, biases, X, activation, output, slope)
    reg = sum(0.5 * l2 * np.sum(W**2) + l1 * np.sum(np.abs(W)) for W in weights)
    return scale * (loss(loss_name, As[-1], Y) + reg)


def gradients(weights, biases, X, Y, activation, output, loss_name, l2=0.0, l1=0.0, scale=1.0,
              slope=0.01) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Gradients of `objective` w.r.t. every weight matrix and bias vector, by backpropagation."""
    Zs, As = forward(weights, biases, X, activation, output, slope)
    delta = output_backward(output, As[-1], loss_gradient(loss_name, As[-1], Y))
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        grad_w[l] = scale * (As[l].T @ delta + l2 * weights[l] + l1 * np.sign(weights[l]))
        grad_b[l] = scale * delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * activation_derivative(activation, Zs[l - 1], slope)
    return grad_w, grad_b
