"""The runs table over many runs: the index kept in step with the files, queries, columns and export."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from mnistlab.lab.runs_index import RunIndex
from mnistlab.lab.selection import columns_for, differing_options, select
from mnistlab.runs.rundir import RunDir


def make_run(runs_dir, name, *, lr=0.001, hidden=(16,), accuracy=0.9, status="completed"):
    """A real-format MLP run (written by RunDir) with one epoch and, unless running, a summary."""
    config = {"dataset": "mnist", "scaler": "unit", "mlp": {"learning_rate": lr, "hidden_sizes": list(hidden),
                                                            "epochs": 3, "solver": "adam"}}
    run = RunDir.create(runs_dir, name, "mlp", config)
    run.log_epoch({"epoch": 1, "loss": 0.5, "test_accuracy": accuracy})
    if status != "running":
        run.finish({"model": "mlp", "dataset": "mnist", "epochs": 1, "test_accuracy": accuracy}, status)
    return run


@pytest.fixture
def runs_dir(tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "fast", lr=0.01, accuracy=0.95)
    make_run(runs, "slow", lr=0.0001, accuracy=0.85)
    make_run(runs, "wide", lr=0.001, hidden=(64,), accuracy=0.99)
    return runs


def test_the_index_rereads_only_the_runs_whose_files_changed(runs_dir):
    index = RunIndex(runs_dir, min_interval=0)
    rows = {r["name"].split("-", 2)[-1]: r for r in index.rows()}
    assert set(rows) == {"fast", "slow", "wide"} and rows["wide"]["options"]["hidden_sizes"] == [64]
    assert rows["fast"]["metrics"]["test_accuracy"] == 0.95
    version = index.version
    assert index.changes(version).rows == []                    # nothing changed: nothing to send
    live = make_run(runs_dir, "live", status="running")
    changes = index.changes(version)
    assert [r["name"] for r in changes.rows] == [live.path.name] and changes.removed == []
    live.log_epoch({"epoch": 2, "loss": 0.4, "test_accuracy": 0.93})
    changes = index.changes(changes.version)
    assert [(r["name"], r["epochs"]) for r in changes.rows] == [(live.path.name, 2)]
    for child in live.path.iterdir():
        child.unlink()
    live.path.rmdir()
    assert index.changes(changes.version).removed == [live.path.name]


def test_the_index_shows_a_run_whose_process_died_as_interrupted(runs_dir):
    import subprocess
    import sys

    trainer = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    live = make_run(runs_dir, "killed", status="running")
    live.update_info(pid=trainer.pid)  # trained by another process
    index = RunIndex(runs_dir, min_interval=0)
    assert {r["name"]: r["status"] for r in index.rows()}[live.path.name] == "running"
    trainer.kill()  # SIGKILL: no file of the run changes after this
    trainer.wait()
    trainer.stdin.close()
    index.refresh(force=True)
    assert {r["name"]: r["status"] for r in index.rows()}[live.path.name] == "interrupted"


def test_select_keeps_the_matching_runs_and_names_the_options_that_differ(runs_dir):
    rows = RunIndex(runs_dir).rows()
    selection = select(rows, "lr >= 0.001 and test_accuracy > 0.9")
    assert sorted(r["name"].split("-", 2)[-1] for r in selection.rows) == ["fast", "wide"]
    assert selection.differing == ["hidden_sizes", "learning_rate"]
    assert differing_options(rows[:1]) == []
    assert columns_for(selection)[-2:] == ["hidden_sizes", "learning_rate"]
    assert columns_for(selection, "name,solver") == ["name", "solver"]


@pytest.fixture
def client(runs_dir):
    pytest.importorskip("starlette", reason="the lab needs the [lab] extra")
    from starlette.testclient import TestClient

    from mnistlab.lab import create_app

    with TestClient(create_app(runs_dir, poll_seconds=0.05), base_url="http://127.0.0.1:8765") as client:
        yield client


def test_a_query_filters_the_runs_route(client):
    data = client.get("/api/runs", params={"q": 'model == "mlp" and lr < 0.005'}).json()
    assert sorted(r["name"].split("-", 2)[-1] for r in data["runs"]) == ["slow", "wide"]
    assert data["differing"] == ["hidden_sizes", "learning_rate"]
    assert "learning_rate" in data["fields"] and "test_accuracy" in data["fields"]
    assert len(client.get("/api/runs").json()["runs"]) == 3      # positive control: no query, every run


@pytest.mark.parametrize("query, problem", [
    ("test_accuracy >", "not valid syntax"),
    ("open('x')", "calls are not allowed"),
    ("modle == 'mlp'", "no run has a field 'modle'"),
])
def test_a_bad_query_is_a_400_with_one_line(client, query, problem):
    response = client.get("/api/runs", params={"q": query})
    assert response.status_code == 400 and problem in response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_a_page_asked_again_is_sent_as_encoded_until_a_run_changes(client, runs_dir):
    params = {"q": "test_accuracy > 0.9"}
    first = client.get("/api/runs", params=params).json()
    pages = client.app.state.lab.pages
    assert pages.get((first["cursor"], params["q"], "")) is not None      # kept, by cursor and query
    assert client.get("/api/runs", params=params).json() == first
    make_run(runs_dir, "better", accuracy=0.97)
    time.sleep(0.06)                                                      # past the index's poll interval
    after = client.get("/api/runs", params=params).json()
    assert after["cursor"] != first["cursor"] and len(after["runs"]) == len(first["runs"]) + 1


def test_the_export_holds_the_shown_rows_and_columns(client):
    params = {"q": "test_accuracy > 0.9", "columns": "name,learning_rate,hidden_sizes,test_accuracy"}
    response = client.get("/api/export", params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="runs.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted((r["learning_rate"], r["hidden_sizes"]) for r in rows) == [("0.001", "[64]"), ("0.01", "[16]")]
    data = client.get("/api/export", params={**params, "format": "json"}).json()
    assert data["columns"] == params["columns"].split(",") and len(data["runs"]) == 2
    assert json.loads(client.get("/api/export", params={"format": "json"}).text)["runs"][0].keys() >= {"name", "status"}


@pytest.mark.parametrize("params, problem", [
    ({"format": "xlsx"}, "not an export format"),
    ({"format": "csv", "q": "1 +"}, "not valid syntax"),
    ({"format": "csv", "columns": "name,nope"}, "no run has a column 'nope'"),
])
def test_a_bad_export_is_a_400(client, params, problem):
    response = client.get("/api/export", params=params)
    assert response.status_code == 400 and problem in response.json()["error"]


def test_the_event_stream_from_a_cursor_sends_only_later_changes(client, runs_dir):
    cursor = client.get("/api/runs").json()["cursor"]
    live = make_run(runs_dir, "late", status="running")
    with client.stream("GET", f"/api/events?since={cursor}&max_events=1&max_seconds=20") as stream:
        lines = [line for line in stream.iter_lines() if line.startswith(("event:", "data:"))]
    assert lines[0] == "event: rows"
    assert [r["name"] for r in json.loads(lines[1][6:])["rows"]] == [live.path.name]
    with client.stream("GET", "/api/events?since=another-lab:3&max_events=1&max_seconds=20") as stream:
        first = next(line for line in stream.iter_lines() if line.startswith("event:"))
    assert first == "event: runs"                                # a cursor of another lab: the whole table


def test_a_finished_run_resumed_is_read_again(runs_dir):
    """Finished runs are only stat'ed as folders: replacing run.json (as resume does) must still be seen."""
    index = RunIndex(runs_dir, min_interval=0)
    rows = {r["name"]: r for r in index.rows()}
    name = next(n for n in rows if n.endswith("-fast"))
    assert rows[name]["status"] == "completed"
    version = index.version
    RunDir(runs_dir / name).set_status("running")
    assert [r["name"] for r in index.changes(version).rows] == [name]
    assert {r["name"]: r for r in index.rows()}[name]["status"] == "running"
