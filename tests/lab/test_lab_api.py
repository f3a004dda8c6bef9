"""Every route of the lab's JSON API on real runs (Starlette's TestClient)."""

from __future__ import annotations

import importlib.util
import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from mnistlab.data import load
from mnistlab.runs.rundir import RunDir

HAS_KERAS = importlib.util.find_spec("keras") is not None


def vertical_bar(size: int = 140) -> list[list[int]]:
    """A drawn "1": a vertical stroke in the middle of an empty canvas."""
    canvas = np.zeros((size, size), dtype=int)
    canvas[size // 7: size - size // 7, size // 2 - 5: size // 2 + 5] = 255
    return canvas.tolist()


def test_the_page_and_its_assets_are_served_from_the_package(lab_client):
    page = lab_client.get("/")
    assert page.status_code == 200 and "<title>mnistlab lab</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("main.js", "common.js", "runs.js", "run.js", "draw.js", "compare.js", "lab.css",
                  "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css", "vendor/uPlot.LICENSE"):
        assert lab_client.get(f"/static/{asset}").status_code == 200, asset
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: everything from the lab itself


def test_runs_lists_every_run_with_its_state(lab_client, lab_runs):
    rows = {row["name"]: row for row in lab_client.get("/api/runs").json()["runs"]}
    mlp, live = rows[lab_runs["mlp"].name], rows[lab_runs["live"].name]
    assert mlp["kind"] == "mlp" and mlp["status"] == "completed" and mlp["has_model"] and mlp["epochs"] == 5
    assert 0.85 < mlp["test_accuracy"] <= 1
    assert live["status"] == "running" and live["epochs"] == 1 and live["planned_epochs"] == 10
    assert not live["has_model"] and live["test_accuracy"] == 0.5
    assert live["label"] == "live ünï cödé 🚀" and live["name"].endswith("-live-uni-code")  # label as typed; safe folder
    assert mlp["label"] == "draw-mlp"
    assert lab_client.get(f"/api/runs/{live['name']}").json()["row"]["label"] == "live ünï cödé 🚀"  # the run page


def test_one_run_has_curves_config_and_files(lab_client, lab_runs):
    run = lab_client.get(f"/api/runs/{lab_runs['mlp'].name}").json()
    assert run["config"]["mlp"]["hidden_sizes"] == [32]
    assert run["curves"]["epoch"] == [1, 2, 3, 4, 5] and len(run["curves"]["test_accuracy"]) == 5
    assert "curves.png" in run["figures"] and "model.npz" in run["files"]
    assert lab_client.get("/api/runs/no-such-run").status_code == 404


