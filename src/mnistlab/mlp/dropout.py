"""Inverted dropout on the hidden layers: masks drawn per batch and kept for the backward pass.

During training each hidden unit is kept with probability 1 - rate and scaled by 1 / (1 - rate),
so predictions need no rescaling (Srivastava et al. 2014). The stored activations stay
un-dropped, because every derivative is written from the activation's own output; the next
layer reads the dropped copy. The plain path never builds one of these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Dropout:
    """Masks and dropped activations for the hidden layers of nets with `layer_sizes`.

    masks[l] and dropped[l] are (batch_size, units) buffers for hidden layer l + 1 (layer 0
    is the input, never dropped); `draw` fills the masks of one batch of n rows.
    """

    def __init__(self, rate: float, layer_sizes: Sequence[int], batch_size: int, dtype: np.dtype) -> None:
        self.rate = float(rate)
        self.batch_size = batch_size
        hidden = list(layer_sizes[1:-1])
        self.masks = [np.empty((batch_size, s), dtype) for s in hidden]
        self.dropped = [np.empty((batch_size, s), dtype) for s in hidden]
        self.n = 0

    def draw(self, rng: np.random.Generator, n: int) -> None:
        """New masks for a batch of n rows: 0 with probability `rate`, else 1 / (1 - rate)."""
        self.n = n
        scale = 1.0 / (1.0 - self.rate)
        for mask in self.masks:
            m = mask[:n]
            rng.random(dtype=m.dtype, out=m)  # uniform [0, 1) in place (float32 or float64)
            keep = m >= self.rate
            m[...] = keep
            m *= m.dtype.type(scale)

    def apply(self, hidden_layer: int, A: np.ndarray) -> np.ndarray:
        """The dropped copy of hidden layer `hidden_layer`'s activations A (n, units)."""
        return np.multiply(A, self.masks[hidden_layer][:A.shape[0]], out=self.dropped[hidden_layer][:A.shape[0]])

    def backward(self, hidden_layer: int, delta: np.ndarray) -> None:
        """Multiply delta (n, units), the gradient w.r.t. the dropped copy, by the mask in place."""
        delta *= self.masks[hidden_layer][:delta.shape[0]]
