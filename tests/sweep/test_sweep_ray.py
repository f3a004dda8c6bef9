"""Real sweeps on a real local Ray: trials as run directories, ASHA stopping a bad trial, the sweep page."""

from __future__ import annotations

import csv
import json
import os
import socket
from pathlib import Path

import pytest

from mnistlab.cli import main
from mnistlab.runs.catalog import list_runs, load_run

pytest.importorskip("ray.tune")
pytestmark = pytest.mark.ray


def _rows(sweep_dir):
    with (sweep_dir / "results.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def asha_sweep(tmp_path_factory):
    """One sequential sweep: a good learning rate first, then a hopeless one that ASHA stops after epoch 1."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("asha")
    spec = tmp / "asha.toml"
    spec.write_text("\n".join([
        'model = "mlp"', 'dataset = "mnist"', 'preset = "seed"', 'metric = "test_accuracy"', 'mode = "max"',
        'search = "grid"', "seeds = [0]", "threads_per_trial = 1", "max_concurrent = 1",
        'scheduler = "asha"', "grace_period = 1", "reduction_factor = 2",
        "[fixed]", "train_size = 1000", "epochs = 3", 'hidden = "16"', "batch_size = 100",
        "[space]", "lr = [0.002, 1e-9]", ""]))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["sweep", str(spec), "--runs-dir", str(tmp / "runs"), "--json"])
    try:
        import ray

        assert not ray.is_initialized(), "the command must stop the Ray it started"
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    return code, json.loads(out.getvalue() or "null"), err.getvalue()


def test_sweep_trains_every_trial_as_a_run_directory(asha_sweep):
    code, summary, err = asha_sweep
    assert code == 0, err
    sweep_dir = summary["sweep_dir"]
    runs = list_runs(sweep_dir)
    assert len(runs) == 2 and {r.kind for r in runs} == {"mlp"}
    assert summary["trials"] == 2 and summary["status"] == "completed"
    assert summary["best"]["params"] == {"lr": 0.002} and summary["best"]["final"] > 0.5
    rows = _rows(Path(sweep_dir))
    assert [row["lr"] for row in rows] == ["0.002", "1e-09"]
    assert {row["hostname"] for row in rows} == {socket.gethostname()}
    assert all(int(row["pid"]) != os.getpid() for row in rows)  # trained in Ray workers, not here
    assert {row["blas_threads"] for row in rows} == {"1"}  # threads_per_trial bounds the BLAS pools
    assert all(float(row["cpu_seconds_per_epoch"]) > 0 for row in rows if row["status"] == "completed")
    assert "start [lr=0.002 seed=0]" in err and "epoch 1" in err  # one line per event when stderr is not a terminal


def test_asha_stops_the_bad_trial_and_its_run_says_so(asha_sweep):
    _, summary, _ = asha_sweep
    assert summary["counts"] == {"completed": 1, "stopped": 1}
    rows = {row["lr"]: row for row in _rows(Path(summary["sweep_dir"]))}
    good, bad = rows["0.002"], rows["1e-09"]
    assert (good["status"], good["epochs_trained"]) == ("completed", "3")
    assert bad["status"] == "stopped" and int(bad["epochs_trained"]) < 3
    record = load_run(bad["run_dir"])
    assert record.status == "stopped"
    assert record.summary["stopped"] is True and record.summary["epochs"] == int(bad["epochs_trained"])
    assert load_run(good["run_dir"]).status == "completed"
    marker = record.trial  # the trial's metadata, in the run's own record
    assert marker["params"] == {"lr": 1e-9} and marker["seed"] == 0
    assert marker["sweep"] == Path(bad["run_dir"]).parent.name and bad["run_dir"].endswith(f"-trial-{marker['trial_id']}")


def test_report_of_a_sweep_directory_is_the_sweep_page(asha_sweep, capsys):
    _, summary, _ = asha_sweep
    assert main(["report", summary["sweep_dir"]]) == 0
    page = (Path(capsys.readouterr().out.strip())).read_text()
    for part in ("Best trial", "Parallel coordinates", "<svg", "Top 10 configurations", "mean ± sd",
                 "data:image/png;base64,", "stopped"):
        assert part in page


@pytest.mark.slow
@pytest.mark.parametrize("search", ["random", "optuna"])
def test_random_and_optuna_train_each_point_once_per_seed(search, write_spec, tmp_path, ray_guard):
    from mnistlab.sweep import load_spec, run_sweep

    spec = load_spec(write_spec(top={"search": f'"{search}"', "samples": "2", "seeds": "[0, 1]"},
                                space={"lr": "{ loguniform = [1e-3, 1e-1] }"}))
    summary = run_sweep(spec, runs_dir=tmp_path / "runs")
    assert summary.counts == {"completed": 4}
    rows = _rows(Path(summary.sweep_dir))
    by_point: dict[str, list[str]] = {}
    for row in rows:
        assert 1e-3 <= float(row["lr"]) <= 1e-1
        by_point.setdefault(row["lr"], []).append(row["seed"])
    assert len(by_point) == 2 and all(sorted(seeds) == ["0", "1"] for seeds in by_point.values())
