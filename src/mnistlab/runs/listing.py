"""The text of `mnistlab runs`: the sweeps under a runs directory, then one table row per run.

`run_rows` is what `--json` prints (`RunRecord.row()` of each run, oldest first); `runs_lines`
the table a person reads. Both read through `runs.catalog` and `runs.sweeps`.
"""

from __future__ import annotations

import os
from typing import Any

from mnistlab.runs.catalog import list_runs
from mnistlab.runs.sweeps import list_sweeps

COLUMNS = ("name", "label", "model", "dataset", "epochs", "test_acc", "seconds", "status")
"""The folder's name (unique), then the user's label (`--name`, as typed), then what the run did."""
RIGHT_ALIGNED = {"epochs", "test_acc", "seconds"}


def run_rows(runs_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """One JSON-ready row per run under `runs_dir`, oldest first (RunDirError when there is no such folder)."""
    return [record.row() for record in list_runs(runs_dir)]


def _cells(row: dict[str, Any]) -> list[str]:
    accuracy, seconds = row["test_accuracy"], row["train_seconds"]
    name, label = ("".join(c if c.isprintable() else "?" for c in row[k] or "") for k in ("name", "label"))
    return [name, label, str(row["model"] or "?"), str(row["dataset"] or "?"),
            str(row["epochs"] if row["epochs"] is not None else "?"),
            f"{accuracy:.4f}" if accuracy is not None else "-",
            f"{seconds:.1f}" if seconds is not None else "-", row["status"]]


def sweep_lines(runs_dir: str | os.PathLike) -> list[str]:
    """One line per sweep directory under `runs_dir` (its trials are runs one level down)."""
    return [f"sweep {sweep.path.name} ({sweep.status}; "
            f"{', '.join(f'{n} {s}' for s, n in sorted(sweep.counts.items())) or 'no trials'}): "
            f"mnistlab runs --runs-dir {sweep.path}" for sweep in list_sweeps(runs_dir)]


def runs_lines(runs_dir: str | os.PathLike) -> list[str]:
    """The sweeps, then the runs as an aligned table (or how to train a first one)."""
    rows = run_rows(runs_dir)
    lines = sweep_lines(runs_dir)
    if not rows:
        return [*lines, f"no runs in {runs_dir}; train one with `mnistlab mlp train` or `mnistlab cnn train`"]
    table = [list(COLUMNS)] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return lines + ["  ".join(cell.rjust(w) if COLUMNS[i] in RIGHT_ALIGNED else cell.ljust(w)
                              for i, (cell, w) in enumerate(zip(line, widths))).rstrip() for line in table]
