"""The epoch loop: shuffled mini-batches gathered into reused buffers, history, stopping rules.

`Trainer` owns the mutable state of one training (params, optimizer, workspace, random
generator, history, stopping counters) and can hand all of it out as plain arrays and
scalars (`state_dict`) and take it back, so a training continues bit for bit. The maths it
calls live in `network` and `optimizers`. The estimator wraps it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnistlab.data.augment import flip_images, shift_images
from mnistlab.divergence import NONFINITE_WEIGHTS, divergence_reason, diverged_message
from mnistlab.errors import TrainingDiverged
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.dropout import Dropout
from mnistlab.mlp.history import History
from mnistlab.mlp.losses import loss_value
from mnistlab.mlp.metrics import batch_metrics
from mnistlab.mlp.network import (Evaluator, NetSpec, Params, Workspace, add_regularisation, backward, forward,
                                   regularisation_cost)
from mnistlab.mlp.optimizers import batch_learning_rate, make_optimizer, scheduled_learning_rate
from mnistlab.mlp.stopping import Stopping

BatchCallback = Callable[[int, int], None]
EpochCallback = Callable[[dict], Any]
"""Called with a copy of each epoch's history row; returning True stops training after it."""

BLOCK_ROWS = 2048
"""Batches larger than this are processed in blocks of this many rows, their gradients summed:
a gathered block stays in cache from the forward product to the weight gradient, which makes
large batches about 20% faster (benchmarks/README.md). Smaller batches run in one pass."""

USUAL_LEARNING_RATE = MLPConfig.learning_rate
"""The rate a diverged training's message suggests at most (the default, suited to Adam and RMSprop)."""

MIN_ADAPTIVE_RATE = 1e-6
"""The "adaptive" schedule stops dividing the rate by 5 below this (scikit-learn's bound)."""


@dataclass
class TrainData:
    """Rows the loop reads: X (n, features) dense or SciPy CSR; Y (n, outputs) float targets
    (one-hot, one logistic column for two classes, or a multilabel indicator); y_index (n,)
    class indices (None for multilabel); weights (n,) per-row loss weights, None on the plain path."""

    X: Any
    Y: np.ndarray
    y_index: np.ndarray | None
    weights: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of rows."""
        return self.X.shape[0]

    def take(self, idx: np.ndarray) -> TrainData:
        """The rows `idx` as a new TrainData (copies)."""
        return TrainData(self.X[idx], self.Y[idx], None if self.y_index is None else self.y_index[idx],
                         None if self.weights is None else self.weights[idx])


def smooth_targets(Y: np.ndarray, smoothing: float) -> np.ndarray:
    """Label smoothing: Y (1 - s) + s / K for targets Y (n, K); one logistic column counts as K = 2.

    With softmax and cross-entropy the output delta stays A - Y_smooth (the rows still sum to 1),
    so the backward pass is unchanged (tests/mlp/test_schedules.py checks it by finite differences).

    Examples
    --------
    >>> smooth_targets(np.array([[0.0, 1.0, 0.0, 0.0]]), 0.2)
    array([[0.05, 0.85, 0.05, 0.05]])
    """
    k = max(2, Y.shape[1])
    return (Y * (1.0 - smoothing) + smoothing / k).astype(Y.dtype, copy=False)


def batch_rows(batch_size: int | str, n: int) -> int:
    """Rows per mini-batch: "auto" is scikit-learn's min(200, n); larger sizes are clipped to n."""
    return min(200, n) if batch_size == "auto" else min(int(batch_size), n)


