"""Training progress: bars on a terminal, one line per epoch in a log, nothing when quiet."""

from __future__ import annotations

import json

from mnistlab.cli import main
from mnistlab.cli.progress import TrainingProgress, epoch_line

QUICK = ["--train-size", "600", "--epochs", "2", "--lr", "0.01", "--hidden", "16", "--batch-size", "100",
         "--threads", "1"]


def test_epoch_line_shows_measured_metrics_only():
    row = {"epoch": 3, "loss": 0.5, "accuracy": 0.875, "test_accuracy": float("nan"), "epoch_seconds": 2.04}
    assert epoch_line(row, 10) == "epoch 3/10: loss 0.5000, accuracy 0.8750 (2.0 s)"


def test_in_a_log_each_epoch_is_one_line(capsys):
    with TrainingProgress(2, terminal=False) as progress:
        for epoch in (1, 2):
            for done in (1, 2, 3):
                progress.on_batch(done, 3)
            progress.on_epoch({"epoch": epoch, "loss": 1.0 / epoch})
    err = capsys.readouterr().err
    assert err.splitlines() == ["epoch 1/2: loss 1.0000", "epoch 2/2: loss 0.5000"]
    assert "\r" not in err


def test_training_command_logs_epochs_without_carriage_returns(runs_dir, capsys):
    assert main(["mlp", "train", *QUICK, "--runs-dir", str(runs_dir)]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err
    assert [line.split(":")[0] for line in captured.err.splitlines()] == ["epoch 1/2", "epoch 2/2"]
    assert json.loads(captured.out.splitlines()[0].removeprefix("config: "))["train_size"] == 600


def test_quiet_shows_no_progress(runs_dir, capsys):
    assert main(["mlp", "train", *QUICK, "--runs-dir", str(runs_dir), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
