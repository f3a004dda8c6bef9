"""When to stop: scikit-learn's rule on the training loss, or on a validation score.

After every epoch, without early stopping: the epoch does not count as an improvement unless
its loss is below the best loss so far minus `tol`. With early stopping the same holds for
the validation accuracy (above the best plus `tol`), and the best weights are kept. Training
stops once more than `n_iter_no_change` epochs in a row brought no improvement
(`n_iter_no_change=None`: never, a fixed epoch budget as in the seed; `np.inf`: never either,
but scikit-learn's ConvergenceWarning still comes when the budget runs out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Stopping:
    """The counters of the stopping rule; `update` after every epoch."""

    tol: float = 1e-4
    n_iter_no_change: float | None = 10
    early_stopping: bool = False
    best_loss: float = math.inf
    best_score: float = -math.inf
    no_improvement: int = 0
    validation_scores: list[float] = field(default_factory=list)

    def update(self, loss: float, val_score: float | None = None) -> bool:
        """Count one epoch; True when `val_score` is a new best (the caller keeps those weights)."""
        if self.early_stopping and val_score is not None:
            self.validation_scores.append(val_score)
            self.no_improvement = self.no_improvement + 1 if val_score < self.best_score + self.tol else 0
            if val_score > self.best_score:
                self.best_score = val_score
                return True
            return False
        self.no_improvement = self.no_improvement + 1 if loss > self.best_loss - self.tol else 0
        self.best_loss = min(self.best_loss, loss)
        return False

    @property
    def exhausted(self) -> bool:
        """True when more than n_iter_no_change epochs in a row brought no improvement."""
        return self.n_iter_no_change is not None and self.no_improvement > self.n_iter_no_change

    @property
    def checks_convergence(self) -> bool:
        """False for a fixed epoch budget (n_iter_no_change=None): no rule, no warning."""
        return self.n_iter_no_change is not None

    def state_dict(self) -> dict:
        """The counters as plain values, for checkpoints."""
        return {"best_loss": self.best_loss, "best_score": self.best_score, "no_improvement": self.no_improvement,
                "validation_scores": list(self.validation_scores)}

    def load_state_dict(self, state: dict) -> None:
        """Restore counters saved by `state_dict`."""
        self.best_loss, self.best_score = float(state["best_loss"]), float(state["best_score"])
        self.no_improvement = int(state["no_improvement"])
        self.validation_scores = [float(v) for v in state["validation_scores"]]
