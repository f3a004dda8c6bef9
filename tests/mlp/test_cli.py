"""`mnistlab mlp train|eval`: exit codes, messages, the run directory, config round trip."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.mlp.estimator import MLPClassifier

QUICK = ["--train-size", "600", "--epochs", "2", "--lr", "0.01", "--hidden", "16", "--batch-size", "100", "--threads", "1"]


def only_run(runs_dir):
    (run,) = list(runs_dir.iterdir())
    return run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One quick training run shared by the tests that read it: (runs_dir, exit code, stdout)."""
    runs_dir = tmp_path_factory.mktemp("runs")
    capture = tmp_path_factory.mktemp("out") / "stdout.txt"
    import contextlib

    with capture.open("w") as fh, contextlib.redirect_stdout(fh):
        code = main(["mlp", "train", *QUICK, "--runs-dir", str(runs_dir), "--name", "t", "--json"])
    return runs_dir, code, capture.read_text()


def test_train_writes_the_run_directory_and_json_summary(trained):
    runs_dir, code, out = trained
    assert code == 0
    summary = json.loads(out)
    assert summary["model"] == "mlp" and summary["epochs"] == 2 and 0.5 < summary["test_accuracy"] <= 1
    run = only_run(runs_dir)
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.csv", "model.npz", "summary.json", "run.json", "first_layer_weights.png",
            "curves.png"} <= names
    with (run / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert list(rows[0])[:9] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "train_accuracy",
                                 "test_accuracy", "learning_rate", "epoch_seconds"]
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    config = json.loads((run / "config.json").read_text())
    assert config["mlp"]["hidden_sizes"] == [16] and config["train_size"] == 600


def test_config_file_reruns_the_same_training(trained, capsys, tmp_path):
    first = only_run(trained[0])
    again = tmp_path / "again"
    assert main(["mlp", "train", "--config", str(first / "config.json"), "--runs-dir", str(again), "--quiet"]) == 0
    a, b = MLPClassifier.load(first / "model.npz"), MLPClassifier.load(only_run(again) / "model.npz")
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_preset_seed_prints_resolved_config(runs_dir, capsys):
    code = main(["mlp", "train", "--preset", "seed", "--train-size", "500", "--epochs", "1", "--threads", "1",
                 "--runs-dir", str(runs_dir)])
    out = capsys.readouterr().out
    assert code == 0
    config = json.loads(out.splitlines()[0].removeprefix("config: "))
    assert config["mlp"]["hidden_sizes"] == [70, 30] and config["mlp"]["loss"] == "logloss"
    assert config["mlp"]["batch_size"] == 500 and "test accuracy" in out


def test_eval_reports_accuracy_and_per_class(trained, capsys):
    runs_dir = trained[0]
    summary = json.loads((only_run(runs_dir) / "summary.json").read_text())
    capsys.readouterr()
    assert main(["mlp", "eval", str(only_run(runs_dir)), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "mnist" and result["n_images"] == 10000
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert set(result["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert main(["mlp", "eval", str(only_run(runs_dir) / "model.npz")]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_stopping_options_parse_into_the_config():
    from mnistlab.cli.options import resolve_train_config

    def resolve_config(options):
        return resolve_train_config("mlp", options)

    options = {"batch_size": "auto", "n_iter_no_change": "inf", "lr_schedule": "adaptive", "dropout": 0.2}
    mlp = resolve_config(options).mlp
    assert (mlp.batch_size, mlp.n_iter_no_change, mlp.lr_schedule, mlp.dropout) == ("auto", float("inf"),
                                                                                  "adaptive", 0.2)
    assert resolve_config({"n_iter_no_change": "none"}).mlp.n_iter_no_change is None


def test_the_default_presets_shifts_give_way_to_pca_and_kmeans_features():
    from mnistlab.cli.options import resolve_train_config

    def resolve_config(options):
        return resolve_train_config("mlp", options)

    assert resolve_config({}).mlp.shift_pixels == 1
    assert resolve_config({"pca": 50}).mlp.shift_pixels == 0
    assert resolve_config({"clusters": 40}).mlp.shift_pixels == 0
    assert resolve_config({"shift_pixels": 2}).mlp.shift_pixels == 2


@pytest.mark.parametrize("args,message", [
    (["--hidden", "70,0"], "at least one unit"),
    (["--hidden", "a,b"], "--hidden 'a,b' is not valid"),
    (["--lr", "-1"], "learning_rate=-1.0 is not valid"),
    (["--init-intervals", "1-2"], "--init-intervals '1-2' is not valid"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--batch-size", "big"], "--batch-size 'big' is not valid; give a number of rows or auto"),
    (["--n-iter-no-change", "soon"], "--n-iter-no-change 'soon' is not valid"),
    (["--seed", "x"], "--seed 'x' is not valid"),
    (["--dropout", "1"], "dropout=1.0 is not valid"),
    (["--pca", "50", "--shift-pixels", "1"], "PCA / k-means turn them into other features"),
])
def test_bad_options_give_one_line_errors(runs_dir, capsys, args, message):
    code = main(["mlp", "train", *QUICK, *args, "--runs-dir", str(runs_dir), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and message in err
    assert not list(runs_dir.iterdir())


def test_unknown_choice_is_a_usage_error(runs_dir, capsys):
    assert main(["mlp", "train", "--activation", "swish", "--runs-dir", str(runs_dir)]) == 2


def test_divergence_fails_the_run_without_a_model(runs_dir, capsys):
    code = main(["mlp", "train", *QUICK, "--solver", "sgd", "--lr", "1e20", "--l2", "1",
                 "--runs-dir", str(runs_dir), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "diverged in epoch 1: the loss became" in err and "lower the learning rate" in err
    run = only_run(runs_dir)
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"
    assert not (run / "model.npz").exists()


def test_eval_of_missing_or_bad_model(tmp_path, capsys):
    assert main(["mlp", "eval", str(tmp_path / "nope.npz")]) == 1
    assert "no model file" in capsys.readouterr().err
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    assert main(["mlp", "train", "--config", str(bad), "--runs-dir", str(tmp_path / "r")]) == 1
    assert "is not valid JSON" in capsys.readouterr().err
