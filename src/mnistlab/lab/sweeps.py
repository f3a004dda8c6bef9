"""Sweeps as the lab shows them: one row of the runs table, and the sweep page's trials, curves and best.

A sweep directory (written by `mnistlab sweep`, read through `mnistlab.runs.sweeps`) holds
sweep.json and one run directory per trial. In the lab a trial's run is named `SWEEP~TRIAL`
(`security.run_path`), so its run page, files and insides work as any run's, and its row in the
runs table carries `sweep: SWEEP`: the page folds those rows under the sweep's own row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mnistlab.lab.runs_view import curves
from mnistlab.lab.security import TRIAL_SEPARATOR
from mnistlab.runs.catalog import RunDirError, load_run
from mnistlab.runs.rundir import is_run_dir
from mnistlab.runs.sweeps import SweepRecord, TrialRow

PRUNED = ("stopped",)
"""Trial statuses of a trial the scheduler (ASHA) ended early: drawn greyed."""


def trial_name(sweep_dir: Path, run_dir: str | Path | None) -> str | None:
    """The lab's name of a trial's run (`SWEEP~TRIAL`), or None when it has no run directory in the sweep."""
    if not run_dir:
        return None
    run = sweep_dir / Path(run_dir).name
    return f"{sweep_dir.name}{TRIAL_SEPARATOR}{run.name}" if is_run_dir(run) else None


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def common_options(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The config options every row has with one same value (what a sweep's trials share)."""
    if not rows:
        return {}
    first = rows[0].get("options", {})
    return {k: v for k, v in first.items() if all(_key(r.get("options", {}).get(k, None)) == _key(v) for r in rows)}


def searched_options(trials: list[TrialRow]) -> list[str]:
    """The searched options whose values differ among `trials`, then "seed" when the seeds do."""
    names = sorted({name for t in trials for name in t.params})
    differ = [n for n in names if len({_key(t.params.get(n)) for t in trials}) > 1]
    return differ + (["seed"] if len({t.seed for t in trials}) > 1 else [])


def option_value(trial: TrialRow, name: str) -> Any:
    """A trial's value of a searched option (or its seed)."""
    return trial.seed if name == "seed" else trial.params.get(name)


def best_trial(record: SweepRecord) -> TrialRow | None:
    """The finished trial (completed, or stopped early) with the best final metric, as the sweep ranks them."""
    done = [t for t in record.trials if t.final is not None and t.status in ("completed", "stopped")]
    if not done:
        return None
    pick = max if record.spec.get("mode", "max") == "max" else min
    return pick(done, key=lambda t: t.final)


def sweep_row(record: SweepRecord, trial_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep's line in the runs table, from sweep.json and its trials' rows (`kind` "sweep").

    Its test accuracy is its best trial's; its options are those every trial shares, so the
    options the sweep searched show as columns that differ.
    """
    best = best_trial(record)
    best_name = trial_name(record.path, best.run_dir) if best else None
    best_row = next((r for r in trial_rows if r["name"] == best_name), None)
    metric = record.spec.get("metric")
    return {"name": record.path.name, "kind": "sweep", "model": record.spec.get("model"),
            "dataset": record.spec.get("dataset"), "epochs": max((t.epochs for t in record.trials), default=0),
            "test_accuracy": best_row.get("test_accuracy") if best_row else None,
            "train_seconds": record.seconds, "started": record.started, "status": record.status,
            "planned_epochs": None, "has_model": False, "trials": len(record.trials), "metric": metric,
            "best": best.final if best else None, "best_run": best_name,
            "options": common_options(trial_rows), "metrics": {metric: best.final} if best and metric else {}}


def _trial_curve(run_dir: Path, metric: str) -> dict[str, list[float | None]] | None:
    try:
        values = curves(load_run(run_dir))
    except RunDirError:
        return None
    return {"epoch": values["epoch"], "values": values.get(metric, [None] * len(values["epoch"]))}


def sweep_details(record: SweepRecord) -> dict[str, Any]:
    """Everything the sweep page shows: status, spec, the trials (status, epoch, metric, options, run),
    each trial's curve of the sweep's metric, the options that differ and the best trial."""
    metric = str(record.spec.get("metric"))
    options = searched_options(record.trials)
    trials, trial_curves = [], {}
    for t in sorted(record.trials, key=lambda t: t.trial):
        run = trial_name(record.path, t.run_dir)
        trials.append({"trial": t.trial, "status": t.status, "epochs": t.epochs, "final": t.final, "best": t.best,
                       "seed": t.seed, "params": t.params, "run": run, "pruned": t.status in PRUNED,
                       "options": {name: option_value(t, name) for name in options}})
        if run is not None:
            curve = _trial_curve(record.path / Path(str(t.run_dir)).name, metric)
            if curve is not None:
                trial_curves[t.trial] = curve
    best = best_trial(record)
    return {"name": record.path.name, "status": record.status, "spec": record.spec, "metric": metric,
            "mode": record.spec.get("mode", "max"), "started": record.started, "seconds": record.seconds,
            "counts": record.counts, "options": options, "trials": trials, "curves": trial_curves,
            "best": None if best is None else {"trial": best.trial, "final": best.final, "params": best.params,
                                               "seed": best.seed, "run": trial_name(record.path, best.run_dir)}}
