"""Two CNN runs side by side: /api/match on real runs (a run against a copy of itself, and a sweep's seeds)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="the CNN needs Keras")


@pytest.fixture(scope="module")
def twin_runs(lab_runs, tmp_path_factory):
    """A runs directory with the tiny CNN twice (a pair whose maps match exactly), an MLP, and a sweep of three."""
    runs_dir = tmp_path_factory.mktemp("match") / "runs"
    runs_dir.mkdir()
    for name in ("cnn-a", "cnn-b"):
        shutil.copytree(lab_runs["cnn"], runs_dir / name)
    shutil.copytree(lab_runs["mlp_small"], runs_dir / "mlp")
    sweep = runs_dir / "seeds"
    sweep.mkdir()
    trials = []
    for k in range(3):
        shutil.copytree(lab_runs["cnn"], sweep / f"trial-{k}")
        trials.append({"trial": str(k), "status": "completed", "run_dir": str(sweep / f"trial-{k}"), "seed": k})
    (sweep / "sweep.json").write_text(json.dumps({"spec": {}, "status": "completed", "trials": trials}))
    return runs_dir


@pytest.fixture
def client(twin_runs):
    from starlette.testclient import TestClient

    from mnistlab.lab import create_app

    app = create_app(twin_runs, poll_seconds=0.05)
    app.state.lab.matches.oip_steps = 3  # short ascents: the test checks the plumbing, not the patterns
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"Origin": "http://127.0.0.1:8765"}) as c:
        yield c


def finish(client, url: str) -> dict:
    assert client.post(url, json={}).status_code == 202
    deadline = time.monotonic() + 300
    while (status := client.get(url).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status["status"] == "done", status
    return status


@pytest.mark.slow  # OIP ascents and activations of four networks
def test_a_run_matched_with_its_copy_pairs_every_map_with_itself(client, twin_runs):
    url = "/api/match?runs=cnn-a,cnn-b&layer=conv2&image=5"
    assert client.get(url).json() == {"status": "none", "conv_layers": ["conv1", "conv2", "conv3"], "layer_asked": "conv2"}
    result = finish(client, url)
    maps = result["maps"]
    assert result["layer"] == "conv2" and len(maps["partner"]) == 8
    alive = [k for k, c in enumerate(maps["correlation"]) if c > 0]  # a dead map correlates 0 with everything
    assert alive and all(maps["partner"][k] == k and maps["correlation"][k] > 0.999 for k in alive)
    assert np.median(maps["untrained"]) < np.median(maps["correlation"])  # the baseline sits below
    assert result["oips"]["a"]["n"] == result["oips"]["b"]["n"] == 8 and len(result["oips"]["correlation"]) == 8
    pair = result["maps_of_image"]
    assert result["image_index"] == 5 and pair["a"]["n"] == pair["b"]["n"] == 8
    assert pair["a"]["data"] == pair["b"]["data"]  # the same weights: B's partner maps are A's maps
    assert (twin_runs / "cnn-a" / "lab_match_conv2_cnn-b.json").is_file()  # kept in A's run directory


@pytest.mark.slow  # OIP ascents and activations of four networks
def test_a_sweeps_seeds_get_the_pairs_mean_against_untrained(client, twin_runs):
    result = finish(client, "/api/match?sweep=seeds")
    assert result["kind"] == "seeds" and result["n_models"] == 3 and len(result["pairs"]) == 3
    assert [layer["layer"] for layer in result["layers"]] == ["conv1", "conv2", "conv3"]
    assert all(layer["mean"] > layer["untrained_mean"] for layer in result["layers"])
    assert (twin_runs / "seeds" / "lab_match_seeds.json").is_file()


@pytest.mark.parametrize("url, status, words", [
    ("/api/match?runs=cnn-a", 400, "compares two runs"),
    ("/api/match?runs=cnn-a,cnn-b&layer=dense1", 400, "choose one of conv1, conv2, conv3"),
    ("/api/match?runs=cnn-a,mlp", 409, "is a mlp run"),
    ("/api/match?runs=cnn-a,nope", 404, "no run 'nope'"),
    ("/api/match?sweep=nope", 404, "no sweep 'nope'"),
    ("/api/match?sweep=cnn-a", 404, "no sweep 'cnn-a'"),
])
def test_bad_matchings_are_one_line(client, url, status, words):
    reply = client.get(url)
    assert reply.status_code == status and words in reply.json()["error"] and "\n" not in reply.json()["error"]
