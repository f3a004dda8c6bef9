"""Targets and the cheap per-batch metrics the epoch loop reports (cost, error, correct)."""

from __future__ import annotations

import numpy as np

from mnistlab.mlp.losses import EPS


def one_hot(y_index: np.ndarray, n_classes: int, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot rows (n, n_classes) for class indices (n,)."""
    Y = np.zeros((y_index.shape[0], n_classes), dtype=dtype)
    Y[np.arange(y_index.shape[0]), y_index] = 1
    return Y


def count_correct(A: np.ndarray, Y: np.ndarray, y_index: np.ndarray | None) -> int:
    """Rows whose prediction is right: argmax, one logistic unit above 0.5, or (multilabel,
    y_index None) every label right."""
    if y_index is None:
        return int(np.count_nonzero(np.all((A > 0.5) == (Y > 0.5), axis=1)))
    predicted = A.argmax(axis=1) if A.shape[1] > 1 else A[:, 0] > 0.5
    return int(np.count_nonzero(predicted == y_index))


def batch_metrics(loss: str, A: np.ndarray, Y: np.ndarray, y_index: np.ndarray | None,
                  scratch: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float, int]:
    """(summed loss, mean |A - Y|, number correct) of outputs A against 0/1 targets Y (m, outputs).

    Cheaper than `losses.loss_value` because Y holds only zeros and ones: with D = |A - Y|, the
    logloss terms y log a + (1 - y) log(1 - a) are log(1 - D), and D is the error the seed
    reports. `weights` (m,) weigh each row's loss. `scratch` (m, outputs) is overwritten.
    """
    eps = EPS.get(A.dtype, 1e-7)
    D = np.subtract(A, Y, out=scratch)
    np.abs(D, out=D)
    error = float(D.mean())
    if loss == "cross_entropy" and y_index is not None and A.shape[1] > 1:
        picked = -np.log(np.maximum(A[np.arange(A.shape[0]), y_index], A.dtype.type(eps)))
        cost = float(picked.sum() if weights is None else np.dot(picked, weights))
    else:
        if loss == "mse":
            np.multiply(D, D, out=D)
            sign = 0.5
        else:  # logloss, and cross-entropy of a single logistic unit
            np.subtract(D.dtype.type(1), D, out=D)
            np.maximum(D, D.dtype.type(eps), out=D)
            np.log(D, out=D)
            sign = -1.0
        cost = sign * float(D.sum() if weights is None else np.dot(D.sum(axis=1), weights))
    return cost, error, count_correct(A, Y, y_index)
