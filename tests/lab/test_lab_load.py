"""The lab under load (a short benchmarks/lab_load.py) and restarted while a training runs.

No latency is asserted here (a loaded machine is not a failure): the short load test asserts no 5xx,
no client error and event streams that keep updating while a training started from the lab runs.
The restart test asserts that stopping the lab leaves the training running, and that a new lab shows
it (running, with new epochs), adopts it and can stop it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")
httpx = pytest.importorskip("httpx", reason="the load test needs httpx (the test extra)")

from mnistlab.lab.detached import process_runs  # noqa: E402

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
GENEROUS = 180.0  # seconds to wait for a training to start, log epochs or stop on a loaded machine
LONG_TRAINING = {"kind": "mlp", "train_size": 2000, "hidden": "16", "epochs": 200, "preset": "seed"}


def load_benchmark(name: str):
    """benchmarks/<name>.py as a module (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # registered first: its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def wait_until(condition, what: str, timeout: float = GENEROUS, step: float = 0.25):
    """`condition()`'s first truthy value, polled every `step` seconds for at most `timeout` seconds."""
    for _ in range(int(timeout / step)):
        if value := condition():
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def run_row(client, name: str) -> dict | None:
    return next((r for r in client.get("/api/runs").json()["runs"] if r["name"].endswith(f"-{name}")), None)


def epochs_of(client, name: str) -> int:
    row = run_row(client, name)
    return int(row.get("epochs") or 0) if row else 0


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def load_runs(lab_runs, tmp_path) -> tuple[Path, dict[str, str]]:
    """A runs directory of 30 generated runs and copies of the session's trained MLP (and CNN)."""
    runs_dir = tmp_path / "runs"
    load_benchmark("many_runs").generate_runs(runs_dir, 30, durable=False)
    runs = {}
    for kind in ("mlp", "cnn"):
        if kind in lab_runs:
            shutil.copytree(lab_runs[kind], runs_dir / lab_runs[kind].name)
            runs[kind] = lab_runs[kind].name
    return runs_dir, runs


@pytest.mark.slow
def test_the_lab_under_a_short_load_answers_everything_and_streams_keep_updating(serve_lab, load_runs):
    runs_dir, runs = load_runs
    server = serve_lab(runs_dir)
    url = server.url.rstrip("/")
    with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
        job = client.post("/api/train", json={**LONG_TRAINING, "name": "under-load"}).json()
        try:
            wait_until(lambda: epochs_of(client, "under-load") >= 1, "the lab's training to log an epoch")
            figures, _ = load_benchmark("lab_load").run_load(url, runs, seconds=6, drawers=2, streams=3, drawings=10)
        finally:
            client.post(f"/api/jobs/{job['id']}/stop")
            try:
                wait_until(lambda: job_state(client, job["id"])["status"] == "exited", "the training to stop")
            finally:
                kill_group(job["pid"])
    assert figures["server_errors"] == 0 and not figures["client_errors"], figures
    assert all(d["requests"] > 0 for d in figures["draw"].values()) and figures["page"]["requests"] > 0
    assert figures["streams"]["events_min"] >= 2, figures["streams"]  # the table, then the training's new epochs


def job_state(client, job_id: int) -> dict:
    return next(j for j in client.get("/api/jobs").json()["jobs"] if j["id"] == job_id)


@pytest.mark.slow
def test_restarting_the_lab_loses_no_training(serve_lab, tmp_path):
    runs_dir = tmp_path / "runs"
    first = serve_lab(runs_dir)
    url = first.url.rstrip("/")
    with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
        job = client.post("/api/train", json={**LONG_TRAINING, "name": "survivor"}).json()
    pid = job["pid"]
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            wait_until(lambda: epochs_of(client, "survivor") >= 1, "the training to log an epoch")
        first.stop()
        argv = json.loads((runs_dir / ".lab" / "jobs.json").read_text())["jobs"][0]["argv"]
        assert process_runs(pid, argv), "the training stopped with the lab"

        second = serve_lab(runs_dir)
        url = second.url.rstrip("/")
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
            (adopted,) = client.get("/api/jobs").json()["jobs"]
            assert adopted["pid"] == pid and adopted["adopted"] and adopted["status"] == "running"
            seen = epochs_of(client, "survivor")
            assert run_row(client, "survivor")["status"] == "running"
            wait_until(lambda: epochs_of(client, "survivor") > seen, "the new lab to show new epochs")
            assert client.post(f"/api/jobs/{adopted['id']}/stop").status_code == 200
            wait_until(lambda: run_row(client, "survivor")["status"] == "interrupted", "the training to stop")
    finally:
        kill_group(pid)
