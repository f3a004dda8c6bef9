"""The sweep's record without Ray: the trial table, results.csv, closing runs Ray ended, the page."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mnistlab.runs import RunDir
from mnistlab.runs.catalog import load_run
from mnistlab.sweep.report import option_effects, write_sweep_report
from mnistlab.sweep.results import SweepTable, TrialRow, close_run, failed_trials, is_sweep_dir
from mnistlab.sweep.table import event_line, table_lines

SPEC = {"name": "demo", "metric": "test_accuracy", "mode": "max"}
# Rows as sweep.json held them before TrialRow was the table's row (a real sweep's, shortened): a
# completed trial, one ASHA stopped after an epoch (no steady epochs), one that failed after retries.
OLD_ROWS = [
    {"best": 0.898, "blas_threads": 1, "cpu_epochs": [[0.042, 0.583], [0.036, 0.183]], "cpu_seconds_per_epoch": 0.039,
     "epochs": 4, "final": 0.898, "hostname": "vm", "node_id": "a794a37af05f",
     "params": {"batch_size": 32, "hidden": "64", "lr": 0.0038}, "pid": 10371,
     "run_dir": "RUNS/20261206-182928-trial-e7912_00000", "seconds": 6.24, "seed": 0, "status": "completed",
     "trial": "e7912_00000", "wall_seconds_per_epoch": 0.383},
    {"best": 0.3899, "blas_threads": 1, "epochs": 1, "final": 0.3899, "hostname": "vm", "node_id": "a794a37af05f",
     "params": {"batch_size": 32, "hidden": "16", "lr": 0.00013}, "pid": 11097,
     "run_dir": "RUNS/20261206-183005-trial-e7912_00001", "seconds": 1.53, "seed": 0, "status": "stopped",
     "trial": "e7912_00001"},
    {"best": None, "epochs": 0, "error": "no space left on device", "final": None,
     "params": {"batch_size": 64, "hidden": "16", "lr": 0.01}, "restarts": 2, "seconds": 0.0, "seed": 1,
     "status": "failed", "trial": "e7912_00002"},
]
OLD_RESULTS_CSV = """\
trial,batch_size,hidden,lr,seed,final_test_accuracy,best_test_accuracy,epochs_trained,seconds,status,\
cpu_seconds_per_epoch,wall_seconds_per_epoch,blas_threads,hostname,pid,node_id,run_dir\r
e7912_00000,32,64,0.0038,0,0.898,0.898,4,6.24,completed,0.039,0.383,1,vm,10371,a794a37af05f,\
RUNS/20261206-182928-trial-e7912_00000\r
e7912_00001,32,16,0.00013,0,0.3899,0.3899,1,1.53,stopped,,,1,vm,11097,a794a37af05f,\
RUNS/20261206-183005-trial-e7912_00001\r
e7912_00002,64,16,0.01,1,,,0,0.0,failed,,,,,,,\r
"""


def _table(tmp_path, finals=((0.001, 0, 0.90), (0.001, 1, 0.92), (0.01, 0, 0.80), (0.01, 1, 0.70))):
    table = SweepTable(tmp_path, dict(SPEC))
    for n, (lr, seed, final) in enumerate(finals):
        trial = f"t{n}"
        table.update(trial, params={"lr": lr}, seed=seed, status="running")
        for epoch, value in enumerate((final - 0.1, final), start=1):
            table.record_epoch(trial, {"test_accuracy": value, "training_iteration": epoch, "time_total_s": epoch,
                                       "epoch_cpu_seconds": 2.0 * epoch, "epoch_wall_seconds": 1.0})
        table.update(trial, status="completed")
    return table


def test_ranking_point_means_and_summary(tmp_path):
    table = _table(tmp_path)
    assert [r.trial for r in table.ranked()] == ["t1", "t0", "t2", "t3"]
    best, worst = table.point_means()
    assert best.params == {"lr": 0.001} and best.n == 2
    assert best.mean == pytest.approx(0.91) and best.sd == pytest.approx(0.0141421, rel=1e-4)
    assert worst.mean == pytest.approx(0.75)
    summary = table.summary()
    assert summary.best.trial == "t1" and summary.counts == {"completed": 4}
    assert table.rows["t0"].cpu_seconds_per_epoch == 4.0  # epoch 2 only: epoch 1 pays for start-up
    assert table.rows["t0"].wall_seconds_per_epoch == 1.0


def test_mode_min_ranks_lowest_first(tmp_path):
    table = _table(tmp_path)
    table.spec["mode"] = "min"
    assert table.ranked()[0].trial == "t3"


def test_save_writes_sweep_json_and_results_csv_that_load_back(tmp_path):
    table = _table(tmp_path)
    table.status = "completed"
    table.save()
    assert is_sweep_dir(tmp_path) and not is_sweep_dir(tmp_path / "nothing")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results.csv").read_text())))
    assert [r["lr"] for r in rows] == ["0.001", "0.001", "0.01", "0.01"]
    assert rows[1]["final_test_accuracy"] == "0.92" and rows[1]["best_test_accuracy"] == "0.92"
    loaded = SweepTable.load(tmp_path)
    assert loaded.status == "completed" and loaded.summary() == table.summary()


def test_close_run_marks_only_a_run_still_running(tmp_path):
    run = RunDir.create(tmp_path, "trial", "mlp", {"dataset": "mnist"})
    run.log_epoch({"epoch": 1, "loss": 0.5, "test_accuracy": 0.8, "epoch_seconds": 1.5})
    assert close_run(run.path, "stopped") == "stopped"
    record = load_run(run.path)
    assert record.status == "stopped" and record.summary["stopped"] is True
    assert record.summary["epochs"] == 1 and record.summary["test_accuracy"] == 0.8
    assert close_run(run.path, "interrupted") == "stopped"  # a final status is never overwritten
    assert close_run(tmp_path / "missing", "stopped") == "unknown"


def test_progress_text(tmp_path):
    table = _table(tmp_path)
    lines = table_lines(table)
    assert lines[0].split() == ["trial", "parameters", "epoch", "test_accuracy", "best", "status"]
    assert "lr=0.001 seed=1" in lines[2] and "0.92" in lines[2]
    line = event_line("end", table.rows["t2"], table)
    assert line.startswith("t2 end [lr=0.01 seed=0] completed after 2 epochs, test_accuracy 0.8")


def test_sweep_page_shows_effects_parallel_coordinates_and_top_k(tmp_path):
    table = _table(tmp_path)
    table.save()
    effects = option_effects(table)
    assert [(v, round(m, 3), n) for v, m, _, n in effects["lr"]] == [(0.001, 0.91, 2), (0.01, 0.75, 2)]
    page = write_sweep_report(tmp_path).read_text()
    assert page.count("<polyline") == 4 and "Top 10 configurations" in page
    assert "lr=0.001 seed=*" in page and json.loads((tmp_path / "sweep.json").read_text())["trials"]


def test_live_table_redraws_in_place_on_a_terminal(tmp_path):
    from mnistlab.sweep.table import EventText

    table = _table(tmp_path)
    live = EventText(live=True)
    first = live("start", table.rows["t0"], table)
    second = live("end", table.rows["t0"], table)
    assert first.splitlines()[0].startswith("trial") and "\x1b" not in first
    assert second.startswith("\x1b[5F\x1b[J")  # cursor back up over the 5 lines drawn, then clear below
    assert second.count("\n") == 4
    assert EventText(live=False)("end", table.rows["t0"], table).startswith("t0 end [lr=0.001 seed=0] completed")


def test_runs_lists_the_sweeps_beside_the_runs(tmp_path, capsys):
    from mnistlab.cli import main

    sweep_dir = tmp_path / "20260101-000000-demo"
    sweep_dir.mkdir()
    table = _table(sweep_dir)
    table.status = "completed"
    table.save()
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"sweep {sweep_dir.name} (completed; 4 completed): mnistlab runs --runs-dir {sweep_dir}" in out


def _ended(tmp_path, statuses: dict[str, str]) -> SweepTable:
    """The test table with these final statuses, and a recorded reason on the failed ones."""
    table = _table(tmp_path)
    table.status = "completed"
    for trial, status in statuses.items():
        table.update(trial, status=status, **({"error": "OutputError: No space left on device\nmore"}
                                              if status == "failed" else {}))
    return table


def test_only_failed_or_unfinished_trials_count_as_failures(tmp_path):
    table = _ended(tmp_path, {"t0": "stopped", "t1": "diverged", "t2": "failed", "t3": "interrupted"})
    assert [(r.trial, r.status) for r in failed_trials(table.rows.values())] == [("t2", "failed"),
                                                                               ("t3", "interrupted")]
    assert table.summary().to_dict()["failed"][0] == {"trial": "t2", "status": "failed", "params": {"lr": 0.01}, "seed": 0,
                                            "error": "OutputError: No space left on device\nmore", "run_dir": None}
    assert failed_trials(_ended(tmp_path, {"t0": "stopped", "t1": "diverged"}).rows.values()) == []


@pytest.mark.parametrize("statuses, code", [({}, 0), ({"t0": "stopped", "t1": "diverged"}, 0),
                                            ({"t2": "failed"}, 1), ({"t0": "diverged", "t2": "failed"}, 1)])
def test_sweep_exit_code_says_whether_a_trial_failed(tmp_path, capsys, monkeypatch, statuses, code):
    """0 when every trial completed, was stopped by the scheduler or diverged; 1 naming each failed trial."""
    from mnistlab.cli import main

    summary = _ended(tmp_path, statuses).summary()
    monkeypatch.setattr("mnistlab.sweep.resume_sweep", lambda *args, **kwargs: summary)
    assert main(["sweep", "--resume", str(tmp_path), "--quiet", "--json"]) == code
    out, err = capsys.readouterr()
    assert json.loads(out)["failed"] == summary.to_dict()["failed"]
    if code == 0:
        assert err == ""
        return
    assert err.splitlines() == [
        "failed trial t2 [lr=0.01 seed=0]: OutputError: No space left on device",
        f"error: 1 of 4 trials did not finish; train them with: mnistlab sweep --resume {tmp_path}"]


def test_a_failed_trial_without_a_reason_points_to_rays_account(tmp_path):
    pytest.importorskip("ray.tune")
    from types import SimpleNamespace

    from mnistlab.sweep.recorder import SweepRecorder

    table = _table(tmp_path)
    table.update("t0", status="running")
    trial = SimpleNamespace(trial_id="t0", last_result={}, error_file="/sweep/tune/t0/error.txt")
    SweepRecorder(table, [0, 1]).on_trial_error(1, [], trial)
    row = table.rows["t0"]
    assert row.status == "failed" and row.error.endswith("Ray's account is in /sweep/tune/t0/error.txt")
@pytest.mark.parametrize("row", OLD_ROWS, ids=lambda row: row["status"])
def test_a_trial_row_round_trips_to_the_old_dict(row):
    typed = TrialRow.from_dict(row)
    assert typed.to_dict() == row and typed.extra == {}
    newer = {**row, "written_by_a_newer_mnistlab": [1, 2]}
    assert TrialRow.from_dict(newer).to_dict() == newer  # unknown keys are kept, not dropped


FAILED_OLD = [{k: OLD_ROWS[2].get(k) for k in ("trial", "status", "params", "seed", "error", "run_dir")}]
"""What the summary now says of the old sweep's failed trial."""


