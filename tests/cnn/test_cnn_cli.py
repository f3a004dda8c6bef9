"""`mnistlab cnn train|eval` and `mnistlab env`: exit codes, messages, the run directory."""

from __future__ import annotations

import json

import pytest

from mnistlab.cli import ExitCode, main

pytest.importorskip("keras")
pytestmark = pytest.mark.cnn
TINY = ["--dataset", "fashion-mnist", "--epochs", "1", "--train-size", "256", "--conv", "4,8", "--dense", "16",
        "--optimizer", "adam", "--lr", "0.003", "--validation-split", "0.25", "--quiet"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny CLI training run shared by the tests that read it: (exit code, stdout JSON, run dir)."""
    runs = tmp_path_factory.mktemp("runs")
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["cnn", "train", *TINY, "--runs-dir", str(runs), "--name", "tiny", "--json"])
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    return code, summary, next(runs.iterdir())


def test_train_writes_the_run_directory(trained_run):
    code, summary, run = trained_run
    assert code == ExitCode.OK
    assert {"model", "dataset", "epochs", "test_accuracy", "train_seconds"} <= set(summary)
    assert summary["epochs"] == 1 and 0.0 <= summary["test_accuracy"] <= 1.0
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.csv", "model.keras", "summary.json", "run.json", "curves.png",
            "confusion_matrix.png"} <= names
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert json.loads((run / "config.json").read_text())["layers"][0] == {
        "kind": "conv", "size": 4, "kernel": 3, "stride": 1, "padding": "valid", "activation": "relu",
        "rate": 0.0, "name": None}


def test_eval_reproduces_the_test_accuracy(trained_run, capsys):
    _, summary, run = trained_run
    assert main(["cnn", "eval", str(run), "--json"]) == ExitCode.OK
    scores = json.loads(capsys.readouterr().out)
    assert scores["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert len(scores["per_class_accuracy"]) == 10 and len(scores["confusion_matrix"]) == 10
    assert main(["cnn", "eval", str(run / "model.keras"), "--dataset", "fashion-mnist"]) == ExitCode.OK
    text = capsys.readouterr().out
    assert "accuracy" in text and "Ankle boot" in text and "confusion matrix" in text


def test_config_file_reruns_the_same_config(trained_run, tmp_path, capsys):
    _, _, run = trained_run
    code = main(["cnn", "train", "--config", str(run / "config.json"), "--epochs", "0", "--runs-dir", str(tmp_path)])
    assert code == ExitCode.ERROR
    assert "error: epochs must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--conv", "8", "--kernel", "30"], "kernel 30x30 is larger than its 28x28 input"),
    (["--dense", "-4"], "size (units) must be at least 1, got -4"),
    (["--backend", "theano"], "unknown Keras backend 'theano'"),
    (["--validation-split", "0", "--early-stopping", "2"], "early_stopping needs a validation set"),
    (["--threads", "0"], "threads must be at least 1"),
])
def test_train_rejects_bad_options_in_one_line(args, message, tmp_path, capsys):
    assert main(["cnn", "train", *TINY, "--runs-dir", str(tmp_path), *args]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing recorded for a run that never started


def test_uninstalled_backend_is_a_clear_error(monkeypatch, tmp_path, capsys):
    from mnistlab.cnn import backend

    monkeypatch.setattr(backend, "installed_backends", lambda: ["torch"])
    assert main(["cnn", "train", *TINY, "--runs-dir", str(tmp_path), "--backend", "jax"]) == ExitCode.ERROR
    assert "Keras backend 'jax' is not installed (installed: torch)" in capsys.readouterr().err


def test_gpu_request_without_gpu_is_a_clear_error(tmp_path, capsys):
    from mnistlab.cnn.backend import gpu_devices, resolve_backend

    if gpu_devices(resolve_backend()):
        pytest.skip("this machine has a GPU")
    assert main(["cnn", "train", *TINY, "--runs-dir", str(tmp_path), "--device", "gpu"]) == ExitCode.ERROR
    assert "finds no GPU" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_eval_of_a_non_model_file(tmp_path, capsys):
    bogus = tmp_path / "model.keras"
    bogus.write_text("hello")
    assert main(["cnn", "eval", str(bogus), "--dataset", "mnist"]) == ExitCode.ERROR
    assert "is not a Keras model file" in capsys.readouterr().err


def test_interrupted_training_leaves_no_model(monkeypatch, tmp_path, capsys):
    from mnistlab.runs import training

    def interrupt(config, images, labels, *, on_epoch=None, on_batch=None, **resume):
        on_epoch({"epoch": 1, "loss": 1.0, "accuracy": 0.5, "learning_rate": 0.1, "epoch_seconds": 1.0})
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "fit_cnn", interrupt)
    assert main(["cnn", "train", *TINY, "--runs-dir", str(tmp_path)]) == ExitCode.INTERRUPTED
    run = next(tmp_path.iterdir())
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert json.loads((run / "summary.json").read_text())["epochs"] == 1
    assert not list(run.glob("*.keras")) and not list(run.glob(".*"))


def test_env_reports_backends_and_threads(capsys):
    assert main(["env", "--json", "--no-devices"]) == ExitCode.OK
    info = json.loads(capsys.readouterr().out)
    assert info["keras_backends"]["torch"]["installed"] is True
    assert info["keras_backend_selected"] in ("tensorflow", "torch", "jax")
    assert "cpus_usable" in info["threads"] and isinstance(info["blas"], list)
    assert main(["env", "--no-devices"]) == ExitCode.OK
    text = capsys.readouterr().out
    assert "keras:" in text and "blas:" in text and "threads" in text


def test_env_lists_devices_of_the_loaded_backend():
    from mnistlab.cnn.backend import import_keras
    from mnistlab.env import backend_devices

    devices = backend_devices(import_keras().backend.backend())
    assert devices and devices[0].startswith("cpu")


def test_divergence_fails_the_run_without_a_model(tmp_path, capsys):
    args = ["cnn", "train", *TINY, "--runs-dir", str(tmp_path), "--optimizer", "sgd", "--lr", "1e12",
            "--momentum", "0.99", "--train-size", "128"]
    assert main(args) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "error: training diverged in epoch 1: the loss became nan; lower the learning rate: --lr 1e+12 was" in err
    run = next(tmp_path.iterdir())
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"
    assert not list(run.glob("*.keras"))
