"""Losses of the network's outputs against one-hot targets, and their gradient w.r.t. Z_out.

All values are *sums* over the batch; the caller scales by 1/n for mean reduction.
Shapes: `A` (outputs) and `Y` (one-hot targets) are `(n_samples, n_classes)`.

- "logloss": the seed's LogLoss, binary cross-entropy of every output unit,
  ``-sum(Y log A + (1 - Y) log(1 - A))``; with a sigmoid output its dL/dZ is ``A - Y``.
- "cross_entropy": categorical cross-entropy ``-sum(Y log A)``; with softmax, ``A - Y``.
- "mse": half the summed squared error ``sum((A - Y)**2) / 2``.

Other output/loss pairs are allowed and go through the general chain rule.
"""

from __future__ import annotations

import numpy as np

from mnistlab.mlp.activations import softmax_backward

LOSSES = ("logloss", "cross_entropy", "mse")

EPS = {np.dtype(np.float32): 1e-7, np.dtype(np.float64): 1e-15}


def _clipped(A: np.ndarray) -> np.ndarray:
    eps = EPS.get(A.dtype, 1e-7)
    return np.clip(A, eps, 1 - eps)


def loss_value(loss: str, A: np.ndarray, Y: np.ndarray) -> float:
    """The loss summed over the batch, for outputs A and one-hot targets Y (n, classes)."""
    if loss == "logloss":
        Ac = _clipped(A)
        return float(-(np.sum(Y * np.log(Ac)) + np.sum((1 - Y) * np.log1p(-Ac))))
    if loss == "cross_entropy":
        return float(-np.sum(Y * np.log(_clipped(A))))
    if loss == "mse":
        diff = A - Y
        return float(0.5 * np.dot(diff.ravel(), diff.ravel()))
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")


def output_delta(loss: str, output: str, A: np.ndarray, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write dL/dZ_out (n, classes) for `loss` and output activation `output` into `out`.

    The two canonical pairs (sigmoid + logloss, softmax + cross_entropy) reduce to A - Y,
    one subtraction and no division; everything else uses dL/dA times the activation's
    Jacobian, written from the stored outputs A.
    """
    if (loss, output) in (("logloss", "sigmoid"), ("cross_entropy", "softmax")):
        return np.subtract(A, Y, out=out)
    if loss == "mse":
        np.subtract(A, Y, out=out)
    elif loss == "logloss":
        Ac = _clipped(A)
        np.subtract(Ac, Y, out=out)
        out /= Ac * (1 - Ac)
    elif loss == "cross_entropy":
        np.divide(-Y, _clipped(A), out=out)
    else:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if output == "sigmoid":
        out *= A * (1 - A)
    elif output == "softmax":
        softmax_backward(A, out)
    else:
        raise ValueError(f"unknown output activation {output!r}; choose sigmoid or softmax")
    return out