def _old_sweep_dir(path):
    """A sweep directory as the dict-rowed writer left it: sweep.json and results.csv."""
    summary = {"best": {k: OLD_ROWS[0][k] for k in ("best", "final", "params", "run_dir", "seed", "trial")},
               "counts": {"completed": 1, "stopped": 1, "failed": 1}, "metric": "test_accuracy", "mode": "max",
               "name": "demo", "seconds": 162.2, "status": "completed", "sweep_dir": str(path), "trials": 3}
    state = {"format_version": 1, "spec": SPEC, "status": "completed", "started": "2026-12-06T18:28:39",
             "seconds": 162.2, "summary": summary, "trials": OLD_ROWS}
    (path / "sweep.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    (path / "results.csv").write_text(OLD_RESULTS_CSV, newline="")
    return state


def test_an_old_sweep_directory_loads_and_is_written_back_byte_for_byte(tmp_path):
    state = _old_sweep_dir(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in ("sweep.json", "results.csv")}
    table = SweepTable.load(tmp_path)
    assert table.rows["e7912_00002"].restarts == 2 and table.rows["e7912_00002"].error == "no space left on device"
    assert table.summary().to_dict() == {**state["summary"], "failed": FAILED_OLD}
    table.save()
    assert (tmp_path / "results.csv").read_bytes() == before["results.csv"]
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert saved == {**state, "summary": {**state["summary"], "failed": FAILED_OLD}}  # the summary lists failures now


def test_sweep_json_summary_is_what_the_resumed_cli_prints(tmp_path, monkeypatch, capsys):
    import mnistlab.sweep
    from mnistlab.cli import main

    state = _old_sweep_dir(tmp_path)
    monkeypatch.setattr(mnistlab.sweep, "resume_sweep", lambda sweep_dir, **_: SweepTable.load(sweep_dir).summary())
    assert main(["sweep", "--resume", str(tmp_path), "--json", "--quiet"]) == 1  # one trial failed
    assert json.loads(capsys.readouterr().out) == {**state["summary"], "failed": FAILED_OLD}
    assert main(["sweep", "--resume", str(tmp_path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("3 trials (1 completed, 1 failed, 1 stopped) in 162 s")
    assert "best: test_accuracy 0.8980, {'batch_size': 32, 'hidden': '64', 'lr': 0.0038} seed 0" in out


def test_a_trial_row_takes_only_its_own_fields(tmp_path):
    table = SweepTable(tmp_path, dict(SPEC))
    with pytest.raises(AttributeError):
        table.update("t0", statsu="running")  # a typo fails here, not as a silently missing column
