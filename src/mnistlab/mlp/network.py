"""The MLP's maths: forward and backward passes on buffers allocated once and reused.

Conventions: batch-major data, `X` (n, n_in); weights `W[l]` (fan_in, fan_out) and separate
bias vectors `b[l]` (fan_out,), so `Z = A @ W + b` and no column of ones is ever built
(the seed's Step II: appending bias rows cost more than the matmul itself). The backward pass
takes derivatives from the stored activations (Step III) and never propagates a delta into
the input layer (Step I). Every array is C-contiguous in one dtype (float32 in training), so
each product is a single BLAS sgemm with no hidden copy or transpose.

`mnistlab.mlp.reference` holds the same maths written plainly in float64; the tests hold
this module to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mnistlab.mlp.activations import ACTIVATIONS, DERIVATIVES
from mnistlab.mlp.dropout import Dropout
from mnistlab.mlp.losses import output_delta


@dataclass(frozen=True)
class NetSpec:
    """What the layers compute: hidden activation, output activation, loss, leaky slope."""

    activation: str = "sigmoid"
    output: str = "softmax"
    loss: str = "cross_entropy"
    slope: float = 0.01


@dataclass
class Params:
    """The learned arrays: `weights[l]` (fan_in, fan_out) and `biases[l]` (fan_out,)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, inputs first: [n_in, hidden..., n_out]."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    def arrays(self) -> list[np.ndarray]:
        """Weights then biases, the flat list optimizers update."""
        return [*self.weights, *self.biases]

    def copy(self) -> Params:
        """A deep copy."""
        return Params([w.copy() for w in self.weights], [b.copy() for b in self.biases])

    def flat(self) -> np.ndarray:
        """All weights and biases as one flat array whose views they are, in Params.arrays() order.

        The first call moves the arrays into a new buffer (the lists are updated in place), later
        calls return the same buffer while the arrays are still its views. An optimizer then
        updates every parameter with a few whole-buffer operations instead of a few per array
        (3 NumPy calls per step instead of 18 for SGD with momentum on a 3-layer net).
        """
        arrays = self.arrays()
        buffer = getattr(self, "_flat", None)
        if buffer is not None and all(a.base is buffer for a in arrays):
            return buffer
        buffer = np.concatenate([a.ravel() for a in arrays])
        views = _views(buffer, [a.shape for a in arrays])
        n = len(self.weights)
        self.weights[:], self.biases[:] = views[:n], views[n:]
        self._flat = buffer
        return buffer

    def __getstate__(self) -> dict:
        # The flat buffer is rebuilt on demand; pickled views would no longer share it.
        return {k: v for k, v in self.__dict__.items() if k != "_flat"}

    def assign(self, other: Params) -> None:
        """Copy other's values into these arrays (keeping them views of their flat buffer)."""
        for dst, src in zip(self.arrays(), other.arrays()):
            np.copyto(dst, src)


