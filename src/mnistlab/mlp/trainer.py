"""The epoch loop: shuffled mini-batches gathered into reused buffers, history, early stopping.

`Trainer` owns the mutable state of one training (params, optimizer, workspace, random
generator, history); the maths it calls live in `network` and `optimizers`. The estimator
wraps it; the CLI drives it through the estimator with progress callbacks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnistlab.errors import TrainingDiverged
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.history import History
from mnistlab.mlp.losses import EPS, loss_value
from mnistlab.mlp.network import (Evaluator, NetSpec, Params, Workspace, add_regularisation, backward, forward,
                                   regularisation_cost)
from mnistlab.mlp.optimizers import decayed_learning_rate, make_optimizer

BatchCallback = Callable[[int, int], None]

BLOCK_ROWS = 2048
"""Batches larger than this are processed in blocks of this many rows, their gradients summed:
a gathered block stays in cache from the forward product to the weight gradient, which makes
large batches about 20% faster (benchmarks/README.md). Smaller batches run in one pass."""
EpochCallback = Callable[[dict], "bool | None"]
"""Called with each epoch's metrics row; returning True stops training after that epoch."""


@dataclass
class EvalData:
    """A labelled set to score during training: X (n, features) float, y_index (n,) class indices."""

    X: np.ndarray
    y_index: np.ndarray


def one_hot(y_index: np.ndarray, n_classes: int, dtype: np.dtype = np.float32) -> np.ndarray:
    """One-hot rows (n, n_classes) for class indices (n,)."""
    Y = np.zeros((y_index.shape[0], n_classes), dtype=dtype)
    Y[np.arange(y_index.shape[0]), y_index] = 1
    return Y


def batch_metrics(loss: str, A: np.ndarray, Y: np.ndarray, y_index: np.ndarray,
                  scratch: np.ndarray) -> tuple[float, float, int]:
    """(summed loss, mean |A - Y|, number correct) of outputs A against one-hot Y (m, classes).

    Cheaper than `losses.loss_value` because Y is one-hot: with D = |A - Y|, the logloss
    terms y log a + (1 - y) log(1 - a) are log(1 - D), and D is the error the seed reports.
    `scratch` (m, classes) is overwritten; nothing is allocated but a few scalars.
    """
    eps = EPS.get(A.dtype, 1e-7)
    D = np.subtract(A, Y, out=scratch)
    np.abs(D, out=D)
    error = float(D.mean())
    if loss == "mse":
        flat = D.ravel()
        cost = 0.5 * float(np.dot(flat, flat))
    elif loss == "logloss":
        np.subtract(D.dtype.type(1), D, out=D)
        np.maximum(D, D.dtype.type(eps), out=D)
        np.log(D, out=D)
        cost = -float(D.sum())
    else:
        picked = A[np.arange(A.shape[0]), y_index]
        cost = -float(np.log(np.maximum(picked, picked.dtype.type(eps))).sum())
    correct = int(np.count_nonzero(A.argmax(axis=1) == y_index))
    return cost, error, correct


