"""The "lbfgs" solver: SciPy's L-BFGS-B over the MLP's flat parameter buffer, full batch.

Each function evaluation is one forward and backward pass over the whole training set (in
cache-sized blocks, like a large mini-batch); the loss and gradient are those of mean (or
summed) cost plus the penalties. One history row per L-BFGS iteration; `epochs` bounds the
iterations, `max_fun` the evaluations, `tol` is the projected-gradient tolerance, as in
scikit-learn. There is no partial_fit: each call optimises to the end.
"""

from __future__ import annotations

import time

import numpy as np

from mnistlab.mlp.network import regularisation_cost
from mnistlab.mlp.trainer import EpochCallback, Trainer, TrainData


def fit_lbfgs(trainer: Trainer, data: TrainData, *, on_epoch_end: EpochCallback | None = None) -> str:
    """Minimise the training cost of `trainer.params` in place; returns "converged", "stopped" or "budget"."""
    import scipy.optimize  # SciPy's optimiser loads only for this solver

    cfg, params = trainer.cfg, trainer.params
    flat = params.flat()
    ws = trainer._workspace(data.n, not isinstance(data.X, np.ndarray))
    seen = {"cost": np.nan, "evaluations": 0, "t0": time.perf_counter()}

    def cost_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        flat[...] = x
        reg_cost = regularisation_cost(params, cfg.l2, cfg.l1)
        with np.errstate(over="ignore", invalid="ignore"):
            data_cost, _, correct, scale = trainer._batch_step(data, None, 0, data.n, ws)
        seen.update(cost=scale * (data_cost + reg_cost), accuracy=correct / data.n,
                    evaluations=seen["evaluations"] + 1)
        return seen["cost"], ws.flat_grads.astype(np.float64)

    class Stop(Exception):
        """Raised by the callback to end the optimisation early."""

    def iteration_done(x: np.ndarray) -> None:
        snapshot = params.copy()
        flat[...] = x
        row = {"loss": seen["cost"], "accuracy": seen["accuracy"], "learning_rate": np.nan,
               "epoch_seconds": time.perf_counter() - seen["t0"]}
        trainer.check_finite(row["loss"], snapshot)
        trainer.samples_seen += data.n
        trainer.end_epoch(row, data, None, None)
        seen["t0"] = time.perf_counter()
        if on_epoch_end is not None and on_epoch_end(dict(row)):
            raise Stop

    x0 = flat.astype(np.float64)
    try:
        result = scipy.optimize.minimize(cost_and_gradient, x0, method="L-BFGS-B", jac=True,
                                         callback=iteration_done,
                                         options={"maxiter": cfg.epochs, "maxfun": cfg.max_fun, "gtol": cfg.tol})
    except Stop:
        return "stopped"
    flat[...] = result.x
    return "converged" if result.success else "budget"
