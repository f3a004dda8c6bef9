"""Reading runs back: complete, partial, damaged, foreign and non-runs."""

from __future__ import annotations

import json

import pytest

from mnistlab.runs.catalog import RunDirError, list_runs, load_run


def _problems(record):
    return " | ".join(record.problems)


def test_a_complete_run_reads_without_problems(run_factory):
    record = load_run(run_factory("good", epochs=3).path)
    assert record.problems == []
    assert record.kind == "mlp" and record.status == "completed"
    assert [p.name for p in record.figures] == ["confusion_matrix.png", "curves.png",
                                                "first_layer_weights.png", "misclassified.png"]
    row = record.row()
    assert row["epochs"] == 3 and row["dataset"] == "mnist" and row["model"] == "mlp"
    assert row["test_accuracy"] == pytest.approx(0.85)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "absent", "does not exist"),
    (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt", "is a file, not a run directory"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "is not a run directory"),
])
def test_what_is_not_a_run_is_refused_with_the_fix(tmp_path, make, message):
    with pytest.raises(RunDirError, match=message) as info:
        load_run(make(tmp_path))
    assert "\n" not in str(info.value) and "mnistlab" in str(info.value)


def test_an_interrupted_run_cut_off_mid_row_says_what_is_missing(run_factory):
    run = run_factory("cut", status="running", figures=False, epochs=2)
    with (run.path / "metrics.csv").open("a") as fh:
        fh.write("3,0.2,0.9")
    record = load_run(run.path)
    text = _problems(record)
    assert "last row of metrics.csv is incomplete" in text
    assert "status is 'running'" in text and "3 epochs logged" in text
    assert "summary.json is missing" in text
    assert record.metrics["loss"].tolist()[-1] == 0.2
    assert record.row()["epochs"] == 3 and record.row()["test_accuracy"] == pytest.approx(0.775)


@pytest.mark.parametrize("version, message", [
    (None, "no format_version (an older format)"),
    (0, "format_version 0 is not the one"),
    (99, "format_version 99 is newer than the one this mnistlab reads (1); upgrade mnistlab"),
])
def test_other_formats_are_read_as_far_as_possible(run_factory, version, message):
    run = run_factory("old")
    info = json.loads((run.path / "run.json").read_text())
    info.pop("format_version")
    if version is not None:
        info["format_version"] = version
    (run.path / "run.json").write_text(json.dumps(info))
    record = load_run(run.path)
    assert message in _problems(record)
    assert record.summary["epochs"] == 4 and len(record.figures) == 4


def test_damaged_files_are_reported_not_raised(run_factory):
    run = run_factory("damaged")
    (run.path / "summary.json").write_text("{not json")
    curves = run.path / "curves.png"
    curves.write_bytes(curves.read_bytes()[:200])
    (run.path / "model.npz").unlink()
    record = load_run(run.path)
    text = _problems(record)
    assert "summary.json is unreadable" in text
    assert "curves.png is damaged" in text
    assert "no saved model" in text
    assert "curves.png" not in [p.name for p in record.figures]


def test_a_directory_without_run_json_still_shows_its_metrics(run_factory):
    run = run_factory("bare")
    (run.path / "run.json").unlink()
    record = load_run(run.path)
    assert "run.json is missing" in _problems(record)
    assert record.kind is None and record.status == "unknown"
    assert record.metrics["epoch"].tolist() == [1, 2, 3, 4]


def test_list_runs_skips_what_is_not_a_run(run_factory, runs_dir):
    run_factory("first")
    run_factory("second", status="interrupted")
    (runs_dir / "notes").mkdir()
    (runs_dir / "report.html").write_text("<html>")
    records = list_runs(runs_dir)
    assert [r.info["name"] for r in records] == ["first", "second"]
    assert [r.status for r in records] == ["completed", "interrupted"]


def test_list_runs_of_a_missing_directory_says_how_to_make_one(tmp_path):
    with pytest.raises(RunDirError, match="no runs directory .*mnistlab mlp train.*--runs-dir"):
        list_runs(tmp_path / "nowhere")
