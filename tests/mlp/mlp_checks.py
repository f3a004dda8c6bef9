"""Checks the MLP tests share: central finite differences, and two trainings that must be identical."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mnistlab import MLPClassifier


def finite_differences(f: Callable[[], float], arrays: Sequence[np.ndarray], h: float = 1e-6) -> list[np.ndarray]:
    """d f / d a for every entry of `arrays` (changed in place and restored), by central differences."""
    grads = []
    for arr in arrays:
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = f()
            arr[idx] = old - h
            down = f()
            arr[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def assert_same_training(a: MLPClassifier, b: MLPClassifier) -> None:
    """The two estimators hold bit-identical weights and history (timings aside)."""
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    ha, hb = a.history_.as_arrays(), b.history_.as_arrays()
    for name in ha:
        if "seconds" not in name:
            np.testing.assert_array_equal(ha[name], hb[name], err_msg=name)
