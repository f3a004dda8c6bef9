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
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from mnistlab.errors import MnistlabError
from mnistlab.fileio import atomic_write, write_json_atomic
from mnistlab.runs.rundir import RunDir, RunStatus
# The reading side and the row type, one layer down.
from mnistlab.runs.sweeps import SWEEP_FILE, TrialRow, is_sweep_dir, load_sweep, read_sweep

__all__ = ["ENDED_WELL", "SWEEP_FILE", "PointMean", "SweepSummary", "SweepTable", "TrialRow", "close_run",
           "failed_trials", "is_sweep_dir", "read_sweep", "run_error"]
RESULTS_FILE = "results.csv"
FINISHED = ("completed", "stopped", "failed", "interrupted")
ENDED_WELL = ("completed", "stopped", "diverged")
"""Trial statuses that are results: trained to the end, stopped early by the scheduler (ASHA), or diverged
(the divergence rule judged the options; training them again would diverge again). Any other status at the
end of a sweep (failed, interrupted...) is a trial that `--resume` trains again."""
BEST_KEYS = ("trial", "params", "seed", "final", "best", "run_dir")
"""What the summary says of the best trial."""
FAILED_KEYS = ("trial", "status", "params", "seed", "error", "run_dir")
"""What the summary says of each trial that did not end well."""


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


def failed_trials(rows: Iterable[TrialRow]) -> list[TrialRow]:
    """The trials that did not end well (`ENDED_WELL`), by trial id.

    A sweep with any of these is not a success: the CLI lists them and exits non-zero.

    >>> rows = [TrialRow("b", status="failed", error="disk full"), TrialRow("a", status="diverged")]
    >>> [(row.trial, row.error) for row in failed_trials(rows)]
    [('b', 'disk full')]
    """
    return [row for row in sorted(rows, key=lambda r: r.trial) if row.status not in ENDED_WELL]


@dataclass(frozen=True)
class SweepSummary:
    """A sweep in brief: what `mnistlab sweep --json` prints and sweep.json keeps under "summary"."""

    sweep_dir: str
    name: str | None
    status: str
    metric: str
    mode: str
    trials: int
    counts: dict[str, int]
    seconds: float
    best: TrialRow | None
    """The finished trial with the best final metric, as it was then (None until one finished)."""
    failed: tuple[TrialRow, ...] = ()
    """The trials that did not end well (`failed_trials`): the CLI lists them and exits 1."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the best trial reduced to its id, options, seed, metric and run directory, and
        each failed trial to its id, status, options, seed, error and run directory."""
        values = asdict(self)
        if values["best"] is not None:
            values["best"] = {k: values["best"][k] for k in BEST_KEYS}
        values["failed"] = [{k: row[k] for k in FAILED_KEYS} for row in values["failed"]]
        return values


@dataclass(frozen=True)
class PointMean:
    """One point of the search space over its seeds: mean ± sd of the final metric of its `n` finished trials."""

    params: dict[str, Any]
    n: int
    mean: float
    sd: float