def _views(buffer: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Consecutive C-contiguous views of `buffer` with the given shapes."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(buffer[start:start + size].reshape(shape))
        start += size
    return views


class Workspace:
    """Every buffer one training step needs, for batches of up to `batch_size` rows.

    acts[0] (batch, n_in) receives the gathered input batch; acts[l] (batch, units_l) the
    activations; deltas[l] and tmp[l] have the same shapes (deltas[0] is never needed);
    grads mirror Params.arrays() and are views of one flat array, `flat_grads`, laid out like
    `Params.flat()`.
    """

    def __init__(self, layer_sizes: Sequence[int], batch_size: int, dtype: np.dtype = np.float32,
                 gather_inputs: bool = True) -> None:
        self.batch_size = batch_size
        self.dtype = np.dtype(dtype)
        self.acts = [np.empty((batch_size, s), dtype) for s in layer_sizes]
        if not gather_inputs:  # sparse inputs are gathered by SciPy, not into a dense buffer
            self.acts[0] = np.empty((0, layer_sizes[0]), dtype)
        self.deltas = [np.empty((0, 0), dtype)] + [np.empty((batch_size, s), dtype) for s in layer_sizes[1:]]
        self.tmp = [np.empty((0, 0), dtype)] + [np.empty((batch_size, s), dtype) for s in layer_sizes[1:]]
        self.targets = np.empty((batch_size, layer_sizes[-1]), dtype)
        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
        shapes = [(i, o) for i, o in pairs] + [(o,) for _, o in pairs]
        self.flat_grads = np.empty(sum(int(np.prod(s)) for s in shapes), dtype)
        grads = _views(self.flat_grads, shapes)
        self.grad_weights, self.grad_biases = grads[:len(pairs)], grads[len(pairs):]
        self.reg_scratch = [np.empty((i, o), dtype) for i, o in pairs]
        self.ones = np.ones(batch_size, dtype)  # bias gradients as ones @ delta: a BLAS gemv

    @property
    def grads(self) -> list[np.ndarray]:
        """Gradients in the order of Params.arrays()."""
        return [*self.grad_weights, *self.grad_biases]


def forward(spec: NetSpec, params: Params, X: np.ndarray, acts: list[np.ndarray],
            output_activation: bool = True, dropout: Dropout | None = None) -> np.ndarray:
    """Propagate X (n, n_in) and write activations into acts[1:][:n]; return the outputs (n, n_out).

    `acts` are buffers with at least n rows (a Workspace's); X itself serves as layer 0, dense
    or a SciPy sparse matrix (the first product is then sparse x dense, the rest dense).
    With output_activation=False the last layer's pre-activations Z are returned instead.
    With `dropout` (training only), the next layer reads the dropped copy of each hidden layer.
    """
    n, last = X.shape[0], len(params.weights) - 1
    A = X
    for l, (W, b) in enumerate(zip(params.weights, params.biases)):
        Z = acts[l + 1][:n]
        if isinstance(A, np.ndarray):
            np.matmul(A, W, out=Z)  # (n, fan_in) @ (fan_in, fan_out)
        else:
            Z[...] = A @ W  # sparse (n, fan_in) @ dense: SciPy's product
        Z += b
        if l < last:
            ACTIVATIONS[spec.activation](Z, spec.slope)
        elif output_activation:
            ACTIVATIONS[spec.output](Z)
        A = Z if dropout is None or l == last else dropout.apply(l, Z)
    return A


def backward(spec: NetSpec, params: Params, X: np.ndarray, Y: np.ndarray, ws: Workspace, *,
             scale: float = 1.0, l2: float = 0.0, l1: float = 0.0, row_weights: np.ndarray | None = None,
             dropout: Dropout | None = None) -> None:
    """Write the gradient of scale * (loss + l2/2 |W|^2 + l1 |W|_1) into ws.grad_weights/grad_biases.

    Call right after `forward(spec, params, X, ws.acts, dropout=dropout)`: it reads the stored
    activations. X (n, n_in) is the same input (dense or sparse); Y (n, n_out) the targets;
    row_weights (n,) weighs each row's loss (sample and class weights). Biases are never
    regularised. scale is 1/n (or 1/sum of row weights) for mean reduction, 1 for the seed's sum.
    """
    n, L = X.shape[0], len(params.weights)
    acts = [X] + [a[:n] for a in ws.acts[1:]]
    inputs = acts if dropout is None else [X] + [d[:n] for d in dropout.dropped] + [acts[L]]  # what each layer read
    delta = output_delta(spec.loss, spec.output, acts[L], Y, out=ws.deltas[L][:n])
    if row_weights is not None:
        delta *= row_weights[:, None]
    if scale != 1.0:
        delta *= ws.dtype.type(scale)
    for l in range(L - 1, -1, -1):
        if l == 0 and not isinstance(X, np.ndarray):
            ws.grad_weights[0][...] = X.T @ delta  # sparse (fan_in, n) @ dense (n, fan_out)
        else:
            np.matmul(inputs[l].T, delta, out=ws.grad_weights[l])  # (fan_in, n) @ (n, fan_out)
        np.matmul(ws.ones[:n], delta, out=ws.grad_biases[l])  # column sums, 3-5x faster than np.sum
        if l > 0:  # no delta for the input layer: nothing learns from it
            prev = ws.deltas[l][:n]
            np.matmul(delta, params.weights[l].T, out=prev)  # (n, fan_out) @ (fan_out, fan_in)
            if dropout is not None:
                dropout.backward(l - 1, prev)
            DERIVATIVES[spec.activation](acts[l], prev, ws.tmp[l][:n], spec.slope)
            delta = prev
    add_regularisation(params, ws, scale * l2, scale * l1)


def add_regularisation(params: Params, ws: Workspace, l2: float, l1: float) -> None:
    """Add the gradient of l2/2 |W|^2 + l1 |W|_1 to ws.grad_weights, in place (biases untouched)."""
    f = ws.dtype.type
    for W, G, tmp in zip(params.weights, ws.grad_weights, ws.reg_scratch):
        if l2:
            np.multiply(W, f(l2), out=tmp)
            G += tmp
        if l1:
            np.sign(W, out=tmp)
            tmp *= f(l1)
            G += tmp


def regularisation_cost(params: Params, l2: float, l1: float) -> float:
    """l2/2 * sum(W**2) + l1 * sum(|W|) over all weight matrices (biases excluded)."""
    cost = 0.0
    for W in params.weights:
        flat = W.ravel()
        if l2:
            cost += 0.5 * l2 * float(np.dot(flat, flat))
        if l1:
            cost += l1 * float(np.abs(flat).sum())
    return cost


class Evaluator:
    """Large-batch forward passes for predictions and accuracy, with buffers kept between calls.

    Evaluating the whole training and test sets every epoch must stay cheap (the seed's
    Step II problem): chunks of `chunk_size` rows go through preallocated buffers; X is never
    copied when it already has the evaluator's dtype; accuracy skips the output activation
    (argmax of Z equals argmax of sigmoid or softmax of Z). With dtype float64 the products
    run in double precision, so a row's result does not depend on its neighbours (float32
    BLAS kernels may round a row differently by its position in the block).
    """

    def __init__(self, layer_sizes: Sequence[int], chunk_size: int = 8192, dtype: np.dtype = np.float32) -> None:
        self.layer_sizes = list(layer_sizes)
        self.chunk_size = chunk_size
        self.dtype = np.dtype(dtype)
        self._acts: list[np.ndarray] | None = None

    def __getstate__(self) -> dict:
        # Buffers are scratch: never pickled (a memory-mapped, read-only copy would break them).
        return {**self.__dict__, "_acts": None}

    def _buffers(self) -> list[np.ndarray]:
        if self._acts is None:
            self._acts = [np.empty((0, 0), self.dtype)] + [np.empty((self.chunk_size, s), self.dtype)
                                                            for s in self.layer_sizes[1:]]
        return self._acts

    def _cast(self, params: Params) -> Params:
        if params.weights[0].dtype == self.dtype:
            return params
        return Params([w.astype(self.dtype) for w in params.weights], [b.astype(self.dtype) for b in params.biases])

    def _logits(self, spec: NetSpec, params: Params, X: np.ndarray) -> np.ndarray:
        X = X if X.dtype == self.dtype else X.astype(self.dtype)
        return forward(spec, params, X, self._buffers(), output_activation=False)

    def outputs(self, spec: NetSpec, params: Params, X: np.ndarray) -> np.ndarray:
        """The network's outputs (n, n_out) for X (n, n_in), as a new array."""
        params = self._cast(params)
        out = np.empty((X.shape[0], params.weights[-1].shape[1]), dtype=self.dtype)
        for start in range(0, X.shape[0], self.chunk_size):
            stop = start + self.chunk_size
            Z = self._logits(spec, params, X[start:stop])
            ACTIVATIONS[spec.output](Z)
            out[start:stop] = Z
        return out

    def layers(self, spec: NetSpec, params: Params, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations after the input for X (n, n_in): [hidden_1, ..., outputs], new arrays."""
        params = self._cast(params)
        X = X if X.dtype == self.dtype else X.astype(self.dtype)
        acts = [X] + [np.empty((X.shape[0], s), self.dtype) for s in self.layer_sizes[1:]]
        forward(spec, params, X, acts)
        return acts[1:]

    def predict_index(self, spec: NetSpec, params: Params, X: np.ndarray) -> np.ndarray:
        """The winning class index per row, (n,) int64; with one logistic unit, 1 where its logit > 0."""
        params = self._cast(params)
        out = np.empty(X.shape[0], dtype=np.int64)
        for start in range(0, X.shape[0], self.chunk_size):
            stop = start + self.chunk_size
            Z = self._logits(spec, params, X[start:stop])
            out[start:stop] = Z.argmax(axis=1) if Z.shape[1] > 1 else Z[:, 0] > 0
        return out

    def accuracy(self, spec: NetSpec, params: Params, X: np.ndarray, y_index: np.ndarray) -> float:
        """Share of rows of X whose winning unit equals y_index (n,)."""
        if X.shape[0] == 0:
            return float("nan")
        return float(np.count_nonzero(self.predict_index(spec, params, X) == y_index) / X.shape[0])