def test_the_confusion_matrix_matches_the_run_summary(lab_client, lab_runs):
    data = lab_client.get(f"/api/runs/{lab_runs['mlp'].name}/confusion").json()
    matrix = np.array(data["matrix"])
    summary = json.loads((lab_runs["mlp"] / "summary.json").read_text())
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert data["accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)
    assert matrix.sum(axis=1).tolist() == np.bincount(load("mnist", "test").labels, minlength=10).tolist()


def test_examples_of_a_cell_and_the_misclassified(lab_client, lab_runs):
    base = f"/api/runs/{lab_runs['mlp'].name}"
    matrix = np.array(lab_client.get(f"{base}/confusion").json()["matrix"])
    cell = lab_client.get(f"{base}/examples?true=4&predicted=9&limit=5").json()
    assert cell["count"] == matrix[4, 9] and set(cell["true"]) <= {4} and set(cell["predicted"]) <= {9}
    assert cell["images"]["n"] == len(cell["index"]) == min(5, matrix[4, 9])
    wrong = lab_client.get(f"{base}/examples").json()
    assert wrong["count"] == matrix.sum() - np.trace(matrix)
    assert all(t != p for t, p in zip(wrong["true"], wrong["predicted"]))
    assert lab_client.get(f"{base}/examples?true=12").status_code == 400


def test_mlp_weights_and_activations(lab_client, lab_runs):
    base = f"/api/runs/{lab_runs['mlp'].name}"
    weights = lab_client.get(f"{base}/weights").json()
    assert weights["layer_sizes"] == [784, 32, 10]
    assert (weights["weights"]["n"], weights["weights"]["h"], weights["weights"]["w"]) == (32, 28, 28)
    acts = lab_client.get(f"{base}/activations?image=0").json()
    assert np.array(acts["image"]).tolist() == load("mnist", "test").images[0].tolist()
    assert [layer["units"] for layer in acts["layers"]] == [32, 10]
    assert sum(acts["layers"][-1]["values"]) == pytest.approx(1, abs=1e-3)
    assert np.argmax(acts["layers"][-1]["values"]) == 7  # the first test image is a 7
    assert lab_client.get(f"{base}/activations?image=10000").status_code == 400
    assert lab_client.get(f"{base}/kernels").status_code == 409  # a CNN-only view of an MLP run


def test_a_drawn_vertical_bar_is_a_one_for_the_mlp(lab_client, lab_runs):
    name = lab_runs["mlp"].name
    response = lab_client.post("/api/predict", json={"image": vertical_bar(), "runs": [name]})
    assert response.status_code == 200
    data = response.json()
    result = data["results"][name]
    assert result["prediction"] == 1 and result["probabilities"][1] > 0.5
    assert [len(h) for h in result["hidden"]] == [32]
    image = np.array(data["input"])
    assert image.shape == (28, 28) and image.max() == 255


def test_an_encoded_drawing_predicts_as_its_rows_do(lab_client, lab_runs):
    from mnistlab.lab.encode import encode_pixels

    name = lab_runs["mlp"].name
    bar = np.array(vertical_bar(), dtype=np.uint8)
    as_rows = lab_client.post("/api/predict", json={"image": bar.tolist(), "runs": [name]}).json()
    encoded = lab_client.post("/api/predict", json={"image": encode_pixels(bar), "runs": [name]}).json()
    assert encoded["input"] == as_rows["input"] and encoded["results"] == as_rows["results"]


def test_predict_takes_a_ready_28x28_image(lab_client, lab_runs):
    test = load("mnist", "test")
    name = lab_runs["mlp"].name
    data = lab_client.post("/api/predict", json={"image": test.images[0].tolist(), "preprocess": False,
                                                 "runs": [name], "details": False}).json()
    assert data["input"] == test.images[0].tolist() and data["results"][name]["prediction"] == 7
    assert "hidden" not in data["results"][name]


@pytest.mark.parametrize("body, status, words", [
    ({"image": "not an image", "runs": []}, 400, "list of rows"),
    ({"image": [[0] * 28] * 28, "runs": ["no-such-run"]}, 404, "no run"),
    ({"image": [[300] * 28] * 28, "runs": []}, 400, "0..255"),
    ({"image": [[0] * 20] * 20, "preprocess": False, "runs": []}, 400, "28x28"),
    ({"image": [[0] * 28] * 28, "runs": "one"}, 400, "list of up to"),
])
def test_bad_predict_requests_say_what_is_wrong(lab_client, body, status, words):
    response = lab_client.post("/api/predict", json=body)
    assert response.status_code == status and words in response.json()["error"]


def test_a_run_without_a_model_cannot_predict(lab_client, lab_runs):
    response = lab_client.post("/api/predict", json={"image": vertical_bar(), "runs": [lab_runs["live"].name]})
    assert response.status_code == 409 and "no model.npz" in response.json()["error"]


def test_compare_overlays_runs_and_marks_config_differences(lab_client, lab_runs):
    a, b = lab_runs["mlp"].name, lab_runs["mlp_small"].name
    data = lab_client.get(f"/api/compare?runs={a},{b}").json()
    assert [run["name"] for run in data["runs"]] == [a, b]
    assert len(data["runs"][0]["curves"]["loss"]) == 5 and len(data["runs"][1]["curves"]["loss"]) == 3
    rows = {row["key"]: row for row in data["config"]}
    assert rows["hidden_sizes"]["differs"] and rows["hidden_sizes"]["values"] == [[32], [16]]
    assert not rows["dataset"]["differs"]
    assert lab_client.get(f"/api/compare?runs={a}").status_code == 400


def test_the_event_stream_sends_the_table_then_each_new_epoch(tmp_path):
    """The first event holds the whole table; later ones only the runs that changed.

    Its runs are its own: a new epoch in the session's lab_runs would change what other tests see.
    """
    from starlette.testclient import TestClient

    from mnistlab.lab import create_app

    runs_dir = tmp_path / "runs"
    run = RunDir.create(runs_dir, "live", "mlp", {"dataset": "mnist", "mlp": {"epochs": 10}})
    run.log_epoch({"epoch": 1, "loss": 1.0, "test_accuracy": 0.5})
    RunDir.create(runs_dir, "still", "mlp", {"dataset": "mnist", "mlp": {"epochs": 10}})  # unchanged: not resent
    with TestClient(create_app(runs_dir, poll_seconds=0.05), base_url="http://127.0.0.1:8765") as client, \
            client.stream("GET", "/api/events?max_events=2&max_seconds=20") as stream:
        events = []
        for line in stream.iter_lines():
            if line.startswith("data: "):
                payload = json.loads(line[6:])
                events.append({r["name"]: r for r in payload["runs" if not events else "rows"]})
                if len(events) == 1:
                    time.sleep(0.1)
                    run.log_epoch({"epoch": len(events) + 1, "loss": 0.8, "test_accuracy": 0.6})
    name = run.path.name
    assert len(events) == 2 and len(events[0]) == 2 and list(events[1]) == [name]
    assert events[1][name]["epochs"] == events[0][name]["epochs"] + 1
    assert events[1][name]["test_accuracy"] == 0.6


@pytest.mark.cnn
@pytest.mark.skipif(not HAS_KERAS, reason="needs the [cnn] extra")
def test_cnn_kernels_maps_and_predictions(lab_client, lab_runs):
    name = lab_runs["cnn"].name
    base = f"/api/runs/{name}"
    kernels = lab_client.get(f"{base}/kernels").json()["kernels"]
    assert (kernels["n"], kernels["h"], kernels["w"], kernels["signed"]) == (4, 3, 3, True)
    maps = lab_client.get(f"{base}/maps?image=0").json()
    assert [layer["name"] for layer in maps["layers"]] == ["conv1", "pool1", "conv2", "pool2", "conv3"]
    assert [layer["maps"]["n"] for layer in maps["layers"]] == [4, 4, 8, 8, 8]
    assert sum(maps["probabilities"]) == pytest.approx(1, abs=1e-3)
    result = lab_client.post("/api/predict", json={"image": vertical_bar(), "runs": [name]}).json()["results"][name]
    assert result["kind"] == "cnn" and [m["name"] for m in result["maps"]] == ["conv1", "conv2", "conv3"]
    strongest = result["last_conv"]["strongest"]
    assert result["last_conv"]["name"] == "conv3" and [s["mean"] for s in strongest] == sorted(
        (s["mean"] for s in strongest), reverse=True)
    confusion = lab_client.get(f"{base}/confusion").json()
    assert np.array(confusion["matrix"]).sum() == 10000


@pytest.mark.cnn
@pytest.mark.skipif(not HAS_KERAS, reason="needs the [cnn] extra")
def test_the_oip_gallery_is_computed_once_and_kept_in_the_run(lab_client, lab_runs):
    lab_client.app.state.lab.oips.steps = 5
    base = f"/api/runs/{lab_runs['cnn'].name}/oip?layer=conv2"
    stored = lab_runs["cnn"] / "lab_oip_conv2.npz"
    stored.unlink(missing_ok=True)
    assert lab_client.get(base).json()["status"] == "none"
    started = lab_client.post(base)
    assert started.status_code == 202 and started.json()["status"] in ("running", "done")
    deadline = time.monotonic() + 120
    while (status := lab_client.get(base).json())["status"] == "running":
        assert time.monotonic() < deadline, "the OIP job did not finish"
        assert status["done"] <= status["total"] or status["total"] == 0
        time.sleep(0.2)
    assert status["status"] == "done" and status["maps"] == list(range(8)) and status["images"]["n"] == 8
    assert stored.is_file()
    assert lab_client.post(base).json()["status"] == "done"  # kept: not computed again
    assert lab_client.post(base.replace("conv2", "nolayer")).status_code == 400
    assert lab_client.get(base.replace("conv2", "../x")).status_code == 400


def test_mlp_drawings_do_not_wait_behind_the_other_drawings(lab_client, lab_runs):
    """Once a run is known to be an MLP, its drawings go to a thread of their own (a CNN batch takes 5-50 ms)."""
    import threading

    lab, name = lab_client.app.state.lab, lab_runs["mlp"].name
    body = {"image": vertical_bar(), "runs": [name]}
    assert lab.draw_queue(body) is lab.draws  # not known yet: the shared thread loads the model
    assert lab_client.post("/api/predict", json=body).status_code == 200
    assert lab.draw_queue(body) is lab.mlp_draws
    assert lab.draw_queue({"image": vertical_bar(), "runs": [name, "other"]}) is lab.draws
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def busy() -> None:  # holds the shared thread until released (or 10 s)
        held.set()
        release.wait(10)
        done.set()

    lab.draws._thread.submit(busy)
    try:
        assert held.wait(5)
        response = lab_client.post("/api/predict", json=body)
        assert response.status_code == 200 and response.json()["results"][name]["prediction"] == 1
        assert not done.is_set()  # answered while the shared thread was still held
    finally:
        release.set()
