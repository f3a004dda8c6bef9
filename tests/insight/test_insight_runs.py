"""mnistlab.runs.insight: the analyses as library functions, and where their figures go by default."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.cnn
pytest.importorskip("keras")

from mnistlab.insight.oip import OIPConfig  # noqa: E402
from mnistlab.runs.insight import compare_of, feature_maps_of, oips_of  # noqa: E402


def test_figures_go_into_the_run_directory_by_default(tiny_model_file, tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    summary = feature_maps_of(tiny_model_file.parent, images=[1], layers=["conv1"])
    assert summary["folders"] == [str(tiny_model_file.parent)]
    assert (tiny_model_file.parent / "feature_maps_img1_conv1.png").exists()
    assert not list(tmp_path.iterdir())  # nothing written in the working directory
    assert capfd.readouterr() == ("", "")


def test_a_model_outside_a_run_writes_into_runs_insight(tiny_model_file, tmp_path, monkeypatch):
    loose = tmp_path / "loose" / "model.keras"
    loose.parent.mkdir()
    shutil.copy(tiny_model_file, loose)
    monkeypatch.chdir(tmp_path)
    steps = []
    summary = oips_of(loose, layer="conv1", maps=[0], config=OIPConfig(steps=3, starts=((7, 0.3),)),
                      on_step=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert summary["figures"] == ["runs/insight/oip_conv1_map0.png"]
    assert (tmp_path / "runs" / "insight" / "oip_conv1_map0.png").exists()


def test_compare_defaults_to_insight_beside_the_run(tiny_model_file):
    summary = compare_of(tiny_model_file, tiny_model_file, layers=["conv1"], oip=False, n_images=20)
    folder = tiny_model_file.parent.parent / "insight"
    assert summary["folders"] == [str(folder)] and (folder / "compare_activation.png").exists()
    assert summary["activation"][0]["matched"]["median"] == pytest.approx(1.0, abs=1e-4)
