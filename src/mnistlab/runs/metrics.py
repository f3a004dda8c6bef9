"""A run's per-epoch metrics as typed rows and as columns; pure functions over the file's text.

`mnistlab.runs.rundir.RunDir` owns the file (it appends the rows and reads them back); this module
only says what a row holds and how text becomes rows or columns, tolerating a run cut off mid-write.
The columns follow the run-directory contract (those that apply to a model are present)::

    epoch, loss, accuracy, val_loss, val_accuracy, train_accuracy, test_accuracy,
    learning_rate, epoch_seconds, ... (extra columns are kept)
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Metrics = dict[str, np.ndarray]
"""Column name -> float64 array of shape (n_epochs,); NaN where a row has no number."""

METRIC_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "train_accuracy", "test_accuracy",
                  "learning_rate", "epoch_seconds")
"""The first columns of the metrics file, in this order; a model's further columns follow."""


def _to_float(text: Any) -> float:
    if text is None or text == "":
        return math.nan
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class EpochRow:
    """One epoch's logged metrics: the epoch number and every numeric column (empty cells left out).

    >>> row = EpochRow.from_cells({"epoch": "2", "loss": "0.25", "test_accuracy": ""})
    >>> row.epoch, row.get("loss"), row.get("test_accuracy")
    (2, 0.25, None)
    """

    epoch: int
    values: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, cells: Mapping[str, Any]) -> EpochRow | None:
        """The row of one CSV record; None when it has no usable epoch number (a line cut short)."""
        epoch = _to_float(cells.get("epoch"))
        if not math.isfinite(epoch):
            return None
        values = {k: v for k, v in ((k, _to_float(c)) for k, c in cells.items() if k and k != "epoch")
                  if not math.isnan(v)}
        return cls(int(epoch), values)

    def get(self, name: str) -> float | None:
        """The value of column `name`, or None when this epoch did not log it."""
        return self.values.get(name)

    def numbers(self) -> dict[str, float]:
        """Every logged value with the epoch first (the epoch as an int), e.g. for history.json."""
        return {"epoch": self.epoch, **self.values}


def ordered_cells(row: Mapping[str, Any]) -> dict[str, Any]:
    """A history row in the file's column order; NaN (not measured) becomes an empty cell."""
    ordered = {c: row.get(c, math.nan) for c in METRIC_COLUMNS}
    ordered.update({k: v for k, v in row.items() if k not in ordered})
    return {k: ("" if isinstance(v, float) and math.isnan(v) else (int(v) if k == "epoch" else v))
            for k, v in ordered.items()}


def parse_rows(text: str) -> list[EpochRow]:
    """The typed rows of a metrics file's text (rows without an epoch number are skipped)."""
    rows = (EpochRow.from_cells(cells) for cells in csv.DictReader(io.StringIO(text)))
    return [row for row in rows if row is not None]


def parse_columns(text: str) -> Metrics:
    """A metrics file's text as one float array per column, each of shape (n_epochs,).

    A row cut short (a run killed while appending) or with fewer fields than the header gets NaN
    in the missing places, never an exception.

    >>> parse_columns("epoch,loss\\n1,0.5\\n2,0.25\\n")["loss"].tolist()
    [0.5, 0.25]
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return {}
    header, body = rows[0], [row for row in rows[1:] if any(cell.strip() for cell in row)]
    columns: Metrics = {}
    for i, name in enumerate(header):
        if name:
            columns[name] = np.array([_to_float(row[i]) if i < len(row) else math.nan for row in body],
                                     dtype=np.float64)
    return columns


def read_metrics(path: str | os.PathLike) -> Metrics:
    """The columns of a metrics CSV file at `path` (see `parse_columns`); {} when it does not exist.

    For a run, prefer `RunDir(path).metrics()`: this is for a CSV of the same format kept elsewhere.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    return parse_columns(path.read_text(errors="replace"))


def epochs_axis(metrics: Metrics) -> np.ndarray:
    """The x values for per-epoch curves, shape (n_epochs,): the `epoch` column, else 1..n."""
    n = max((len(v) for v in metrics.values()), default=0)
    epochs = metrics.get("epoch")
    if epochs is not None and len(epochs) == n and np.all(np.isfinite(epochs)):
        return epochs
    return np.arange(1, n + 1, dtype=np.float64)


def last_value(metrics: Metrics, name: str) -> float | None:
    """The last finite value of column `name`, or None when there is none."""
    values = metrics.get(name)
    if values is None:
        return None
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None
