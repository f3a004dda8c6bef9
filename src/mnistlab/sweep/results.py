"""The sweep's record: one row per trial, kept in sweep.json and results.csv, and the run-dir statuses.

`SweepTable` is updated by the driver's Tune callback as trials start, report and end; every change
is written atomically, so a sweep killed at any moment leaves readable files that `--resume`
and `mnistlab report SWEEP_DIR` can use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mnistlab.errors import MnistlabError
from mnistlab.fileio import atomic_write, write_json_atomic
from mnistlab.runs.rundir import RunDir, RunStatus
from mnistlab.runs.sweeps import SWEEP_FILE, is_sweep_dir, read_sweep  # the reading side, one layer down

__all__ = ["ENDED_WELL", "SWEEP_FILE", "SweepTable", "close_run", "failed_trials", "is_sweep_dir", "read_sweep",
           "run_error"]
RESULTS_FILE = "results.csv"
FINISHED = ("completed", "stopped", "failed", "interrupted")
ENDED_WELL = ("completed", "stopped", "diverged")
"""Trial statuses that are results: trained to the end, stopped early by the scheduler (ASHA), or diverged
(the divergence rule judged the options; training them again would diverge again). Any other status at the
end of a sweep (failed, interrupted...) is a trial that `--resume` trains again."""


def _metrics_summary(run: RunDir) -> dict[str, Any]:
    """Epochs, train seconds and the last row's test accuracy, validation accuracy and loss of a run."""
    rows = run.epoch_rows()
    last = rows[-1] if rows else None
    return {"epochs": len(rows), "train_seconds": sum(row.get("epoch_seconds") or 0.0 for row in rows),
            **{k: last.get(k) if last else None for k in ("test_accuracy", "val_accuracy", "loss")}}


def close_run(run_dir: str | Path, status: str) -> str:
    """Give a run that Ray ended (still "running") its final `status`; return its status.

    A stopped run gets a summary.json from its logged epochs, with "stopped": true.
    """
    run = RunDir(Path(run_dir))
    try:
        info, config = run.info, run.read_config()
    except (OSError, ValueError, MnistlabError):
        return "unknown"
    current = info.get("status")
    if current != RunStatus.RUNNING:
        return str(current)
    summary = {"model": info.get("kind"), "dataset": config.get("dataset"), "run_dir": str(run.path),
               **_metrics_summary(run), "stopped": status == RunStatus.STOPPED}
    run.finish(summary, status=status)
    return status


def run_error(run_dir: str | Path) -> str | None:
    """The one-line error a failed run recorded in its run record (None when it has none or cannot be read)."""
    try:
        error = RunDir(Path(run_dir)).info.get("error")
    except (OSError, ValueError):
        return None
    return str(error) if error else None


