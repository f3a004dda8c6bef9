"""Resuming a sweep whose driver was killed (SIGKILL): finished trials are not trained again."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistlab.cli import main
from mnistlab.runs.catalog import load_run
from mnistlab.runs.rundir import is_run_dir

pytest.importorskip("ray.tune")
pytestmark = pytest.mark.ray


def _completed(runs: Path) -> int:
    for results in runs.glob("*/results.csv"):
        with results.open(newline="") as fh:
            return sum(row["status"] == "completed" for row in csv.DictReader(fh))
    return 0


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started (its own session)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.mark.slow
def test_resume_after_sigkill_trains_only_what_is_left(write_spec, tmp_path, capsys, ray_guard):
    runs = tmp_path / "runs"
    spec = write_spec(top={"max_concurrent": "1"}, space={"lr": "[0.001, 0.002, 0.005, 0.01]"})
    driver = subprocess.Popen([sys.executable, "-m", "mnistlab", "sweep", spec, "--runs-dir", str(runs), "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _completed(runs) < 2 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _completed(runs) >= 2, "the sweep did not finish two trials in time"
    finally:
        _kill_group(driver)
    (sweep_dir,) = runs.iterdir()
    before = {p.name for p in sweep_dir.iterdir() if is_run_dir(p)}
    done_before = {load_run(sweep_dir / p).trial["key"] for p in before
                   if load_run(sweep_dir / p).status == "completed"}

    assert main(["sweep", "--resume", str(sweep_dir), "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "completed"
    runs_after = [load_run(p) for p in sweep_dir.iterdir() if is_run_dir(p)]
    completed = [r for r in runs_after if r.status == "completed"]
    keys = [r.trial["key"] for r in completed]
    assert len(keys) == len(set(keys)) == 4  # each point completed exactly once
    assert done_before <= set(keys)
    new = [r for r in completed if r.name not in before]
    # Only the unfinished points were trained again; those with a checkpoint continued their run in place.
    assert len(new) <= 4 - len(done_before)
    assert all(r.status in ("completed", "interrupted") for r in runs_after)
    with (sweep_dir / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(row["lr"] for row in rows if row["status"] == "completed") == ["0.001", "0.002", "0.005", "0.01"]


@pytest.mark.slow
def test_ctrl_c_exits_130_and_resume_finishes(write_spec, tmp_path, capsys, ray_guard):
    runs = tmp_path / "runs"
    spec = write_spec(top={"max_concurrent": "1"}, fixed={"epochs": "3"}, space={"lr": "[0.001, 0.002, 0.005]"})
    driver = subprocess.Popen([sys.executable, "-m", "mnistlab", "sweep", spec, "--runs-dir", str(runs)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not list(runs.glob("*/*/metrics.csv")) and time.monotonic() < deadline:
            time.sleep(0.2)
        driver.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, err = driver.communicate(timeout=120)
    finally:
        _kill_group(driver)
    assert driver.returncode == 130
    (sweep_dir,) = runs.iterdir()
    assert f"continue with: mnistlab sweep --resume {sweep_dir}" in err
    assert json.loads((sweep_dir / "sweep.json").read_text())["status"] == "interrupted"
    assert main(["sweep", "--resume", str(sweep_dir), "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"completed": 3}
