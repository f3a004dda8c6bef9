"""Reading a run's per-epoch metrics (metrics.csv) into columns, tolerating a run cut off mid-write.

The columns follow the run-directory contract (those that apply to a model are present)::

    epoch, loss, accuracy, val_loss, val_accuracy, train_accuracy, test_accuracy,
    learning_rate, epoch_seconds, ... (extra columns are kept)
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

Metrics = dict[str, np.ndarray]
"""Column name -> float64 array of shape (n_epochs,); NaN where a row has no number."""


def _to_float(text: str | None) -> float:
    try:
        value = float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan
    return value


def read_metrics(path: str | os.PathLike) -> Metrics:
    """Read metrics.csv into one float array per column, each of shape (n_epochs,).

    A missing file gives an empty dict. A row cut short (a run killed while appending) or
    with fewer fields than the header gets NaN in the missing places, never an exception.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.csv"
    >>> _ = p.write_text("epoch,loss\\n1,0.5\\n2,0.25\\n")
    >>> read_metrics(p)["loss"].tolist()
    [0.5, 0.25]
    """
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open(newline="", errors="replace") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    header, body = rows[0], [row for row in rows[1:] if any(cell.strip() for cell in row)]
    columns: Metrics = {}
    for i, name in enumerate(header):
        if not name:
            continue
        columns[name] = np.array([_to_float(row[i]) if i < len(row) else math.nan for row in body],
                                 dtype=np.float64)
    return columns


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


def last_row_cut_off(path: str | os.PathLike) -> bool:
    """Whether metrics.csv ends without a line break: the writer stopped in the middle of a row."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fh.seek(max(0, size - 1))
            return size > 0 and fh.read(1) != b"\n"
    except OSError:
        return False
