"""Checkpoints and `mnistlab resume`: killed, interrupted and finished runs continue in place."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import ExitCode, main
from mnistlab.runs.checkpoint import flatten_state, latest_checkpoint, unflatten_state
from mnistlab.runs.kinds import get_kind

MLP = ["mlp", "train", "--train-size", "4000", "--hidden", "64", "--batch-size", "20", "--lr", "0.001",
       "--quiet", "--name", "k"]
LEARNED = ("weights_0", "biases_0", "weights_1", "biases_1", "history__loss", "history__accuracy",
           "history__test_accuracy")


def _cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mnistlab", *args], env=_cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _wait_for_checkpoint(runs: Path, proc: subprocess.Popen, epoch: int, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state in runs.glob("*/checkpoint-epoch*.*"):
            if int(state.name.removeprefix("checkpoint-epoch").split(".")[0]) >= epoch:
                return state.parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no checkpoint appeared")


def _learned(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "model.npz") as data:
        return {k: data[k] for k in LEARNED}


def _epochs(run: Path) -> list[str]:
    with (run / "metrics.csv").open(newline="") as fh:
        return [row["epoch"] for row in csv.DictReader(fh)]


def test_state_files_keep_arrays_and_big_integers_exactly():
    rng = np.random.default_rng(7)
    state = {"params": rng.normal(size=5), "rng": rng.bit_generator.state, "n": 3, "best": None,
             "history": {"loss": np.array([0.5, 0.25])}, "pair": [1, np.float32(0.5)]}
    back = unflatten_state(flatten_state(state))
    assert np.array_equal(back["params"], state["params"]) and back["rng"] == state["rng"]
    assert back["n"] == 3 and back["best"] is None and back["pair"] == [1, 0.5]


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    full = _cli(*MLP, "--epochs", "3", "--runs-dir", str(tmp_path / "full"))
    killed = _cli(*MLP, "--epochs", "3", "--runs-dir", str(tmp_path / "killed"))
    run = _wait_for_checkpoint(tmp_path / "killed", killed, epoch=1)
    killed.send_signal(signal.SIGKILL)  # in the middle of epoch 2: epoch 1 is checkpointed, 3 is far away
    killed.communicate()
    assert json.loads((run / "run.json").read_text())["status"] == "running" and not (run / "model.npz").exists()
    assert latest_checkpoint(run).epoch in (1, 2)
    assert main(["resume", str(run), "--quiet"]) == ExitCode.OK
    _, full_err = full.communicate(timeout=300)
    assert full.returncode == 0, full_err
    (reference,) = (tmp_path / "full").iterdir()
    assert _epochs(run) == ["1", "2", "3"]
    resumed, uninterrupted = _learned(run), _learned(reference)
    for key in LEARNED:
        assert np.array_equal(resumed[key], uninterrupted[key], equal_nan=True), key
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    assert not [p for p in run.iterdir() if p.name.startswith(".")], "no temporary file left"


# The default preset (one-pixel shifts on, Adam, decay), small; --threads 1 in every process, as in issue 23.
DEFAULT = ["mlp", "train", "--train-size", "1500", "--hidden", "32,16", "--epochs", "6", "--seed", "3",
           "--threads", "1", "--quiet"]


def _kill_at(runs: Path, after_epoch: int, delay: float) -> Path | None:
    """Start DEFAULT, SIGKILL it `delay` s after metrics.csv holds `after_epoch` rows; its run (None: it ended)."""
    proc = _cli(*DEFAULT, "--runs-dir", str(runs))
    _wait_for_checkpoint(runs, proc, epoch=1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        rows = [len(m.read_text().splitlines()) - 1 for m in runs.glob("*/metrics.csv")]
        if rows and rows[0] >= after_epoch:
            time.sleep(delay)
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    (run,) = runs.iterdir()
    return None if proc.returncode == 0 else run


@pytest.mark.slow
def test_the_default_preset_with_shifts_resumes_bit_for_bit_after_kills_at_random_moments(tmp_path):
    reference = _cli(*DEFAULT, "--runs-dir", str(tmp_path / "full"))
    _, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err
    (full,) = (tmp_path / "full").iterdir()
    expected = np.load(full / "model.npz")
    # Seeded moments (epoch 1 is always checkpointed first): as epoch 2 is logged, so mostly while its
    # checkpoint is written; a random one mid-training; after the last epoch, before the model is saved.
    # Whatever the moment, the same result. Each moment costs two processes, hence only three.
    moments = random.Random(23)
    for i, (after_epoch, delay) in enumerate([(2, 0.0), (moments.randint(2, 5), moments.uniform(0, 0.05)), (6, 0.0)]):
        run = _kill_at(tmp_path / f"killed{i}", after_epoch, delay)
        if run is None:
            continue  # it finished before the kill landed: nothing to resume
        resumed = subprocess.run([sys.executable, "-m", "mnistlab", "resume", str(run), "--quiet"],
                                 env=_cli_env(), capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert _epochs(run) == [str(e) for e in range(1, 7)]
        with np.load(run / "model.npz") as got:
            for key in expected.files:
                if key.startswith(("weights_", "biases_")) or key in LEARNED:
                    assert np.array_equal(got[key], expected[key], equal_nan=True), (i, after_epoch, delay, key)
        assert json.loads((run / "run.json").read_text())["status"] == "completed"


def test_a_onecycle_run_with_fewer_epochs_left_than_its_warmup_resumes_bit_for_bit(tmp_path):
    """Warm-up 2 of 3 epochs, interrupted after epoch 1: the 2 epochs left are no longer than the warm-up, yet
    the schedule spans the whole training, so resume continues it (issue 23: it used to be refused)."""
    args = ["mlp", "train", "--train-size", "300", "--hidden", "8", "--batch-size", "20", "--epochs", "3",
            "--lr-schedule", "onecycle", "--warmup-epochs", "2", "--quiet"]
    assert main([*args, "--runs-dir", str(tmp_path / "full")]) == ExitCode.OK
    (reference,) = (tmp_path / "full").iterdir()
    kind = get_kind("mlp")
    config = kind.config_from_dict(json.loads((reference / "config.json").read_text()))

    def ctrl_c_after_epoch_1(row: dict) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        kind.train(config, runs_dir=tmp_path / "stopped", name="k", on_epoch=ctrl_c_after_epoch_1)
    (run,) = (tmp_path / "stopped").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted" and latest_checkpoint(run).epoch == 1
    assert main(["resume", str(run), "--quiet"]) == ExitCode.OK
    assert _epochs(run) == ["1", "2", "3"]
    resumed, uninterrupted = _learned(run), _learned(reference)
    for key in LEARNED:
        assert np.array_equal(resumed[key], uninterrupted[key], equal_nan=True), key
    with np.load(run / "model.npz") as got, np.load(reference / "model.npz") as expected:
        assert json.loads(str(got["config_json"])) == json.loads(str(expected["config_json"]))  # 3 epochs, no warm start


def test_sigterm_ends_a_run_as_interrupted_with_a_checkpoint(tmp_path):
    proc = _cli(*MLP, "--epochs", "50", "--runs-dir", str(tmp_path))
    run = _wait_for_checkpoint(tmp_path, proc, epoch=1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.TERMINATED and err.strip().splitlines()[-1] == "terminated (SIGTERM)"
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    done = len(_epochs(run))
    assert latest_checkpoint(run).epoch == done >= 1, "the weights of every finished epoch are kept"


def test_resume_of_a_finished_run_trains_further_and_refuses_nothing_to_do(tmp_path, capsys):
    args = ["mlp", "train", "--train-size", "300", "--hidden", "8", "--epochs", "2", "--quiet",
            "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    assert main(["resume", str(run), "--quiet"]) == 1
    assert "already holds 2 epoch(s); pass --epochs N" in capsys.readouterr().err
    assert main(["resume", str(run), "--epochs", "3", "--quiet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 3 and _epochs(run) == ["1", "2", "3"]
    assert json.loads((run / "config.json").read_text())["mlp"]["epochs"] == 3


def test_resume_without_a_checkpoint_is_one_line(tmp_path, capsys):
    args = ["mlp", "train", "--train-size", "300", "--hidden", "8", "--epochs", "1", "--quiet",
            "--checkpoint-every", "0", "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    assert main(["resume", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no checkpoint" in err and "mnistlab rerun" in err


@pytest.mark.cnn
def test_a_cnn_run_resumes_with_its_optimizer_state(tmp_path):
    pytest.importorskip("keras")
    args = ["cnn", "train", "--dataset", "mnist", "--epochs", "1", "--train-size", "256", "--conv", "4",
            "--dense", "8", "--schedule", "none", "--quiet", "--runs-dir", str(tmp_path)]
    assert main(args) == 0
    (run,) = tmp_path.iterdir()
    assert latest_checkpoint(run).path.name == "checkpoint-epoch1.keras"
    assert main(["resume", str(run), "--epochs", "2", "--quiet"]) == 0
    assert _epochs(run) == ["1", "2"] and latest_checkpoint(run).epoch == 2
    assert not (run / "checkpoint-epoch1.keras").exists(), "older checkpoints are removed"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["test_accuracy"] > 0.1
