"""A run name is a label, never a path: every file of a run lands inside its runs directory."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import main
from mnistlab.errors import OutputError
from mnistlab.fileio import ensure_inside, safe_dirname
from mnistlab.runs import RunDir

HOSTILE = ["../../../escaped", "a/b", "x" * 300, "two\nlines", "/abs/path", "..", ".hidden", "tab\there", "ünï cødé"]


@pytest.mark.parametrize("label", HOSTILE)
def test_any_label_gives_a_bounded_safe_folder_name(label):
    slug = safe_dirname(label)
    assert 0 < len(slug) <= 64
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert not slug.startswith(".") and slug not in (".", "..")


@pytest.mark.parametrize("label", HOSTILE)
def test_run_dir_stays_inside_and_keeps_the_label(tmp_path, label):
    runs = tmp_path / "x" / "y" / "runs"
    run = RunDir.create(runs, label, "mlp", {})
    assert run.path.parent == runs and run.info["name"] == label
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == ["runs"], "nothing beside the runs dir"


def test_a_symlink_out_of_the_run_directory_is_refused(tmp_path):
    run = RunDir.create(tmp_path / "runs", "ok", "mlp", {})
    outside = tmp_path / "outside.csv"
    (run.path / "metrics.csv").symlink_to(outside)
    with pytest.raises(OutputError, match="outside"):
        run.log_epoch({"epoch": 1})
    assert not outside.exists()
    with pytest.raises(OutputError):
        ensure_inside(tmp_path / "runs" / ".." / "elsewhere", tmp_path / "runs")


def test_runs_table_lists_a_newline_name_on_one_line(tmp_path, capsys):
    RunDir.create(tmp_path, "two\nlines", "mlp", {})
    RunDir.create(tmp_path, "a/b", "mlp", {})
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "two-lines" in lines[1] + lines[2] and "a-b" in lines[1] + lines[2]


def test_rerun_of_a_hostile_run_json_stays_inside(tmp_path, capsys):
    runs = tmp_path / "x" / "runs"
    run = RunDir.create(runs, "fine", "mlp", {})
    info = run.info
    info["name"] = "../../../escaped"
    (run.path / "run.json").write_text(json.dumps(info))
    (run.path / "config.json").write_text(json.dumps({"train_size": 200, "mlp": {"epochs": 1, "hidden_sizes": [8], "n_iter_no_change": None}}))
    assert main(["rerun", str(run.path), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"] and sorted(p.name for p in (tmp_path / "x").iterdir()) == ["runs"]
    names = sorted(p.name for p in runs.iterdir())
    assert len(names) == 2 and any(n.endswith("-escaped-rerun") for n in names)
