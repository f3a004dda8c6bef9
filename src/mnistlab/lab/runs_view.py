"""What the lab shows of runs: table rows, one run's details, several runs compared, and a change stamp.

Everything is read from the run files through `mnistlab.runs.catalog`, leniently: a run still
training (or cut off) shows what it has logged so far. `runs_stamp` is a cheap fingerprint of a
runs directory (names and file times) that the event stream polls to notice new epochs and runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.runs.catalog import MODEL_FILES, RunRecord, list_runs, load_run
from mnistlab.runs.diverged import recorded_divergence
from mnistlab.runs.kinds import KINDS
from mnistlab.runs.kinds.base import flatten
from mnistlab.runs.metrics import epochs_axis, last_value
from mnistlab.runs.rundir import RUN_FILES

WATCHED_FILES = RUN_FILES


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def planned_epochs(record: RunRecord) -> int | None:
    """The epochs the run is to train in all (the run's own record of it), or None."""
    return record.planned_epochs


def run_row(record: RunRecord) -> dict[str, Any]:
    """One line of the runs table: the `mnistlab runs` row (label included) plus kind, planned epochs, model presence."""
    row = {k: _finite(v) for k, v in record.row().items() if k != "path"}
    if row["test_accuracy"] is None:
        row["test_accuracy"] = _finite(record.get("val_accuracy"))
    row.update(kind=record.kind, planned_epochs=planned_epochs(record),
               has_model=any((record.path / f).is_file() for f in MODEL_FILES))
    if row["status"] not in ("diverged", "failed") and (found := recorded_divergence(record)) is not None:
        row.update(status="diverged", status_reason=f"diverged in epoch {found[0]}: {found[1]}")
    return row


SKIPPED_SUMMARY = ("model_path", "run_dir", "error")


def options(record: RunRecord) -> dict[str, Any]:
    """The run's config as one level of keys that line up across kinds (the kind's own flat_config)."""
    kind = KINDS.get(record.kind)
    return kind.flat_config(record.config) if kind is not None else flatten(record.config or {})


def final_metrics(record: RunRecord) -> dict[str, Any]:
    """The run's last value of every metrics column, overridden by summary.json's scalars."""
    final: dict[str, Any] = {}
    for name in record.metrics:
        value = last_value(record.metrics, name)
        if name != "epoch" and value is not None:
            final[name] = value
    for key, value in (record.summary or {}).items():
        if key not in SKIPPED_SUMMARY and isinstance(value, (int, float, str, bool)) and value is not None:
            final[key] = _finite(value)
    return final


def index_row(record: RunRecord) -> dict[str, Any]:
    """The table row plus the run's `options` (flat config) and `metrics` (final values): what queries read."""
    return {**run_row(record), "options": options(record), "metrics": final_metrics(record)}


def runs_table(runs_dir: Path) -> list[dict[str, Any]]:
    """Every run under `runs_dir` as table rows, oldest first; an absent directory gives no rows."""
    if not runs_dir.is_dir():
        return []
    return [run_row(record) for record in list_runs(runs_dir)]


def curves(record: RunRecord) -> dict[str, list[float | None]]:
    """The run's per-epoch columns as JSON lists (NaN -> null), with an "epoch" axis."""
    metrics = record.metrics
    result = {"epoch": [float(x) for x in epochs_axis(metrics)]} if metrics else {"epoch": []}
    for name, values in metrics.items():
        if name != "epoch":
            result[name] = [float(v) if np.isfinite(v) else None for v in values]
    return result


def run_details(run_dir: Path) -> dict[str, Any]:
    """Everything the run page shows: row, info, config, summary, curves, figures, files, problems."""
    record = load_run(run_dir)
    files = sorted(p.name for p in run_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return {"row": run_row(record), "info": record.info, "config": record.config, "summary": record.summary,
            "environment": record.environment, "curves": curves(record),
            "figures": [p.name for p in record.figures], "files": files, "problems": record.problems}


def compare(run_dirs: list[Path]) -> dict[str, Any]:
    """Several runs side by side: each run's curves, and the config keys with their value per run."""
    records = [load_run(path) for path in run_dirs]
    configs = [{"model": r.kind, **options(r)} for r in records]
    keys = sorted(set().union(*configs))
    rows = [{"key": key, "values": [c.get(key) for c in configs],
             "differs": len({repr(c.get(key)) for c in configs}) > 1} for key in keys]
    return {"runs": [{"name": r.name, "row": run_row(r), "curves": curves(r)} for r in records],
            "config": rows}


def runs_stamp(runs_dir: Path) -> tuple:
    """A fingerprint of `runs_dir` that changes when a run appears, logs an epoch or finishes."""
    if not runs_dir.is_dir():
        return ()
    stamp = []
    for child in sorted(runs_dir.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        for name in WATCHED_FILES:
            try:
                info = (child / name).stat()
                stamp.append((child.name, name, info.st_mtime_ns, info.st_size))
            except OSError:
                continue
    return tuple(stamp)