class Trainer:
    """Mini-batch training of `params` under config `cfg`."""

    def __init__(self, cfg: MLPConfig, spec: NetSpec, params: Params, rng: np.random.Generator) -> None:
        self.cfg, self.spec, self.params, self.rng = cfg, spec, params, rng
        self.optimizer = make_optimizer(cfg.solver, cfg.learning_rate, momentum=cfg.momentum,
                                        momentum_type=cfg.momentum_type, rho=cfg.rho, beta_1=cfg.beta_1,
                                        beta_2=cfg.beta_2, epsilon=cfg.epsilon)
        dtype = params.weights[0].dtype
        self.workspace: Workspace | None = None
        self.dropout: Dropout | None = None
        self.predictor = Evaluator(params.layer_sizes, chunk_size=4096, dtype=np.float64)
        self.evaluator = Evaluator(params.layer_sizes, dtype=dtype)
        self.history = History(len(params.weights))
        self.stopping = Stopping(cfg.tol, cfg.n_iter_no_change, cfg.early_stopping)
        self.epochs_done = 0
        self.samples_seen = 0
        self.best_params: Params | None = None
        self.adaptive_rate: float | None = None
        self.split_seed: int | None = None
        self.schedule_epochs: int | None = None

    def __getstate__(self) -> dict:
        # The workspace and dropout masks are scratch and are rebuilt on demand; never pickle them.
        return {**self.__dict__, "workspace": None, "dropout": None}

    def _workspace(self, n: int, sparse: bool) -> Workspace:
        size = min(batch_rows(self.cfg.batch_size, n), BLOCK_ROWS)
        ws = self.workspace
        if ws is None or ws.batch_size < size or (ws.acts[0].shape[0] == 0) != sparse:
            sizes, dtype = self.params.layer_sizes, self.params.weights[0].dtype
            self.workspace = Workspace(sizes, size, dtype, gather_inputs=not sparse)
            self._grad_sum = np.empty_like(self.workspace.flat_grads)
            if self.cfg.dropout:
                self.dropout = Dropout(self.cfg.dropout, sizes, size, dtype)
        return self.workspace

    def _rows(self, data: TrainData, order: np.ndarray | None, start: int, stop: int, ws: Workspace) -> TrainData:
        """Rows start:stop of the epoch's order: views without shuffling, else gathered into ws's buffers."""
        if order is None:
            rows = slice(start, stop)
            return TrainData(data.X[rows], data.Y[rows], None if data.y_index is None else data.y_index[rows],
                             None if data.weights is None else data.weights[rows])
        idx, m = order[start:stop], stop - start  # the dataset itself is never copied
        X = data.X[idx] if ws.acts[0].shape[0] == 0 else np.take(data.X, idx, axis=0, out=ws.acts[0][:m], mode="clip")
        Y = np.take(data.Y, idx, axis=0, out=ws.targets[:m], mode="clip")
        return TrainData(X, Y, None if data.y_index is None else data.y_index[idx],
                         None if data.weights is None else data.weights[idx])

    def _augmented(self, X: np.ndarray, ws: Workspace) -> np.ndarray:
        """The rows X as square images, moved by up to cfg.shift_pixels and, with cfg.flip, about half of them
        mirrored, in ws's input buffer."""
        m, side = X.shape[0], math.isqrt(X.shape[1])
        images = X.reshape(m, side, side)
        if self.cfg.shift_pixels:
            images = shift_images(images, self.cfg.shift_pixels, self.rng)
        if self.cfg.flip:
            images = flip_images(images, self.rng)
        out = ws.acts[0][:m]
        out[...] = images.reshape(m, -1)
        return out

    def _batch_step(self, data: TrainData, order: np.ndarray | None, start: int, stop: int,
                    ws: Workspace) -> tuple[float, float, int, float]:
        """Gradient of rows start:stop, block by block, into ws.grads.

        Returns (data cost, error sum, correct, scale): scale is what the summed cost and
        gradient were multiplied by (1 / rows, or 1 / their total weight, for mean reduction).
        """
        cfg, spec, params = self.cfg, self.spec, self.params
        m, block = stop - start, ws.batch_size
        if data.weights is None:
            total = float(m)
        else:
            total = float(data.weights[start:stop].sum() if order is None else data.weights[order[start:stop]].sum())
        scale = (1.0 / total if total > 0 else 0.0) if cfg.loss_reduction == "mean" else 1.0
        data_cost = error_sum = 0.0
        correct = 0
        for first in range(start, stop, block):
            last = min(first + block, stop)
            b = self._rows(data, order, first, last, ws)
            if cfg.shift_pixels or cfg.flip:
                b.X = self._augmented(b.X, ws)
            if self.dropout is not None:
                self.dropout.draw(self.rng, last - first)
            outputs = forward(spec, params, b.X, ws.acts, dropout=self.dropout)
            cost, error, n_correct = batch_metrics(spec.loss, outputs, b.Y, b.y_index, ws.tmp[-1][:last - first],
                                                   b.weights)
            data_cost, error_sum, correct = data_cost + cost, error_sum + error * (last - first), correct + n_correct
            backward(spec, params, b.X, b.Y, ws, scale=scale, row_weights=b.weights, dropout=self.dropout)
            if m > block:  # sum the blocks' gradients; ws.grads holds only the last block's
                if first == start:
                    np.copyto(self._grad_sum, ws.flat_grads)
                else:
                    self._grad_sum += ws.flat_grads
        if m > block:
            np.copyto(ws.flat_grads, self._grad_sum)
        add_regularisation(params, ws, scale * cfg.l2, scale * cfg.l1)
        return data_cost, error_sum, correct, scale

    def learning_rate(self) -> float:
        """The step size of the next epoch under the configured schedule."""
        cfg = self.cfg
        return scheduled_learning_rate(cfg.lr_schedule, cfg.learning_rate, epochs_done=self.epochs_done,
                                       samples_seen=self.samples_seen, decrease_const=cfg.decrease_const,
                                       power_t=cfg.power_t, adaptive_rate=self.adaptive_rate)

    def run_epoch(self, data: TrainData, on_batch_end: BatchCallback | None = None) -> dict[str, float]:
        """One pass over `data`; returns the batch-averaged metrics."""
        cfg, params, n = self.cfg, self.params, data.n
        ws = self._workspace(n, not isinstance(data.X, np.ndarray))
        B = batch_rows(cfg.batch_size, n)
        n_batches = math.ceil(n / B)
        order = self.rng.permutation(n) if cfg.shuffle else None
        self.optimizer.learning_rate = self.learning_rate()
        flat_params = [params.flat()]  # the optimizer updates one buffer, not one array per layer
        total_cost = total_reg_share = total_error = 0.0
        correct = 0
        for k in range(n_batches):
            start, stop = k * B, min((k + 1) * B, n)
            rate = batch_learning_rate(cfg.lr_schedule, cfg.learning_rate, self.epochs_done * n_batches + k,
                                       n_batches, self.schedule_epochs or cfg.epochs, cfg.warmup_epochs)
            if rate is not None:  # per-batch schedules and warm-up (bench tta's recipes)
                self.optimizer.learning_rate = rate
            reg_cost = regularisation_cost(params, cfg.l2, cfg.l1)
            data_cost, error_sum, n_correct, scale = self._batch_step(data, order, start, stop, ws)
            total_cost += scale * (data_cost + reg_cost)
            total_reg_share += (reg_cost / (data_cost + reg_cost)) if reg_cost else 0.0
            correct += n_correct
            total_error += error_sum / (stop - start)
            self.optimizer.update(flat_params, [ws.flat_grads])
            if on_batch_end is not None:
                on_batch_end(k + 1, n_batches)
        return {"loss": total_cost / n_batches, "accuracy": correct / n, "error": total_error / n_batches,
                "reg_share": total_reg_share / n_batches, "learning_rate": self.optimizer.learning_rate}

    def _divergence(self, row: dict[str, float], n: int) -> str | None:
        """The divergence rule (mnistlab.divergence) on this training's per-sample losses so far."""
        per_sample = 1.0 / batch_rows(self.cfg.batch_size, n) if self.cfg.loss_reduction == "sum" else 1.0
        losses = [*self.history.as_arrays()["loss"].tolist(), row["loss"]]
        finite = all(np.isfinite(W).all() for W in self.params.weights)
        return divergence_reason([v * per_sample for v in losses], row["accuracy"],
                                 n_classes=max(2, self.params.weights[-1].shape[1]), loss=self.spec.loss,
                                 weights_finite=finite,
                                 mean_abs_weights=[float(np.abs(W).mean()) for W in self.params.weights] if finite
                                 else ())

    def _diverged_message(self, reason: str, epoch: int) -> str:
        return diverged_message(epoch, reason, self.cfg.learning_rate, USUAL_LEARNING_RATE)

    def score(self, data: TrainData) -> float:
        """Accuracy on `data` (weighted by its row weights; multilabel: whole rows right)."""
        if data.n == 0:
            return float("nan")
        if data.y_index is None:
            right = np.all((self.evaluator.outputs(self.spec, self.params, data.X) > 0.5) == (data.Y > 0.5), axis=1)
        else:
            right = self.evaluator.predict_index(self.spec, self.params, data.X) == data.y_index
        return float(np.average(right, weights=data.weights))

    def check_finite(self, loss: float, snapshot: Params) -> None:
        """Raise TrainingDiverged (weights restored to `snapshot`) when the loss or a weight is not finite."""
        if not (math.isfinite(loss) and all(np.isfinite(a).all() for a in self.params.weights)):
            self.params.assign(snapshot)
            raise TrainingDiverged(self._diverged_message(f"the loss became {loss}", self.epochs_done + 1))

    def end_epoch(self, row: dict, data: TrainData, validation: TrainData | None, test: TrainData | None) -> None:
        """Evaluate, update the stopping counters and the adaptive rate, and record the row."""
        cfg, epoch = self.cfg, self.epochs_done + 1
        t1 = time.perf_counter()
        row["epoch"] = epoch
        if cfg.eval_train_every and epoch % cfg.eval_train_every == 0:
            row["train_accuracy"] = self.score(TrainData(data.X, data.Y, data.y_index))
        if test is not None and cfg.eval_test_every and epoch % cfg.eval_test_every == 0:
            row["test_accuracy"] = self.score(test)
        if validation is not None:
            outputs = self.evaluator.outputs(self.spec, self.params, validation.X)
            row["val_loss"] = loss_value(self.spec.loss, outputs, validation.Y) / max(validation.n, 1)
            row["val_accuracy"] = self.score(validation)
        if self.stopping.update(row["loss"], row.get("val_accuracy")):
            self.best_params = self.params.copy()
        if self.stopping.exhausted and cfg.lr_schedule == "adaptive" and row["learning_rate"] > MIN_ADAPTIVE_RATE:
            self.adaptive_rate = row["learning_rate"] / 5.0
            self.stopping.no_improvement = 0
        for l, W in enumerate(self.params.weights):
            row[f"mean_abs_weight_{l}"] = float(np.abs(W).mean())
        row["eval_seconds"] = time.perf_counter() - t1
        self.history.append(row)
        self.epochs_done = epoch

    def fit(self, data: TrainData, epochs: int, *, validation: TrainData | None = None,
            test: TrainData | None = None, on_batch_end: BatchCallback | None = None,
            on_epoch_end: EpochCallback | None = None, schedule_epochs: int | None = None) -> str:
        """Train up to `epochs` more epochs; returns why it ended: "converged", "stopped" or "budget".

        With label smoothing, the training targets are y (1 - s) + s / classes (a copy per call).

        "converged": the stopping rule fired; "stopped": `on_epoch_end` returned True;
        "budget": every epoch ran. With early stopping, the best weights are restored.
        A per-batch schedule spans `schedule_epochs` epochs in all (default: those done plus these).
        """
        outcome = "budget"
        # A per-batch schedule spans every epoch, those of an earlier fit (a resumed run) included.
        self.schedule_epochs = schedule_epochs or self.epochs_done + epochs
        if self.cfg.label_smoothing:
            data = TrainData(data.X, smooth_targets(data.Y, self.cfg.label_smoothing), data.y_index, data.weights)
        for _ in range(epochs):
            snapshot = self.params.copy()
            t0 = time.perf_counter()
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked below, once
                row = self.run_epoch(data, on_batch_end)
            row["epoch_seconds"] = time.perf_counter() - t0
            reason = self._divergence(row, data.n)
            if reason is not None and (not math.isfinite(row["loss"]) or reason == NONFINITE_WEIGHTS):
                self.params.assign(snapshot)  # keep the last finite weights; NaN rows are not recorded
                raise TrainingDiverged(self._diverged_message(reason, self.epochs_done + 1))
            self.samples_seen += data.n
            self.end_epoch(row, data, validation, test)
            if self.stopping.exhausted:
                outcome = "converged"
            if on_epoch_end is not None and on_epoch_end(dict(row)):
                outcome = "stopped"
            if reason is not None:  # exploded or stuck at chance: the epoch is recorded, then training stops
                raise TrainingDiverged(self._diverged_message(reason, self.epochs_done))
            if outcome != "budget":
                break
        self.restore_best()
        return outcome

    def restore_best(self) -> None:
        """With early stopping, put back the weights of the best validation score."""
        if self.cfg.early_stopping and self.best_params is not None:
            self.params.assign(self.best_params)

    def state_dict(self) -> dict[str, Any]:
        """Everything training needs to continue bit for bit, as plain arrays and scalars (copies).

        Keys: params (flat float array), optimizer (buffers and step counter), rng (the
        generator's bit_generator.state dict), epochs_done, samples_seen, history (column ->
        array), stopping (counters), best_params (flat array or None), adaptive_rate, split_seed.
        """
        return {
            "params": self.params.flat().copy(),
            "optimizer": self.optimizer.state_dict(),
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "epochs_done": self.epochs_done,
            "samples_seen": self.samples_seen,
            "history": self.history.as_arrays(),
            "stopping": self.stopping.state_dict(),
            "best_params": None if self.best_params is None else self.best_params.flat().copy(),
            "adaptive_rate": self.adaptive_rate,
            "split_seed": self.split_seed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state_dict()` output: the params must have the same layer sizes."""
        flat = self.params.flat()
        if flat.shape != np.shape(state["params"]):
            raise ValueError(f"the saved state has {np.size(state['params'])} parameters, this net "
                             f"{flat.size}; restore it into a model with the same layer sizes")
        flat[...] = state["params"]
        self.optimizer.load_state_dict(state["optimizer"])
        bit_generator = getattr(np.random, state["rng"]["bit_generator"])()
        bit_generator.state = copy.deepcopy(state["rng"])
        self.rng = np.random.Generator(bit_generator)
        self.epochs_done, self.samples_seen = int(state["epochs_done"]), int(state["samples_seen"])
        self.history = History.from_arrays(state["history"])
        self.stopping.load_state_dict(state["stopping"])
        self.best_params = None
        if state["best_params"] is not None:
            self.best_params = self.params.copy()
            self.best_params.flat()[...] = state["best_params"]
        self.adaptive_rate = state["adaptive_rate"]
        self.split_seed = state["split_seed"]