def failed_trials(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trials that did not end well (`ENDED_WELL`), by trial id: trial, status, params, seed, error, run_dir.

    A sweep with any of these is not a success: the CLI lists them and exits non-zero.

    >>> failed_trials([{"trial": "b", "status": "failed", "error": "disk full"}, {"trial": "a", "status": "diverged"}])
    [{'trial': 'b', 'status': 'failed', 'params': {}, 'seed': None, 'error': 'disk full', 'run_dir': None}]
    """
    return [{"trial": row["trial"], "status": row.get("status"), "params": row.get("params", {}),
             "seed": row.get("seed"), "error": row.get("error"), "run_dir": row.get("run_dir")}
            for row in sorted(rows, key=lambda r: r["trial"]) if row.get("status") not in ENDED_WELL]


class SweepTable:
    """Rows of trials keyed by Tune's trial id, written to sweep.json and results.csv on every change."""

    def __init__(self, sweep_dir: Path, spec: dict[str, Any], rows: dict[str, dict] | None = None,
                 started: str | None = None) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.spec = spec
        self.rows: dict[str, dict[str, Any]] = rows or {}
        self.status = "running"
        self.started = started or dt.datetime.now().isoformat(timespec="seconds")
        self.seconds = 0.0

    @classmethod
    def load(cls, sweep_dir: Path) -> SweepTable:
        """The table of an earlier (interrupted) sweep, to resume it."""
        state = read_sweep(sweep_dir) or {}
        rows = {row["trial"]: row for row in state.get("trials", [])}
        table = cls(sweep_dir, state.get("spec", {}), rows, state.get("started"))
        table.seconds = float(state.get("seconds", 0.0))
        table.status = state.get("status", "unknown")
        return table

    @property
    def metric(self) -> str:
        """The metric the sweep optimises."""
        return self.spec["metric"]

    def update(self, trial: str, **values: Any) -> dict[str, Any]:
        """Merge `values` into the row of `trial` (created on first use) and return the row."""
        row = self.rows.setdefault(trial, {"trial": trial, "status": "pending", "epochs": 0, "final": None,
                                          "best": None, "seconds": 0.0})
        row.update(values)
        return row

    def record_epoch(self, trial: str, result: dict[str, Any]) -> dict[str, Any]:
        """Fold one reported epoch into the row: epochs, final and best metric, seconds, where it ran."""
        value = result.get(self.metric)
        # The run's own epoch: a trial that continued its checkpoint after a restart starts Tune's count again.
        epochs = result.get("epoch", result.get("training_iteration", 0))
        row = self.update(trial, status="running", epochs=int(epochs),
                          seconds=float(result.get("time_total_s", 0.0)),
                          **{k: result[k] for k in ("run_dir", "hostname", "pid", "node_id", "blas_threads")
                             if k in result})
        cpu = result.get("epoch_cpu_seconds")
        if cpu is not None and row["epochs"] >= 2:  # epoch 1 also pays for start-up; later epochs are steady
            steady = row.setdefault("cpu_epochs", [])
            steady.append((cpu, float(result.get("epoch_wall_seconds", 0.0))))
            row["cpu_seconds_per_epoch"] = statistics.fmean(c for c, _ in steady)
            row["wall_seconds_per_epoch"] = statistics.fmean(w for _, w in steady)
        if value is not None and math.isfinite(value):
            row["final"] = value
            better = max if self.spec["mode"] == "max" else min
            row["best"] = value if row["best"] is None else better(row["best"], value)
        return row

    def ranked(self) -> list[dict[str, Any]]:
        """Finished rows with a metric, best final metric first."""
        done = [r for r in self.rows.values() if r["final"] is not None and r["status"] in ("completed", "stopped")]
        return sorted(done, key=lambda r: r["final"], reverse=self.spec["mode"] == "max")

    def counts(self) -> dict[str, int]:
        """How many trials are in each status."""
        counts: dict[str, int] = {}
        for row in self.rows.values():
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def summary(self) -> dict[str, Any]:
        """The --json summary: best trial, its options and metric, counts per status, seconds, failed trials."""
        ranked = self.ranked()
        best = ranked[0] if ranked else None
        return {"sweep_dir": str(self.sweep_dir), "name": self.spec.get("name"), "status": self.status,
                "metric": self.metric, "mode": self.spec["mode"], "trials": len(self.rows),
                "counts": self.counts(), "seconds": round(self.seconds, 3),
                "failed": failed_trials(self.rows.values()),
                "best": None if best is None else {k: best.get(k) for k in
                                                   ("trial", "params", "seed", "final", "best", "run_dir")}}

    def point_means(self) -> list[dict[str, Any]]:
        """Per point of the space: mean ± sd of the final metric over its seeds, best first."""
        groups: dict[str, list[dict]] = {}
        for row in self.ranked():
            groups.setdefault(json.dumps(row.get("params", {}), sort_keys=True), []).append(row)
        points = [{"params": rows[0].get("params", {}), "n": len(rows),
                   "mean": statistics.fmean(r["final"] for r in rows),
                   "sd": statistics.stdev(r["final"] for r in rows) if len(rows) > 1 else 0.0}
                  for rows in groups.values()]
        return sorted(points, key=lambda p: p["mean"], reverse=self.spec["mode"] == "max")

    def save(self) -> None:
        """Write sweep.json and results.csv atomically."""
        state = {"format_version": 1, "spec": self.spec, "status": self.status, "started": self.started,
                 "seconds": self.seconds, "summary": self.summary(),
                 "trials": sorted(self.rows.values(), key=lambda r: r["trial"])}
        write_json_atomic(self.sweep_dir / SWEEP_FILE, state)
        with atomic_write(self.sweep_dir / RESULTS_FILE, "w", newline="") as fh:
            fh.write(self.results_csv())

    def results_csv(self) -> str:
        """results.csv: one row per trial (options, seed, final and best metric, epochs, seconds, status)."""
        names = sorted({k for r in self.rows.values() for k in r.get("params", {})})
        metric = self.metric
        header = ["trial", *names, "seed", f"final_{metric}", f"best_{metric}", "epochs_trained", "seconds", "status",
                  "cpu_seconds_per_epoch", "wall_seconds_per_epoch", "blas_threads", "hostname", "pid", "node_id",
                  "run_dir"]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in sorted(self.rows.values(), key=lambda r: r["trial"]):
            params = row.get("params", {})
            writer.writerow([row["trial"], *(_cell(params.get(n)) for n in names), row.get("seed"), row["final"],
                             row["best"], row["epochs"], round(row["seconds"], 3), row["status"],
                             _rounded(row.get("cpu_seconds_per_epoch")), _rounded(row.get("wall_seconds_per_epoch")),
                             *(row.get(k, "") for k in ("blas_threads", "hostname", "pid", "node_id", "run_dir"))])
        return out.getvalue()


def _rounded(value: float | None) -> Any:
    return "" if value is None else round(value, 4)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value
