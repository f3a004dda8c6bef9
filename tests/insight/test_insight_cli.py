"""`mnistlab cnn maps|patterns|oip|compare`: exit codes, JSON summaries, figures, one-line errors."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import main

pytestmark = pytest.mark.cnn
pytest.importorskip("keras")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_maps_writes_figures_to_out_and_the_run_dir(tiny_model_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["cnn", "maps", str(tiny_model_file), "--image", "3", "--out", str(out), "--json", "--quiet"])
    assert code == 0
    summary = _json(capsys)
    assert summary["dataset"] == "mnist" and summary["images"] == [3]
    assert set(summary["layers"]) == {"conv1", "pool1", "conv2", "pool2", "conv3"}
    assert (out / "feature_maps_img3_conv1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "feature_maps_kernels.png").exists()
    assert (tiny_model_file.parent / "feature_maps_img3_pool2.png").exists()  # the run report shows it


def test_oip_of_chosen_maps_and_its_figure(tiny_model_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["cnn", "oip", str(tiny_model_file), "--layer", "conv2", "--map", "0", "--map", "3",
                 "--steps", "4", "--start", "7:0.3", "--out", str(out), "--json", "--quiet"])
    assert code == 0
    summary = _json(capsys)
    assert [m["map"] for m in summary["maps"]] == [0, 3] and summary["layer"] == "conv2"
    assert all(m["activation"] >= m["start_activation"] for m in summary["maps"])
    assert (out / "oip_conv2_map0-3.png").exists() and (tiny_model_file.parent / "oip_conv2_map0-3.png").exists()


def test_patterns_reports_three_accuracies(tiny_model_file, tmp_path, capsys):
    code = main(["cnn", "patterns", str(tiny_model_file), "--train-size", "300", "--out", str(tmp_path), "--json"])
    assert code == 0
    summary = _json(capsys)
    assert summary["layer"] == "conv3" and summary["n_train"] == 300 and summary["n_test"] == 10000
    assert 0.5 < summary["head_accuracy"] <= 1 and 0.3 < summary["probe_accuracy"] <= 1
    assert (tmp_path / "patterns_conv3.png").exists()


def test_compare_a_model_with_itself(tiny_model_file, tmp_path, capsys):
    code = main(["cnn", "compare", str(tiny_model_file), str(tiny_model_file), "--no-oip", "--n-images", "50",
                 "--layer", "conv1", "--out", str(tmp_path), "--dataset", "fashion-mnist", "--json"])
    assert code == 0
    summary = _json(capsys)
    (conv1,) = summary["activation"]
    assert summary["dataset"] == "fashion-mnist" and conv1["matched"]["median"] == pytest.approx(1.0, abs=1e-4)
    assert conv1["matched"]["median"] > conv1["baseline_untrained"]["median"]
    assert (tmp_path / "compare_activation.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["oip", "{model}", "--layer", "conv9"], "no layer named 'conv9'; valid layers: 0:input, 1:conv1"),
    (["oip", "{model}", "--layer", "conv3", "--map", "16"], "map index 16 is out of range for layer 'conv3': valid 0..15"),
    (["maps", "{model}", "--image", "10000"], "image index 10000 is out of range"),
    (["maps", "{npz}"], "is an MLP model (.npz)"),
    (["oip", "{model}", "--layer", "conv3", "--start", "seven"], "is not WAVELENGTH:AMPLITUDE"),
])
def test_bad_input_is_one_clear_line(tiny_model_file, tmp_path, capsys, argv, message):
    npz = tmp_path / "model.npz"
    npz.write_bytes(b"")
    argv = [a.format(model=tiny_model_file, npz=npz) for a in argv]
    assert main(["cnn", *argv, "--out", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
