"""Exact floating-point operation counts of training a dense net, per sample.

Convention: one multiply or one add is one FLOP; a matrix product ``(m, k) @ (k, n)`` is
``2 m k n``. GEMM work dominates (99% for 784-70-30-10), and achieved GFLOP/s are quoted
for the GEMM part, the same quantity the machine's GEMM rate (`mnistlab.cpu`) measures, so the
two read as a share. Element-wise work (bias adds, activations, deltas, the update) is
counted separately under the conventions written next to each term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mnistlab.errors import ConfigError

# Element-wise cost per unit: sigmoid 1 / (1 + exp(-z)) is neg, exp, add, div;
# its derivative from the stored output a is a * (1 - a): one sub, one mul.
_ACTIVATION_FLOPS = {"sigmoid": 4, "tanh": 1, "relu": 1}
_DERIVATIVE_FLOPS = {"sigmoid": 2, "tanh": 2, "relu": 1}


@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one training step, split into GEMM and element-wise work, per sample."""

    forward_gemm: int
    backward_gemm: int
    elementwise: float

    @property
    def gemm(self) -> int:
        """GEMM FLOPs of forward and backward pass together."""
        return self.forward_gemm + self.backward_gemm

    @property
    def total(self) -> float:
        """All FLOPs per sample."""
        return self.gemm + self.elementwise


def dense_train_flops(layer_sizes: Sequence[int], activation: str = "sigmoid",
                      batch_size: int | None = None) -> FlopCount:
    """FLOPs per sample of one forward+backward pass (and SGD-momentum update) of a dense net.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first, output last, e.g. ``(784, 70, 30, 10)``.
    activation : str
        Hidden activation (the output is softmax with cross-entropy).
    batch_size : int, optional
        When given, the per-batch parameter update is spread over the batch's samples.

    Returns
    -------
    FlopCount
        Forward GEMM ``sum 2 n_in n_out``; backward GEMM: the weight gradients (same count)
        plus the deltas of every hidden layer (``2 n_in n_out`` for each layer but the first:
        no delta is propagated into the input).

    Examples
    --------
    >>> dense_train_flops((784, 70, 30, 10)).gemm
    233920
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ConfigError(f"layer sizes must be at least two positive ints, got {list(layer_sizes)}")
    if activation not in _ACTIVATION_FLOPS:
        raise ConfigError(f"unknown activation {activation!r}; use one of {sorted(_ACTIVATION_FLOPS)}")
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * n_in * n_out for n_in, n_out in pairs)
    weight_grads = forward
    deltas = sum(2 * n_in * n_out for n_in, n_out in pairs[1:])
    hidden = sum(sizes[1:-1])
    n_out = sizes[-1]
    n_params = sum(n_in * n_out + n_out for n_in, n_out in pairs)
    elementwise = (
        sum(sizes[1:])                                     # bias adds
        + hidden * _ACTIVATION_FLOPS[activation]           # hidden activations
        + 4 * n_out                                        # softmax: sub max, exp, sum, div
        + n_out                                            # output delta: p - onehot
        + hidden * (_DERIVATIVE_FLOPS[activation] + 1)     # delta * f'(a)
        + sum(sizes[1:])                                   # bias gradients (sum over batch)
    )
    if batch_size:
        elementwise += 4 * n_params / batch_size           # v = mu v - lr g; w += v
    return FlopCount(forward_gemm=forward, backward_gemm=weight_grads + deltas, elementwise=elementwise)
