"""The sweep's record without Ray: the trial table, results.csv, closing runs Ray ended, the page."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mnistlab.runs import RunDir
from mnistlab.runs.catalog import load_run
from mnistlab.sweep.report import option_effects, write_sweep_report
from mnistlab.sweep.results import SweepTable, close_run, failed_trials, is_sweep_dir
from mnistlab.sweep.table import event_line, table_lines

SPEC = {"name": "demo", "metric": "test_accuracy", "mode": "max"}


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
    assert [r["trial"] for r in table.ranked()] == ["t1", "t0", "t2", "t3"]
    best, worst = table.point_means()
    assert best["params"] == {"lr": 0.001} and best["n"] == 2
    assert best["mean"] == pytest.approx(0.91) and best["sd"] == pytest.approx(0.0141421, rel=1e-4)
    assert worst["mean"] == pytest.approx(0.75)
    summary = table.summary()
    assert summary["best"]["trial"] == "t1" and summary["counts"] == {"completed": 4}
    assert table.rows["t0"]["cpu_seconds_per_epoch"] == 4.0  # epoch 2 only: epoch 1 pays for start-up
    assert table.rows["t0"]["wall_seconds_per_epoch"] == 1.0


def test_mode_min_ranks_lowest_first(tmp_path):
    table = _table(tmp_path)
    table.spec["mode"] = "min"
    assert table.ranked()[0]["trial"] == "t3"


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
    assert [(r["trial"], r["status"]) for r in failed_trials(table.rows.values())] == [("t2", "failed"),
                                                                                     ("t3", "interrupted")]
    assert table.summary()["failed"][0] == {"trial": "t2", "status": "failed", "params": {"lr": 0.01}, "seed": 0,
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
    assert json.loads(out)["failed"] == summary["failed"]
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
    assert row["status"] == "failed" and row["error"].endswith("Ray's account is in /sweep/tune/t0/error.txt")
