"""Per-epoch training history, as the seed prints it: plain arrays, writable to CSV and JSON.

Columns (one value per epoch; NaN where a quantity was not measured that epoch):
epoch, loss (batch-averaged cost incl. regularisation), accuracy (batch-averaged),
error (batch-averaged mean |Y - A|), reg_share (regularisation share of the cost),
train_accuracy, test_accuracy (every k epochs), val_loss, val_accuracy (early stopping),
learning_rate, epoch_seconds (training only), eval_seconds, mean_abs_weight_<l> per layer.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from mnistlab.fileio import write_text_atomic

BASE_COLUMNS = ("epoch", "loss", "accuracy", "error", "reg_share", "train_accuracy", "test_accuracy",
                "val_loss", "val_accuracy", "learning_rate", "epoch_seconds", "eval_seconds")


def _cell(column: str, value: float) -> str:
    if math.isnan(value):
        return ""
    return str(int(value)) if column == "epoch" else repr(value)


class History:
    """Rows appended once per epoch; read back as a dict of float arrays."""

    def __init__(self, n_weight_layers: int) -> None:
        self.columns = list(BASE_COLUMNS) + [f"mean_abs_weight_{l}" for l in range(n_weight_layers)]
        self._rows: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, row: dict[str, float]) -> None:
        """Add one epoch; missing columns become NaN, unknown ones are an error."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown history column(s): {sorted(unknown)}")
        self._rows.append({c: float(row.get(c, math.nan)) for c in self.columns})

    def rows(self) -> list[dict[str, float]]:
        """Copies of the rows, oldest first."""
        return [dict(r) for r in self._rows]

    def as_arrays(self) -> dict[str, np.ndarray]:
        """Column name -> float64 array (n_epochs,)."""
        return {c: np.array([r[c] for r in self._rows], dtype=np.float64) for c in self.columns}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> History:
        """Rebuild from `as_arrays()` output (e.g. a loaded model file)."""
        n_layers = sum(1 for c in arrays if c.startswith("mean_abs_weight_"))
        history = cls(n_layers)
        n = len(next(iter(arrays.values()))) if arrays else 0
        for i in range(n):
            history.append({c: arrays[c][i] for c in history.columns if c in arrays})
        return history

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """The history as CSV text (header + one line per epoch); also written to `path` if given."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self._rows:
            writer.writerow({k: _cell(k, v) for k, v in row.items()})
        text = buf.getvalue()
        if path is not None:
            write_text_atomic(path, text)
        return text

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The history as JSON {column: [values]} (NaN as null); also written to `path` if given."""
        data = {c: [None if math.isnan(v) else v for v in arr.tolist()] for c, arr in self.as_arrays().items()}
        text = json.dumps(data, indent=1)
        if path is not None:
            write_text_atomic(path, text)
        return text
