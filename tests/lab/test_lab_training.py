"""Trainings started from the lab: the command built from the form, a real background run, and stopping it."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from mnistlab.errors import ConfigError
from mnistlab.lab.training import TrainingJobs, mark_interrupted, train_command
from mnistlab.runs.kinds import get_kind

GENEROUS = 300.0  # seconds for the training to log 2 epochs and to stop, at niceness 10 on a loaded machine


def test_the_form_becomes_a_cli_command(tmp_path):
    argv = train_command({"kind": "mlp", "dataset": "fashion-mnist", "epochs": "3", "train_size": 500,
                          "hidden": "16, 8", "preset": "seed"}, tmp_path, "job")
    assert argv[:5] == [sys.executable, "-m", "mnistlab", "mlp", "train"]
    assert argv[5:] == ["--runs-dir", str(tmp_path), "--name", "job", "--quiet", "--dataset", "fashion-mnist",
                        "--epochs", "3", "--train-size", "500", "--hidden", "16,8", "--preset", "seed"]
    cnn = train_command({"kind": "cnn", "epochs": 1, "conv": "8,16"}, tmp_path, "c")
    assert cnn[3] == "cnn" and cnn[-4:] == ["--conv", "8,16", "--preset", "seed"]


@pytest.mark.parametrize("form, words", [
    ({"kind": "rnn"}, "kind='rnn'"),
    ({"epochs": 0}, "epochs=0"),
    ({"epochs": "5; rm -rf /"}, "epochs="),
    ({"train_size": 10}, "train_size=10"),
    ({"hidden": "16;ls"}, "hidden="),
    ({"kind": "cnn", "hidden": "16"}, "hidden is not an option of the cnn model"),
    ({"kind": "cnn", "preset": "default"}, "preset='default' is not valid; choose one of " + ", ".join(get_kind("cnn").presets)),
    ({"kind": "mlp", "preset": "fast"}, "preset='fast' is not valid; choose one of " + ", ".join(get_kind("mlp").presets)),
    ({"threads": 4}, "unknown training field"),
])
def test_bad_forms_are_refused_with_the_reason(tmp_path, form, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        train_command(form, tmp_path, "job")


def test_a_bad_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="name="):
        TrainingJobs(tmp_path).start({"name": "../escape"})


def test_a_dead_running_run_is_marked_interrupted(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"kind": "mlp", "status": "running"}))
    mark_interrupted(tmp_path)
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "interrupted"
    (tmp_path / "run.json").write_text(json.dumps({"kind": "mlp", "status": "completed"}))
    mark_interrupted(tmp_path)
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "completed"


def test_a_training_started_over_http_runs_in_its_own_group_and_stops_as_interrupted(tmp_path):
    """POST /api/train starts `python -m mnistlab mlp train`; its stop route interrupts it (status interrupted).

    In a runs directory of its own: the session's lab_runs stays as other tests expect it.
    """
    from starlette.testclient import TestClient

    from mnistlab.lab import create_app
    from mnistlab.runs.rundir import RunDir

    runs_dir = tmp_path / "runs"
    other = RunDir.create(runs_dir, "other", "mlp", {"dataset": "mnist", "mlp": {"epochs": 1}}).path
    form = {"kind": "mlp", "train_size": 2000, "hidden": "16", "epochs": 200, "name": "http-stop"}
    with TestClient(create_app(runs_dir, poll_seconds=0.05), base_url="http://127.0.0.1:8765",
                    headers={"Origin": "http://127.0.0.1:8765"}) as lab_client:
        job = lab_client.post("/api/train", json=form)
        assert job.status_code == 202, job.text
        state = job.json()
        assert state["status"] == "running" and os.getpgid(state["pid"]) == state["pid"]  # its own process group
        deadline = time.monotonic() + GENEROUS
        run = None
        while run is None or (run["epochs"] or 0) < 2:
            assert time.monotonic() < deadline, (runs_dir / ".lab" / "http-stop.log").read_text()[-2000:]
            time.sleep(0.2)
            rows = lab_client.get("/api/runs").json()["runs"]
            run = next((r for r in rows if r["name"].endswith("-http-stop")), None)
        assert run["status"] == "running"
        assert lab_client.post(f"/api/runs/{run['name']}/stop").status_code == 200
        while (jobs := lab_client.get("/api/jobs").json()["jobs"])[0]["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert jobs[0]["run"] == run["name"] and jobs[0]["stop_requested"]
        info = json.loads((runs_dir / run["name"] / "run.json").read_text())
        assert info["status"] == "interrupted"
        assert lab_client.post(f"/api/runs/{other.name}/stop").status_code == 404  # not started by the lab


def test_the_kinds_route_lists_every_registered_preset(lab_client):
    from mnistlab.runs.kinds import KINDS

    kinds = {k["name"]: k for k in lab_client.get("/api/kinds").json()["kinds"]}
    assert set(kinds) == set(KINDS) and kinds["cnn"]["presets"] == list(KINDS["cnn"].presets)
    assert "fashion" in kinds["mlp"]["presets"] and kinds["mlp"]["default_preset"] == KINDS["mlp"].default_preset
