"""RunSummary: what a finished (or ended) run's summary.json holds, as one typed object.

The trainers (runs/training.py) write summary.json; a kind's `train` and `resume`, `rerun_run` and
the CLI's `--json` hand it on as a RunSummary, whose field names are summary.json's keys, so
`dataclasses.asdict(summary)` is the JSON a user sees. Fields one kind does not measure stay None
(the MLP has no backend, the CNN no eval_seconds); keys this mnistlab does not know (a newer
one's) are kept in `extra` and written back as they were.

>>> summary = RunSummary.from_dict({"model": "mlp", "dataset": "mnist", "epochs": 2, "run_dir": "runs/x"})
>>> summary.epochs, summary.test_accuracy, summary.backend
(2, None, None)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class RunSummary:
    """A run's summary.json. Shared by every kind: model .. run_dir; then the kinds' own measurements."""

    model: str
    dataset: str | None = None
    epochs: int = 0
    test_accuracy: float | None = None
    train_seconds: float = 0.0
    run_dir: str = ""
    model_path: str | None = None
    stopped: bool | None = None
    """True when the caller stopped the run (on_epoch returned True, or a sweep's scheduler)."""
    error: str | None = None
    """What ended a failed run."""
    wall_seconds: float | None = None
    eval_seconds: float | None = None
    train_accuracy: float | None = None
    batch_accuracy: float | None = None
    val_accuracy: float | None = None
    loss: float | None = None
    accuracy: float | None = None
    backend: str | None = None
    stopped_early: bool | None = None
    per_class_accuracy: dict[str, float | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys of summary.json this reader does not know, kept as they were."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunSummary:
        """The summary of a summary.json dict (or a trainer's return value); unknown keys go to `extra`."""
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in values.items() if k in known},
                   extra={k: v for k, v in values.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        """summary.json's keys: the fields set (None left out) and the `extra` keys."""
        values = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        return {**values, **self.extra}
