"""The epoch slider's routes on real runs: the model as it was at each kept epoch."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from mnistlab.runs.snapshots import load_snapshot, snapshot_epochs

HAS_KERAS = importlib.util.find_spec("keras") is not None
needs_keras = pytest.mark.skipif(not HAS_KERAS, reason="the CNN needs Keras")


def pixels(stack: dict) -> np.ndarray:
    import base64
    return np.frombuffer(base64.b64decode(stack["data"]), dtype=np.uint8)


def test_a_run_lists_its_kept_epochs_and_the_views_of_its_kind(lab_client, lab_runs):
    data = lab_client.get(f"/api/runs/{lab_runs['mlp'].name}/epochs").json()
    assert data == {"epochs": [0, 1, 2, 3, 4, 5], "views": ["weights"]}
    live = lab_client.get(f"/api/runs/{lab_runs['live'].name}/epochs").json()
    assert live["epochs"] == []  # recorded by hand, before any weights were kept


def test_the_mlp_weights_change_from_epoch_0_to_the_last(lab_client, lab_runs):
    base = f"/api/runs/{lab_runs['mlp'].name}"
    first, last = (lab_client.get(f"{base}/epochs/{e}/weights").json() for e in (0, 5))
    assert first["epoch"] == 0 and first["weights"]["n"] == 32 and (first["weights"]["h"], first["weights"]["w"]) == (28, 28)
    assert not np.array_equal(pixels(first["weights"]), pixels(last["weights"]))
    final = lab_client.get(f"{base}/weights").json()  # the last epoch's weights are the final model's
    assert np.abs(pixels(final["weights"]).astype(int) - pixels(last["weights"]).astype(int)).max() <= 1


def test_a_bad_epoch_is_one_line(lab_client, lab_runs):
    base = f"/api/runs/{lab_runs['mlp'].name}/epochs"
    for url, status, words in ((f"{base}/x/weights", 400, "not a whole number"), (f"{base}/-1/weights", 400, "negative"),
                               (f"{base}/99/weights", 404, "keeps epochs 0..5"),
                               (f"{base}/1/kernels", 409, "show weights, not kernels")):
        reply = lab_client.get(url)
        assert reply.status_code == status and words in reply.json()["error"], url
        assert "\n" not in reply.json()["error"]
    assert lab_client.get("/api/runs/no-such-run/epochs").status_code == 404


@needs_keras
def test_the_cnn_kernels_and_maps_at_epoch_0_are_the_initial_ones(lab_client, lab_runs):
    run = lab_runs["cnn"]
    base = f"/api/runs/{run.name}"
    assert lab_client.get(f"{base}/epochs").json() == {"epochs": [0, 1], "views": ["kernels", "maps", "oip"]}
    start, end = (lab_client.get(f"{base}/epochs/{e}/kernels").json()["kernels"] for e in (0, 1))
    assert start["n"] == 4 and not np.array_equal(pixels(start), pixels(end))
    assert pixels(end).tolist() == pixels(lab_client.get(f"{base}/kernels").json()["kernels"]).tolist()
    kernel0 = load_snapshot(run, 0)["w000"]  # (3, 3, 1, 4): the initial kernels, as the page gets them
    assert np.abs(kernel0).max() == pytest.approx(start["scale"], rel=1e-5)
    maps = lab_client.get(f"{base}/epochs/0/maps?image=3").json()
    assert maps["epoch"] == 0 and [layer["name"] for layer in maps["layers"]][0].startswith("conv")
    assert lab_client.get(f"{base}/epochs/0/maps?image=99999").status_code == 400


@needs_keras
@pytest.mark.slow  # an OIP ascent in a background thread
def test_an_epochs_oips_are_computed_on_request_and_kept_in_the_run(lab_client, lab_runs):
    import time

    run = lab_runs["cnn"]
    url = f"/api/runs/{run.name}/epochs/0/oip?layer=conv1"
    assert lab_client.get(url).json()["status"] == "none"
    lab_client.app.state.lab.oips.steps = 3  # a short ascent: the test checks the plumbing, not the patterns
    assert lab_client.post(url, json={}).status_code == 202
    deadline = time.monotonic() + 120
    while (status := lab_client.get(url).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status["status"] == "done" and status["images"]["n"] == 4
    assert (run / "lab_oip_conv1_epoch0.npz").is_file()
    assert lab_client.post(f"/api/runs/{run.name}/epochs/7/oip?layer=conv1", json={}).status_code == 404


def test_the_snapshots_are_small(lab_runs):
    """Epoch 0 to the last, the MLP's first layer only, float16: 784 x 32 x 2 bytes each (plus the .npz frame)."""
    run = lab_runs["mlp"]
    assert snapshot_epochs(run) == [0, 1, 2, 3, 4, 5]
    first = load_snapshot(run, 0)["first_layer"]
    assert first.dtype == np.float16 and first.shape == (784, 32)
    assert all((run / "weights" / f"epoch-{e}.npz").stat().st_size < 784 * 32 * 2 + 1024 for e in range(6))
