"""`mnistlab demo --quick`: the main job end to end, in a temporary runs directory."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import main

pytestmark = [pytest.mark.cnn, pytest.mark.slow]  # the whole main job: about a minute
pytest.importorskip("keras")


def test_quick_demo_trains_both_models_looks_inside_and_reports(tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    assert main(["demo", "--quick", "--runs-dir", str(runs_dir)]) == 0
    captured = capsys.readouterr()
    report = runs_dir / "demo-report.html"
    assert captured.out.splitlines()[-1] == str(report) and "mnist" in captured.out
    runs = {path.name.split("-", 2)[-1]: path for path in runs_dir.iterdir() if path.is_dir()}
    assert set(runs) == {"demo-mlp-seed", "demo-cnn"}
    mlp = json.loads((runs["demo-mlp-seed"] / "summary.json").read_text())
    cnn = json.loads((runs["demo-cnn"] / "summary.json").read_text())
    assert mlp["epochs"] == 3 and mlp["test_accuracy"] > 0.5
    assert cnn["epochs"] == 1 and cnn["test_accuracy"] > 0.9
    assert (runs["demo-cnn"] / "feature_maps_img0_conv1.png").exists()
    assert (runs["demo-cnn"] / "oip_conv3.png").exists()
    page = report.read_text()
    assert "demo-mlp-seed" in page and "demo-cnn" in page and "oip_conv3" in page
    assert "\r" not in captured.err and "epoch 3/3" in captured.err
    assert not (tmp_path / "insight").exists()
