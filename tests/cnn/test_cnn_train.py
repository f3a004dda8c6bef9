"""train / evaluate on tiny Fashion-MNIST slices: history, schedules, reproducibility, divergence."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mnistlab.cnn.evaluate import evaluate, predict, score
from mnistlab.cnn.train import split_validation, train
from mnistlab.errors import ConfigError, TrainingDiverged

pytest.importorskip("keras")
pytestmark = pytest.mark.cnn


def test_train_records_one_row_per_epoch_and_learns(fashion_slice, small_config):
    x, y, x_test, y_test = fashion_slice
    rows = []
    result = train(dataclasses.replace(small_config, epochs=3), x, y, on_epoch=rows.append)
    assert rows == result.history and [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                            "epoch_seconds"}
    assert rows[-1]["loss"] < rows[0]["loss"]
    scores = evaluate(result.model, x_test, y_test)
    assert scores.accuracy > 0.3  # 10 classes: chance is 0.1
    assert scores.confusion.sum() == len(y_test)
    assert np.allclose(np.nansum(scores.per_class_accuracy * np.bincount(y_test, minlength=10)),
                       scores.accuracy * len(y_test))


def test_same_seed_same_history_other_seed_differs(fashion_slice, small_config):
    x, y, _, _ = fashion_slice
    config = dataclasses.replace(small_config, train_size=256)
    losses = [[r["loss"] for r in train(dataclasses.replace(config, seed=s), x, y).history]
              for s in (7, 7, 8)]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


@pytest.mark.parametrize("schedule, expected", [
    ("step", lambda lr, e: lr * 0.5 ** (e // 2)),
    ("exponential", lambda lr, e: lr * 0.5 ** e),
    ("cosine", lambda lr, e: lr * 0.5 * (1 + math.cos(math.pi * e / 3))),
])
def test_schedules_set_the_epoch_learning_rate(fashion_slice, small_config, schedule, expected):
    x, y, _, _ = fashion_slice
    config = dataclasses.replace(small_config, schedule=schedule, epochs=3, step_epochs=2, decay_rate=0.5,
                                 optimizer="adam", learning_rate=1e-3, train_size=128)
    rates = [r["learning_rate"] for r in train(config, x, y).history]
    assert rates == pytest.approx([expected(1e-3, e) for e in range(3)], rel=1e-5)


def test_plateau_schedule_and_early_stopping_watch_val_loss(fashion_slice, small_config):
    x, y, _, _ = fashion_slice
    # A learning rate this small cannot improve val_loss by Keras' min_delta: both callbacks must fire.
    config = dataclasses.replace(small_config, optimizer="rmsprop", learning_rate=1e-9, schedule="plateau",
                                 plateau_patience=1, epochs=6, early_stopping=2, train_size=128)
    result = train(config, x, y)
    rates = [r["learning_rate"] for r in result.history]
    assert result.stopped_early and len(result.history) < 6
    assert rates[-1] < rates[0]


def test_divergence_is_reported(fashion_slice, small_config):
    x, y, _, _ = fashion_slice
    with pytest.raises(TrainingDiverged, match="lower the learning rate: --lr "):
        train(dataclasses.replace(small_config, optimizer="sgd", learning_rate=1e12, momentum=0.99, epochs=1,
                                  train_size=128), x, y)


def test_bad_labels_and_images(fashion_slice, small_config):
    x, y, _, _ = fashion_slice
    with pytest.raises(ConfigError, match="labels must have shape"):
        train(small_config, x, y[:10])
    with pytest.raises(ConfigError, match="images must have shape"):
        train(small_config, x.reshape(len(x), -1), y)


def test_predict_rejects_wrong_shapes(fashion_slice, small_config):
    x, y, _, _ = fashion_slice
    model = train(dataclasses.replace(small_config, epochs=1), x, y).model
    assert predict(model, x[:5]).shape == (5,)
    with pytest.raises(ConfigError, match=r"\(5, 32, 32\)"):
        predict(model, np.zeros((5, 32, 32), dtype=np.uint8))


def test_split_and_score_helpers():
    images, labels = np.arange(20).reshape(20, 1), np.arange(20) % 10
    (fit_x, _), (val_x, _) = split_validation(images, labels, 0.25, random_state=0)
    assert len(val_x) == 5 and len(fit_x) == 15
    assert sorted(np.concatenate([fit_x, val_x]).ravel()) == list(range(20))
    scores = score(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), n_classes=3)
    assert scores.accuracy == 0.75 and scores.per_class_accuracy[:2].tolist() == [0.5, 1.0]
    assert np.isnan(scores.per_class_accuracy[2])


def test_batchnorm_momentum_lets_a_short_training_forget_its_start():
    from mnistlab.cnn.model import BN_MOMENTUM, batchnorm_momentum

    assert batchnorm_momentum(None) == batchnorm_momentum(1000) == batchnorm_momentum(10**6) == BN_MOMENTUM
    assert batchnorm_momentum(188) == pytest.approx(1 - 10 / 188) and batchnorm_momentum(5) == 0.0
    for steps in (20, 188, 999):  # what is left of the starting averages after the training's steps
        assert batchnorm_momentum(steps) ** steps <= math.exp(-10) * 1.01


def test_a_short_batch_norm_training_predicts_as_well_as_it_trains(fashion_slice, small_config, monkeypatch):
    """48 steps: at Keras' 0.99 the moving averages stay near their start and the test accuracy near chance."""
    import mnistlab.cnn.model as cnn_model
    from mnistlab.cnn.config import CNN_PRESETS

    x, y, x_test, y_test = fashion_slice
    config = CNN_PRESETS["fast"].replace(dataset="fashion-mnist", epochs=3, batch_size=32, train_size=512)
    result = train(config, x, y)
    norm = next(layer for layer in result.model.layers if layer.__class__.__name__ == "BatchNormalization")
    assert norm.momentum == pytest.approx(1 - 10 / 48)
    trained, tested = result.history[-1]["accuracy"], evaluate(result.model, x_test, y_test).accuracy
    assert trained > 0.6 and tested > trained - 0.15, (trained, tested)
    monkeypatch.setattr(cnn_model, "batchnorm_momentum", lambda steps: cnn_model.BN_MOMENTUM)  # as before
    before = train(config, x, y)
    assert evaluate(before.model, x_test, y_test).accuracy < tested - 0.2
