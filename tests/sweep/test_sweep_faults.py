"""A sweep survives its faults: a trial whose Ray worker is SIGKILLed continues from its checkpoint to the
uninterrupted result, and a full disk fails only the trials it hits, each in one line, and the sweep exits 1
until `--resume` finishes them.

Real Ray (its local instance) and real processes; the full disk is an ENOSPC raised by os.replace in the
trial workers (a sitecustomize on their PYTHONPATH), only for one trial's checkpoint of epoch 2.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.runs.catalog import load_run

pytest.importorskip("ray.tune")

SRC = str(Path(__file__).parents[2] / "src")

FULL_DISK_HOOK = '''
import errno, json, os

_replace, _lr = os.replace, os.environ.get("MNISTLAB_TEST_FULL_DISK_LR")


def replace(src, dst, *args, **kwargs):
    target = os.fspath(dst)
    if _lr and os.path.basename(target).startswith("checkpoint-epoch2"):
        try:
            with open(os.path.join(os.path.dirname(target), "config.json")) as fh:
                lr = json.load(fh)["mlp"]["learning_rate"]
        except (OSError, ValueError, KeyError):
            lr = None
        if lr == float(_lr):
            raise OSError(errno.ENOSPC, "No space left on device", target)
    return _replace(src, dst, *args, **kwargs)


os.replace = replace
'''


def _rows(sweep_dir: Path) -> list[dict]:
    return json.loads((sweep_dir / "sweep.json").read_text())["trials"]


def _weights(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "model.npz") as data:
        return {k: data[k] for k in data.files if k.startswith(("weights_", "biases_"))}


def _train_alone(run: Path, runs_dir: Path) -> Path:
    """The trial's config.json trained as an ordinary run in a fresh process, one thread as in the trial."""
    code = ("import json, sys; from mnistlab.threads import configure_threads; configure_threads(1); "
            "from mnistlab.runs.kinds import get_kind; kind = get_kind('mlp'); "
            "kind.train(kind.config_from_dict(json.load(open(sys.argv[1]))), runs_dir=sys.argv[2], name='alone')")
    subprocess.run([sys.executable, "-c", code, str(run / "config.json"), str(runs_dir)], check=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": SRC}, capture_output=True)
    (alone,) = runs_dir.iterdir()
    return alone


def _kill_worker_mid_training(runs: Path, done: threading.Event, killed: list[int]) -> None:
    """Once a trial has checkpointed epoch 1, SIGKILL the Ray worker process it runs in (run.json's pid)."""
    while not done.is_set():
        for record in runs.glob("*/*-trial-*/run.json"):
            if list(record.parent.glob("checkpoint-epoch*")):
                pid = json.loads(record.read_text())["pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.01)


@pytest.mark.slow
def test_a_trial_whose_worker_is_killed_restarts_from_its_checkpoint_to_the_same_weights(
        write_spec, tmp_path, capsys, ray_guard):
    runs = tmp_path / "runs"
    # One trial, long enough (20 epochs) that the kill after epoch 1 lands while it trains.
    spec = write_spec(top={"max_concurrent": "1"}, fixed={"epochs": "20", "train_size": "1500"},
                      space={"lr": "[0.002]"})
    done, killed = threading.Event(), []
    watcher = threading.Thread(target=_kill_worker_mid_training, args=(runs, done, killed), daemon=True)
    watcher.start()
    try:
        code = main(["sweep", spec, "--runs-dir", str(runs), "--json", "--quiet"])
    finally:
        done.set()
        watcher.join(timeout=10)
    out, err = capsys.readouterr()
    assert code == 0 and out, (out, err)
    summary = json.loads(out)  # only the summary: Ray's notice of the dead worker went to stderr
    assert summary["status"] == "completed" and summary["counts"] == {"completed": 1} and summary["failed"] == []
    assert killed, "the worker was never killed"
    (sweep_dir,) = runs.iterdir()
    (row,) = _rows(sweep_dir)
    assert row["restarts"] == 1 and row["epochs"] == 20
    (run,) = [p for p in sweep_dir.iterdir() if (p / "run.json").is_file()]  # continued in place, no second run
    record = load_run(run)
    assert record.status == "completed" and record.info.get("resumed")
    assert record.info["pid"] != killed[0], "a new worker finished it"
    with (run / "metrics.csv").open(newline="") as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == list(range(1, 21))
    alone = _weights(_train_alone(run, tmp_path / "alone"))
    for key, value in _weights(run).items():
        assert np.array_equal(value, alone[key]), key


@pytest.mark.slow
def test_a_full_disk_fails_only_the_trials_it_hits_and_resume_finishes_them(write_spec, tmp_path, capsys,
                                                                            ray_guard):
    runs, hook = tmp_path / "runs", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FULL_DISK_HOOK)
    spec = write_spec(top={"max_concurrent": "1"}, fixed={"epochs": "3"}, space={"lr": "[0.001, 0.002, 0.005]"})
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{SRC}", "MNISTLAB_TEST_FULL_DISK_LR": "0.002"}
    proc = subprocess.run([sys.executable, "-m", "mnistlab", "sweep", spec, "--runs-dir", str(runs)], env=env,
                          capture_output=True, text=True, timeout=600, start_new_session=True)
    assert proc.returncode == 1, proc.stderr  # a failed trial: the sweep is not a success
    (sweep_dir,) = runs.iterdir()
    failed = [line for line in proc.stderr.splitlines() if " end " in line and " failed " in line]
    assert len(failed) == 1 and "[lr=0.002 " in failed[0] and "no space left on device" in failed[0].lower()
    *_, named, fix = proc.stderr.splitlines()  # the failed trial with its reason, then the fix
    assert named.startswith("failed trial ") and "[lr=0.002 " in named and "no space left on device" in named.lower()
    assert fix == f"error: 1 of 3 trials did not finish; train them with: mnistlab sweep --resume {sweep_dir}"
    assert sum(" restart " in line for line in proc.stderr.splitlines()) == 2, "retried from its checkpoint, twice"
    statuses = {row["params"]["lr"]: row["status"] for row in _rows(sweep_dir)}
    assert statuses == {0.001: "completed", 0.002: "failed", 0.005: "completed"}
    finished = {p.name: (p / "model.npz").stat().st_mtime_ns for p in sweep_dir.iterdir()
                if (p / "model.npz").is_file()}
    assert len(finished) == 2
    assert not list(sweep_dir.glob("*/.*tmp")), "no half-written file"

    assert main(["sweep", "--resume", str(sweep_dir), "--json", "--quiet"]) == 0  # the disk has room again
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "completed" and summary["counts"] == {"completed": 3} and summary["failed"] == []
    kept = {p.name: (p / "model.npz").stat().st_mtime_ns for p in sweep_dir.iterdir() if p.name in finished}
    assert kept == finished, "the trials that had finished were not trained again"
    (again,) = [p for p in sweep_dir.iterdir() if (p / "model.npz").is_file() and p.name not in finished]
    with (again / "metrics.csv").open(newline="") as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [1, 2, 3]
    assert load_run(again).info.get("resumed_from_epoch") == 1, "it continued from its checkpoint of epoch 1"
