"""train_mlp_run, train_cnn_run and evaluate_run: run-level library functions that never print."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mnistlab.cnn.config import CNNConfig, LayerSpec
from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.run import MLPRunConfig
from mnistlab.runs.evaluation import evaluate_run
from mnistlab.runs.training import save_history, train_cnn_run, train_mlp_run

QUICK_MLP = MLPRunConfig(dataset="mnist", scaler="unit", train_size=600,
                         mlp=MLPConfig(hidden_sizes=(16,), learning_rate=0.01, batch_size=100, epochs=4,
                                       solver="adam", n_iter_no_change=None, random_state=0))


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """A quick MLP run stopped by its on_epoch after epoch 2: (summary, rows seen, batch calls)."""
    rows, batches = [], []

    def on_epoch(row):
        rows.append(row)
        return row["epoch"] == 2

    summary = train_mlp_run(QUICK_MLP, runs_dir=str(tmp_path_factory.mktemp("runs")), name="stop",
                            on_epoch=on_epoch, on_batch=lambda done, total: batches.append((done, total)))
    return summary, rows, batches


def test_mlp_run_stops_when_on_epoch_returns_true(mlp_run):
    summary, rows, batches = mlp_run
    assert [r["epoch"] for r in rows] == [1, 2]
    assert summary["epochs"] == 2 and summary["stopped"] is True
    assert batches[:6] == [(k, 6) for k in range(1, 7)] and len(batches) == 12
    run_dir = summary["run_dir"]
    with open(f"{run_dir}/run.json") as fh:
        assert json.load(fh)["status"] == "stopped"
    with open(f"{run_dir}/summary.json") as fh:
        assert json.load(fh)["test_accuracy"] == pytest.approx(summary["test_accuracy"])


def test_mlp_run_runs_all_epochs_and_prints_nothing(runs_dir, capfd):
    summary = train_mlp_run(dataclasses.replace(QUICK_MLP, mlp=dataclasses.replace(QUICK_MLP.mlp, epochs=1)),
                            runs_dir=str(runs_dir))
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert "stopped" not in summary and summary["epochs"] == 1
    assert summary["run_dir"].endswith("-mlp-mnist")
    assert json.loads((runs_dir.iterdir().__next__() / "run.json").read_text())["status"] == "completed"


def test_evaluate_run_scores_an_mlp_run_like_training(mlp_run):
    summary = mlp_run[0]
    result = evaluate_run(summary["run_dir"])
    assert result["kind"] == "mlp" and result["dataset"] == "mnist" and result["n_images"] == 10000
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert len(result["confusion_matrix"]) == 10 and sum(map(sum, result["confusion_matrix"])) == 10000
    assert set(result["per_class_accuracy"]) == {str(d) for d in range(10)}


def test_evaluate_run_rejects_what_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="holds no model.npz or model.keras"):
        evaluate_run(tmp_path)
    with pytest.raises(ModelFileError, match=r"is not a model file \(model.npz or model.keras\)"):
        evaluate_run(tmp_path / "weights.txt")
    with pytest.raises(ConfigError, match="unknown split"):
        evaluate_run(tmp_path, split="validation")


@pytest.mark.cnn
def test_cnn_run_stops_when_on_epoch_returns_true_and_evaluates(runs_dir):
    pytest.importorskip("keras")
    layers = [LayerSpec("conv", 4), LayerSpec("maxpool", kernel=2, stride=0), LayerSpec("flatten"),
              LayerSpec("dense", 8)]
    config = CNNConfig(dataset="fashion-mnist", layers=layers, epochs=3, batch_size=64, optimizer="adam",
                       learning_rate=0.003, schedule="none", validation_split=0.25, train_size=256)
    batches = []
    summary = train_cnn_run(config, runs_dir=str(runs_dir), on_epoch=lambda row: row["epoch"] == 1,
                            on_batch=lambda done, total: batches.append((done, total)))
    assert summary["epochs"] == 1 and summary["stopped"] is True and summary["stopped_early"] is False
    assert batches == [(1, 3), (2, 3), (3, 3)]
    assert json.loads((runs_dir.iterdir().__next__() / "run.json").read_text())["status"] == "stopped"
    result = evaluate_run(summary["run_dir"])
    assert result["kind"] == "cnn" and result["dataset"] == "fashion-mnist"
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])


def test_save_history_as_csv_or_json(tmp_path):
    history = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}]
    assert save_history(history, tmp_path / "h.csv").read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
    assert json.loads(save_history(history, tmp_path / "h.json").read_text())[1]["loss"] == 0.25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv", "h.json"]
