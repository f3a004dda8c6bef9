"""RunDir: creating, logging epochs, finishing; every write whole or not at all."""

from __future__ import annotations

import csv
import json

from mnistlab.runs import RunDir
from mnistlab.runs.rundir import FORMAT_VERSION


def _rows(run):
    with (run.path / "metrics.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_create_log_finish(runs_dir):
    run = RunDir.create(runs_dir, "exp", "mlp", {"epochs": 2})
    assert run.path.parent == runs_dir and run.path.name.endswith("-exp")
    assert run.info["status"] == "running" and run.info["format_version"] == FORMAT_VERSION
    assert json.loads((run.path / "config.json").read_text()) == {"epochs": 2}
    assert "packages" in json.loads((run.path / "environment.json").read_text())
    run.log_epoch({"epoch": 1, "loss": 0.5})
    run.log_epoch({"epoch": 2, "loss": 0.25})
    assert _rows(run) == [{"epoch": "1", "loss": "0.5"}, {"epoch": "2", "loss": "0.25"}]
    run.finish({"epochs": 2}, status="interrupted")
    assert run.info["status"] == "interrupted" and "finished" in run.info
    again = RunDir.create(runs_dir, "exp", "mlp", {})
    assert again.path != run.path, "two runs in the same second get distinct directories"


def test_rows_with_other_keys_never_shift_columns(runs_dir):
    run = RunDir.create(runs_dir, "cols", "cnn", {})
    run.log_epoch({"epoch": 1, "loss": 0.9, "test_accuracy": 0.5})
    run.log_epoch({"loss": 0.8, "epoch": 2})
    run.log_epoch({"epoch": 3, "loss": 0.7, "test_accuracy": 0.7, "learning_rate": 0.01})
    assert _rows(run) == [
        {"epoch": "1", "loss": "0.9", "test_accuracy": "0.5", "learning_rate": ""},
        {"epoch": "2", "loss": "0.8", "test_accuracy": "", "learning_rate": ""},
        {"epoch": "3", "loss": "0.7", "test_accuracy": "0.7", "learning_rate": "0.01"},
    ]