class SweepTable:
    """Rows of trials keyed by Tune's trial id, written to sweep.json and results.csv on every change."""

    def __init__(self, sweep_dir: Path, spec: dict[str, Any], rows: dict[str, TrialRow] | None = None,
                 started: str | None = None) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.spec = spec
        self.rows: dict[str, TrialRow] = rows or {}
        self.status = "running"
        self.started = started or dt.datetime.now().isoformat(timespec="seconds")
        self.seconds = 0.0

    @classmethod
    def load(cls, sweep_dir: Path) -> SweepTable:
        """The table of an earlier (interrupted) sweep, to resume it."""
        record = load_sweep(sweep_dir)
        if record is None:
            table = cls(sweep_dir, {})
            table.status = "unknown"
            return table
        table = cls(sweep_dir, record.spec, {row.trial: row for row in record.trials}, record.started)
        table.seconds, table.status = record.seconds, record.status
        return table

    @property
    def metric(self) -> str:
        """The metric the sweep optimises."""
        return self.spec["metric"]

    def update(self, trial: str, **values: Any) -> TrialRow:
        """Set `values` (TrialRow fields) on the row of `trial` (created on first use) and return the row."""
        row = self.rows.setdefault(trial, TrialRow(trial))
        for name, value in values.items():
            setattr(row, name, value)  # TrialRow has slots: a name it has no field for raises AttributeError
        return row

    def record_epoch(self, trial: str, result: dict[str, Any]) -> TrialRow:
        """Fold one reported epoch into the row: epochs, final and best metric, seconds, where it ran."""
        value = result.get(self.metric)
        # The run's own epoch: a trial that continued its checkpoint after a restart starts Tune's count again.
        epochs = result.get("epoch", result.get("training_iteration", 0))
        row = self.update(trial, status="running", epochs=int(epochs),
                          seconds=float(result.get("time_total_s", 0.0)),
                          **{k: result[k] for k in ("run_dir", "hostname", "pid", "node_id", "blas_threads")
                             if k in result})
        cpu = result.get("epoch_cpu_seconds")
        if cpu is not None and row.epochs >= 2:  # epoch 1 also pays for start-up; later epochs are steady
            row.cpu_epochs = [*(row.cpu_epochs or []), [cpu, float(result.get("epoch_wall_seconds", 0.0))]]
            row.cpu_seconds_per_epoch = statistics.fmean(c for c, _ in row.cpu_epochs)
            row.wall_seconds_per_epoch = statistics.fmean(w for _, w in row.cpu_epochs)
        if value is not None and math.isfinite(value):
            row.final = value
            better = max if self.spec["mode"] == "max" else min
            row.best = value if row.best is None else better(row.best, value)
        return row

    def ranked(self) -> list[TrialRow]:
        """Finished rows with a metric, best final metric first."""
        done = [r for r in self.rows.values() if r.final is not None and r.status in ("completed", "stopped")]
        return sorted(done, key=lambda r: r.final, reverse=self.spec["mode"] == "max")

    def counts(self) -> dict[str, int]:
        """How many trials are in each status."""
        return dict(Counter(row.status for row in self.rows.values()))

    def summary(self) -> SweepSummary:
        """The sweep in brief: best trial, counts per status, seconds, the trials that did not end well."""
        ranked = self.ranked()
        return SweepSummary(sweep_dir=str(self.sweep_dir), name=self.spec.get("name"), status=self.status,
                            metric=self.metric, mode=self.spec["mode"], trials=len(self.rows),
                            counts=self.counts(), seconds=round(self.seconds, 3),
                            best=replace(ranked[0]) if ranked else None,  # a copy: the table's row keeps changing
                            failed=tuple(replace(row) for row in failed_trials(self.rows.values())))

    def point_means(self) -> list[PointMean]:
        """Per point of the space: mean ± sd of the final metric over its seeds, best first."""
        groups: dict[str, list[TrialRow]] = {}
        for row in self.ranked():
            groups.setdefault(json.dumps(row.params, sort_keys=True), []).append(row)
        points = [PointMean(params=rows[0].params, n=len(rows), mean=statistics.fmean(r.final for r in rows),
                            sd=statistics.stdev(r.final for r in rows) if len(rows) > 1 else 0.0)
                  for rows in groups.values()]
        return sorted(points, key=lambda p: p.mean, reverse=self.spec["mode"] == "max")

    def in_order(self) -> list[TrialRow]:
        """The rows by trial id (the order of sweep.json, results.csv and the tables)."""
        return sorted(self.rows.values(), key=lambda r: r.trial)

    def save(self) -> None:
        """Write sweep.json and results.csv atomically."""
        state = {"format_version": 1, "spec": self.spec, "status": self.status, "started": self.started,
                 "seconds": self.seconds, "summary": self.summary().to_dict(),
                 "trials": [row.to_dict() for row in self.in_order()]}
        write_json_atomic(self.sweep_dir / SWEEP_FILE, state)
        with atomic_write(self.sweep_dir / RESULTS_FILE, "w", newline="") as fh:
            fh.write(self.results_csv())

    def results_csv(self) -> str:
        """results.csv: one row per trial (options, seed, final and best metric, epochs, seconds, status)."""
        names = sorted({k for r in self.rows.values() for k in r.params})
        metric = self.metric
        header = ["trial", *names, "seed", f"final_{metric}", f"best_{metric}", "epochs_trained", "seconds", "status",
                  "cpu_seconds_per_epoch", "wall_seconds_per_epoch", "blas_threads", "hostname", "pid", "node_id",
                  "run_dir"]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in self.in_order():
            writer.writerow([row.trial, *(_cell(row.params.get(n)) for n in names), row.seed, row.final,
                             row.best, row.epochs, round(row.seconds, 3), row.status,
                             _rounded(row.cpu_seconds_per_epoch), _rounded(row.wall_seconds_per_epoch),
                             *(getattr(row, k) for k in ("blas_threads", "hostname", "pid", "node_id", "run_dir"))])
        return out.getvalue()


def _rounded(value: float | None) -> Any:
    return "" if value is None else round(value, 4)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value
