"""The divergence rule: each clause fires on its own case and stays quiet on healthy training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.data import load
from mnistlab.divergence import chance_loss, divergence_reason
from mnistlab.errors import TrainingDiverged
from mnistlab.mlp.estimator import MLPClassifier


@pytest.mark.parametrize("losses, accuracy, clause", [
    ([2.0, math.nan], 0.5, "became nan"),
    ([2.0, math.inf], 0.5, "became inf"),
    ([1e11], 0.14, "exploded"),
    ([3.0, 40.0], 0.3, "grew from 3 to 40"),
    ([13.4, 14.5], 0.0995, "at chance"),
])
def test_each_clause_names_its_reason(losses, accuracy, clause):
    assert clause in divergence_reason(losses, accuracy, n_classes=10)


@pytest.mark.parametrize("losses, accuracy", [
    ([2.15, 1.84, 1.61], 0.65),             # healthy
    ([2.31, 2.30], 0.11),                     # slow start near the guessing loss: not diverged
    ([10.6, 6.5, 6.2], 0.10),                 # at chance but the loss falls
    ([40.0], 0.1),                            # one bad epoch, below the explosion level
])
def test_healthy_or_slow_training_is_not_diverged(losses, accuracy):
    assert divergence_reason(losses, accuracy, n_classes=10) is None


def test_non_finite_weights_and_chance_levels():
    assert "weight" in divergence_reason([2.0], 0.5, n_classes=10, weights_finite=False)
    assert chance_loss("cross_entropy", 10) == pytest.approx(math.log(10))
    assert chance_loss("logloss", 2) == pytest.approx(2 * math.log(2))


@pytest.mark.parametrize("extra", [
    ["--hidden", "16", "--epochs", "2", "--lr", "1e6"],
    # The issue's example ran on the default of its day, which had L2 5e-4: that penalty explodes.
    # Without it, RMSprop at 1e6 is a bad training (19% accuracy, loss 13), not a divergence by the rule.
    ["--hidden", "16", "--epochs", "2", "--lr", "1e6", "--solver", "rmsprop", "--l2", "5e-4"],
    ["--hidden", "16", "--epochs", "3", "--lr", "1e6", "--l2", "0"],
    ["--preset", "seed", "--epochs", "2", "--lr", "1e3"],
])
def test_issue_examples_now_fail_and_record_diverged(tmp_path, capsys, extra):
    code = main(["mlp", "train", "--train-size", "2000", *extra, "--quiet", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: training diverged in epoch") and "\n" not in err
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"
    assert (run / "metrics.csv").is_file(), "the epochs before the stop are kept"


def test_the_api_raises_on_divergence():
    train = load("mnist", "train")
    X, y = train.images[:1000].reshape(1000, -1) / 255.0, train.labels[:1000]
    with pytest.raises(TrainingDiverged, match="diverged in epoch"):
        MLPClassifier(hidden_sizes=(16,), epochs=3, learning_rate=1e6, n_iter_no_change=None, random_state=0).fit(X, y)
    healthy = MLPClassifier(hidden_sizes=(16,), epochs=3, n_iter_no_change=None, random_state=0).fit(X, y)
    assert np.isfinite(healthy.coefs_[0]).all()


@pytest.mark.cnn
def test_cnn_at_lr_1e6_diverges(tmp_path, capsys):
    pytest.importorskip("keras")
    code = main(["cnn", "train", "--dataset", "mnist", "--epochs", "2", "--train-size", "256", "--conv", "4",
                 "--dense", "8", "--lr", "1e6", "--validation-split", "0", "--quiet", "--runs-dir", str(tmp_path)])
    assert code == 1 and "training diverged in epoch" in capsys.readouterr().err
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"
