"""The lab's sweep routes over HTTP: a sweep as one row with its trials, its page's data, importance, start and stop."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from mnistlab.lab import create_app  # noqa: E402
from mnistlab.lab.importance import MIN_TRIALS, option_importance  # noqa: E402
from mnistlab.sweep.results import SweepTable  # noqa: E402

SPEC = {"name": "lrs", "model": "mlp", "dataset": "mnist", "metric": "test_accuracy", "mode": "max",
        "search": "grid", "seeds": [0], "fixed": {"train_size": 1000, "epochs": 2}, "space": {"lr": [0.001, 0.1]}}


@pytest.fixture(scope="module")
def sweep_runs(tmp_path_factory, mlp_trainer) -> dict[str, Path]:
    """A runs directory holding a plain run and a sweep: two completed trials, one stopped, one pending."""
    runs_dir = tmp_path_factory.mktemp("sweeps") / "runs"
    runs_dir.mkdir()
    plain = mlp_trainer(runs_dir, "plain", train_size=1000, hidden=(8,), epochs=2)
    sweep_dir = runs_dir / "20260101-000000-lrs"
    sweep_dir.mkdir()
    table = SweepTable(sweep_dir, SPEC)
    for trial, hidden, epochs, status in (("t0", 16, 2, "completed"), ("t1", 8, 2, "completed"),
                                           ("t2", 4, 1, "stopped")):
        run = mlp_trainer(sweep_dir, f"trial-{trial}", train_size=1000, hidden=(hidden,), epochs=epochs)
        accuracy = json.loads((run / "summary.json").read_text())["test_accuracy"]
        table.update(trial, status=status, seed=0, params={"hidden": str(hidden)}, run_dir=str(run), epochs=epochs,
                     final=accuracy, best=accuracy)
    table.update("t3", status="pending", params={"hidden": "2"}, seed=0)
    table.status = "running"
    table.save()
    return {"dir": runs_dir, "plain": plain, "sweep": sweep_dir}


@pytest.fixture
def client(sweep_runs):
    from starlette.testclient import TestClient

    app = create_app(sweep_runs["dir"], poll_seconds=0.05)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"Origin": "http://127.0.0.1:8765"}) as test_client:
        yield test_client


def test_a_sweep_is_one_row_and_its_trials_are_rows_under_it(client, sweep_runs):
    rows = {row["name"]: row for row in client.get("/api/runs").json()["runs"]}
    sweep = rows[sweep_runs["sweep"].name]
    assert sweep["kind"] == "sweep" and sweep["trials"] == 4 and sweep["status"] == "running"
    trials = [row for row in rows.values() if row.get("sweep") == sweep["name"]]
    assert len(trials) == 3 and all(row["name"].startswith(sweep["name"] + "~") for row in trials)
    assert sweep["best_run"] in rows and sweep["best"] == max(t["test_accuracy"] for t in trials)
    assert sweep["test_accuracy"] == rows[sweep["best_run"]]["test_accuracy"]
    assert "hidden_sizes" not in sweep["options"] and sweep["options"]["train_size"] == 1000  # shared only
    assert rows[sweep_runs["plain"].name].get("sweep") is None


def test_a_trial_has_a_run_page_and_files_like_any_run(client, sweep_runs):
    rows = client.get("/api/runs").json()["runs"]
    name = next(row["name"] for row in rows if row.get("sweep"))
    run = client.get(f"/api/runs/{name}").json()
    assert run["row"]["status"] == "completed" and len(run["curves"]["test_accuracy"]) >= 1
    assert client.get(f"/runs/{name}/config.json").status_code == 200
    for bad in (f"{sweep_runs['plain'].name}~x", "a~b~c", f"{sweep_runs['sweep'].name}~..", "~"):
        assert client.get(f"/api/runs/{bad}").status_code == 404, bad


def test_the_sweep_page_has_trials_curves_options_and_the_best_trial(client, sweep_runs):
    data = client.get(f"/api/sweeps/{sweep_runs['sweep'].name}").json()
    assert data["metric"] == "test_accuracy" and data["status"] == "running" and data["options"] == ["hidden"]
    trials = {t["trial"]: t for t in data["trials"]}
    assert trials["t3"]["status"] == "pending" and trials["t3"]["run"] is None
    assert trials["t2"]["pruned"] and not trials["t0"]["pruned"]
    assert set(data["curves"]) == {"t0", "t1", "t2"} and len(data["curves"]["t2"]["values"]) == 1
    best = max((t for t in data["trials"] if t["final"] is not None), key=lambda t: t["final"])
    assert data["best"]["trial"] == best["trial"] and data["best"]["run"] == best["run"]
    assert client.get(f"/api/runs/{data['best']['run']}").status_code == 200  # one click to its run page
    assert data["job"] is None


def test_unknown_sweeps_and_plain_runs_are_not_sweeps(client, sweep_runs):
    for name in ("nope", sweep_runs["plain"].name, "..", ".lab"):
        assert client.get(f"/api/sweeps/{name}").status_code == 404, name
        assert client.get(f"/api/sweeps/{name}/importance").status_code == 404, name
    answer = client.post(f"/api/sweeps/{sweep_runs['sweep'].name}/stop", json={})
    assert answer.status_code == 404 and "not started by this lab" in answer.json()["error"]


def test_importance_with_too_few_trials_says_so_instead_of_a_number(client, sweep_runs):
    data = client.get(f"/api/sweeps/{sweep_runs['sweep'].name}/importance").json()
    assert data["importance"] is None and "too few" in data["reason"] and data["n"] == 3


def test_importance_finds_the_option_that_drives_the_metric():
    rng = np.random.default_rng(0)
    rows = [{"options": {"lr": float(lr), "batch": int(rng.choice([32, 128])), "act": str(rng.choice(["a", "b"]))},
             "final": 0.9 - 5 * abs(np.log10(lr) + 2.5) / 10 + rng.normal(0, 0.002)}
            for lr in 10 ** rng.uniform(-4, -1, size=16)]
    result = option_importance(rows, ["lr", "batch", "act"], "val_accuracy")
    assert [r["option"] for r in result["importance"]][0] == "lr"
    assert result["importance"][0]["mean"] > 5 * max(r["mean"] for r in result["importance"][1:])
    assert "permutation_importance" in result["method"] and "16 finished trials" in result["method"]
    assert option_importance(rows[:MIN_TRIALS - 1], ["lr"], "val_accuracy")["importance"] is None


def test_the_shipped_specs_are_listed_with_their_text(client):
    data = client.get("/api/sweeps").json()
    names = {spec["name"] for spec in data["specs"]}
    assert {"mlp_quick", "cnn_seeds"} <= names and data["jobs"] == []
    assert all(spec["about"] and "[space]" in spec["text"] for spec in data["specs"])


@pytest.mark.parametrize("body, line", [
    ({}, "give either spec"),
    ({"spec": "nope"}, "is not a shipped spec"),
    ({"spec": "mlp_quick", "toml": "x = 1"}, "not both"),
    ({"toml": "x = 1", "name": "n"}, "unknown field(s) name"),
    ({"toml": "#" * 70000}, "paste at most"),
])
def test_a_bad_start_request_is_400_with_one_line(client, body, line):
    answer = client.post("/api/sweeps", json=body)
    assert answer.status_code == 400 and line in answer.json()["error"] and "\n" not in answer.json()["error"]


@pytest.mark.slow  # each starts the CLI (a few seconds of imports on a busy machine)
@pytest.mark.parametrize("toml, line", [
    ('model = "mlp"\n[space\nlr = [0.1]\n', "is not valid TOML"),
    ('model = "mlp"\nspeed = 3\n[space]\nlr = [0.1]\n', "unknown key 'speed' in the spec"),
    ('model = "mlp"\n[space]\nlr = { loguniform = [1e-3, 1e-1] }\n', "grid search takes lists only"),
])
def test_a_bad_pasted_spec_is_400_with_the_clis_line(client, sweep_runs, toml, line):
    """The lab starts `mnistlab sweep` on the pasted spec; the CLI refuses it, and its error line is the answer."""
    answer = client.post("/api/sweeps", json={"toml": toml})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert line in error and "\n" not in error and not error.startswith("error:")
    assert client.get("/api/sweeps").json()["jobs"] == []  # nothing left running


@pytest.mark.slow
def test_a_started_sweep_can_be_stopped_and_is_marked_interrupted(tmp_path):
    """POST /api/sweeps starts the CLI; once its sweep directory exists, stop interrupts it."""
    from starlette.testclient import TestClient

    toml = "\n".join(['model = "mlp"', 'metric = "loss"', 'mode = "min"', "[fixed]", "train_size = 500",
                      "epochs = 200", 'hidden = "8"', "[space]", "lr = [0.001, 0.002]", ""])
    app = create_app(tmp_path / "runs", poll_seconds=0.05)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"Origin": "http://127.0.0.1:8765"}) as client:
        job = client.post("/api/sweeps", json={"toml": toml})
        assert job.status_code == 202, job.text
        name = job.json()["sweep"]
        assert name and client.get(f"/api/sweeps/{name}").json()["job"]["status"] == "running"
        assert client.post(f"/api/sweeps/{name}/stop", json={}).json()["stop_requested"]
        deadline = time.monotonic() + 120
        while client.get(f"/api/sweeps/{name}").json()["status"] == "running":
            assert time.monotonic() < deadline, "the sweep did not stop"
            time.sleep(0.5)
        assert client.get(f"/api/sweeps/{name}").json()["status"] == "interrupted"
        assert client.get("/api/sweeps").json()["jobs"][0]["status"] == "exited"


def test_the_sweep_scripts_and_the_shipped_specs_come_with_the_page(client):
    page = client.get("/").text
    for asset in ("sweep.js", "parallel.js"):
        assert f"/static/{asset}" in page and client.get(f"/static/{asset}").status_code == 200
    spec = next(s for s in client.get("/api/sweeps").json()["specs"] if s["name"] == "mlp_quick")
    assert 'search = "random"' in spec["text"] and "ASHA" in spec["about"]
