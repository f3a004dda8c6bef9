"""`mnistlab cnn compare` over N trainings (or a sweep's trials): pairwise matching, mean ± sd per layer."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import main


@pytest.fixture(scope="module")
def other_run(mnist_slices, make_config, tmp_path_factory):
    """A second training of the tiny CNN from another seed, as a run directory."""
    pytest.importorskip("keras")
    from mnistlab.cnn.io import save_model
    from mnistlab.cnn.train import train

    images, labels, _, _ = mnist_slices
    run = tmp_path_factory.mktemp("other")
    (run / "run.json").write_text(json.dumps({"kind": "cnn", "name": "other", "status": "completed"}))
    (run / "config.json").write_text(json.dumps({"dataset": "mnist"}))
    save_model(train(make_config(seed=7), images, labels).model, run / "model.keras")
    return run


def _summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_three_models_give_pairwise_mean_and_sd(tiny_model_file, other_run, capsys):
    run = tiny_model_file.parent
    assert main(["cnn", "compare", str(run), str(run), str(other_run), "--n-images", "50", "--layer", "conv1",
                 "--json"]) == 0
    summary = _summary(capsys)
    (conv1,) = summary["layers"]
    assert summary["n_models"] == 3 and summary["pairs"] == [[0, 1], [0, 2], [1, 2]]
    same, a_other, b_other = conv1["pair_medians"]
    assert same == pytest.approx(1.0, abs=1e-4) and a_other == pytest.approx(b_other) and a_other < 1
    assert conv1["sd"] > 0 and conv1["mean"] == pytest.approx((same + 2 * a_other) / 3, abs=1e-4)
    assert conv1["untrained_mean"] < conv1["mean"]


def test_a_sweep_directory_stands_for_its_completed_trials(tiny_model_file, other_run, tmp_path, capsys):
    trials = [{"trial": f"t{i}", "status": status, "run_dir": str(path)} for i, (status, path) in
              enumerate([("completed", tiny_model_file.parent), ("completed", other_run),
                         ("completed", other_run), ("stopped", tiny_model_file.parent)])]
    (tmp_path / "sweep.json").write_text(json.dumps({"spec": {}, "trials": trials}))
    assert main(["cnn", "compare", str(tmp_path), "--n-images", "50", "--layer", "conv1", "--json"]) == 0
    summary = _summary(capsys)
    assert summary["n_models"] == 3  # the stopped trial is left out
    assert summary["layers"][0]["pair_medians"][2] == pytest.approx(1.0, abs=1e-4)  # other_run with itself


def test_compare_needs_two_models(tiny_model_file, tmp_path, capsys):
    assert main(["cnn", "compare", str(tiny_model_file)]) == 1
    assert "compare needs two or more models" in capsys.readouterr().err
    (tmp_path / "sweep.json").write_text(json.dumps({"spec": {}, "trials": []}))
    assert main(["cnn", "compare", str(tmp_path)]) == 1
    assert "fewer than two completed trials" in capsys.readouterr().err