class Trainer:
    """Mini-batch training of `params` under config `cfg`."""

    def __init__(self, cfg: MLPConfig, spec: NetSpec, params: Params, rng: np.random.Generator) -> None:
        self.cfg, self.spec, self.params, self.rng = cfg, spec, params, rng
        self.optimizer = make_optimizer(cfg.solver, cfg.learning_rate, momentum=cfg.momentum,
                                        momentum_type=cfg.momentum_type, rho=cfg.rho, beta_1=cfg.beta_1,
                                        beta_2=cfg.beta_2, epsilon=cfg.epsilon)
        dtype = params.weights[0].dtype
        self.workspace: Workspace | None = None
        self.predictor = Evaluator(params.layer_sizes, chunk_size=4096, dtype=np.float64)
        self.evaluator = Evaluator(params.layer_sizes, dtype=dtype)
        self.history = History(len(params.weights))
        self.epochs_done = 0

    def __getstate__(self) -> dict:
        # The workspace is scratch and is rebuilt on demand; never pickle it.
        return {**self.__dict__, "workspace": None}

    def _workspace(self, n: int) -> Workspace:
        size = min(self.cfg.batch_size, n, BLOCK_ROWS)
        if self.workspace is None or self.workspace.batch_size < size:
            self.workspace = Workspace(self.params.layer_sizes, size, self.params.weights[0].dtype)
            self._grad_sum = np.empty_like(self.workspace.flat_grads)
        return self.workspace

    def _rows(self, X: np.ndarray, Y: np.ndarray, y_index: np.ndarray, order: np.ndarray | None,
              start: int, stop: int, ws: Workspace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows start:stop of the epoch's order: views without shuffling, else gathered into ws's buffers."""
        if order is None:
            return X[start:stop], Y[start:stop], y_index[start:stop]
        idx, m = order[start:stop], stop - start  # the dataset itself is never copied
        Xb = np.take(X, idx, axis=0, out=ws.acts[0][:m], mode="clip")
        Yb = np.take(Y, idx, axis=0, out=ws.targets[:m], mode="clip")
        return Xb, Yb, y_index[idx]

    def _batch_step(self, X: np.ndarray, Y: np.ndarray, y_index: np.ndarray, order: np.ndarray | None,
                    start: int, stop: int, ws: Workspace) -> tuple[float, float, int]:
        """Gradient of rows start:stop, block by block, into ws.grads; returns (data cost, error sum, correct)."""
        cfg, spec, params = self.cfg, self.spec, self.params
        m, block = stop - start, ws.batch_size
        scale = 1.0 / m if cfg.loss_reduction == "mean" else 1.0
        data_cost = error_sum = 0.0
        correct = 0
        for first in range(start, stop, block):
            last = min(first + block, stop)
            Xb, Yb, yb = self._rows(X, Y, y_index, order, first, last, ws)
            outputs = forward(spec, params, Xb, ws.acts)
            cost, error, n_correct = batch_metrics(spec.loss, outputs, Yb, yb, ws.tmp[-1][:last - first])
            data_cost, error_sum, correct = data_cost + cost, error_sum + error * (last - first), correct + n_correct
            backward(spec, params, Xb, Yb, ws, scale=scale)
            if m > block:  # sum the blocks' gradients; ws.grads holds only the last block's
                if first == start:
                    np.copyto(self._grad_sum, ws.flat_grads)
                else:
                    self._grad_sum += ws.flat_grads
        if m > block:
            np.copyto(ws.flat_grads, self._grad_sum)
        add_regularisation(params, ws, scale * cfg.l2, scale * cfg.l1)
        return data_cost, error_sum, correct

    def run_epoch(self, X: np.ndarray, Y: np.ndarray, y_index: np.ndarray,
                  on_batch_end: BatchCallback | None = None) -> dict[str, float]:
        """One pass over X (n, features) with one-hot Y (n, classes); returns the batch-averaged metrics."""
        cfg, params = self.cfg, self.params
        n = X.shape[0]
        ws = self._workspace(n)
        B = min(cfg.batch_size, n)
        n_batches = math.ceil(n / B)
        order = self.rng.permutation(n) if cfg.shuffle else None
        self.optimizer.learning_rate = decayed_learning_rate(cfg.learning_rate, cfg.decrease_const, self.epochs_done)
        flat_params = [params.flat()]  # the optimizer updates one buffer, not one array per layer
        total_cost = total_reg_share = total_error = 0.0
        correct = 0
        for k in range(n_batches):
            start, stop = k * B, min((k + 1) * B, n)
            scale = 1.0 / (stop - start) if cfg.loss_reduction == "mean" else 1.0
            reg_cost = regularisation_cost(params, cfg.l2, cfg.l1)
            data_cost, error_sum, n_correct = self._batch_step(X, Y, y_index, order, start, stop, ws)
            total_cost += scale * (data_cost + reg_cost)
            total_reg_share += (reg_cost / (data_cost + reg_cost)) if reg_cost else 0.0
            correct += n_correct
            total_error += error_sum / (stop - start)
            self.optimizer.update(flat_params, [ws.flat_grads])
            if on_batch_end is not None:
                on_batch_end(k + 1, n_batches)
        return {"loss": total_cost / n_batches, "accuracy": correct / n, "error": total_error / n_batches,
                "reg_share": total_reg_share / n_batches, "learning_rate": self.optimizer.learning_rate}

    def fit(self, X: np.ndarray, y_index: np.ndarray, epochs: int, *, validation: EvalData | None = None,
            test: EvalData | None = None, on_batch_end: BatchCallback | None = None,
            on_epoch_end: EpochCallback | None = None) -> None:
        """Train for up to `epochs` epochs (early stopping on `validation` if configured)."""
        cfg = self.cfg
        Y = one_hot(y_index, self.params.weights[-1].shape[1], X.dtype)
        best_score, best_params, waited = -math.inf, None, 0
        for _ in range(epochs):
            snapshot = self.params.copy()
            t0 = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked below, once
                row = self.run_epoch(X, Y, y_index, on_batch_end)
            t1 = time.perf_counter()
            epoch = self.epochs_done + 1
            if not (math.isfinite(row["loss"]) and all(np.isfinite(a).all() for a in self.params.weights)):
                self.params.assign(snapshot)
                raise TrainingDiverged(
                    f"the loss became {row['loss']} in epoch {epoch}; lower the learning rate "
                    f"(now {cfg.learning_rate:g}) or the regularisation, or standardise the inputs")
            row["epoch"] = epoch
            row["epoch_seconds"] = t1 - t0
            if cfg.eval_train_every and epoch % cfg.eval_train_every == 0:
                row["train_accuracy"] = self.evaluator.accuracy(self.spec, self.params, X, y_index)
            if test is not None and cfg.eval_test_every and epoch % cfg.eval_test_every == 0:
                row["test_accuracy"] = self.evaluator.accuracy(self.spec, self.params, test.X, test.y_index)
            if validation is not None:
                outputs = self.evaluator.outputs(self.spec, self.params, validation.X)
                Yv = one_hot(validation.y_index, outputs.shape[1], outputs.dtype)
                row["val_loss"] = loss_value(self.spec.loss, outputs, Yv) / max(len(Yv), 1)
                row["val_accuracy"] = float(np.mean(outputs.argmax(axis=1) == validation.y_index))
            for l, W in enumerate(self.params.weights):
                row[f"mean_abs_weight_{l}"] = float(np.abs(W).mean())
            row["eval_seconds"] = time.perf_counter() - t1
            self.history.append(row)
            self.epochs_done = epoch
            if on_epoch_end is not None and on_epoch_end(dict(row)):
                break  # the caller asked to stop after this epoch
            if validation is not None and cfg.early_stopping:
                if row["val_accuracy"] > best_score + cfg.min_delta:
                    best_score, best_params, waited = row["val_accuracy"], self.params.copy(), 0
                else:
                    waited += 1
                    if waited >= cfg.patience:
                        break
        if best_params is not None:
            self.params.assign(best_params)
