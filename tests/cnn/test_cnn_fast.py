"""The CNN's fast road: shift augmentation, warm-up schedules, label smoothing, `--preset fast`."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from mnistlab.bench.recipes import Recipe, learning_rate_at
from mnistlab.cli import ExitCode, main
from mnistlab.data.augment import shift_images
from mnistlab.cnn.config import CNN_PRESETS, CNNConfig
from mnistlab.errors import ConfigError


def test_shifts_move_whole_images_by_at_most_max_shift():
    rng = np.random.default_rng(0)
    images = np.zeros((200, 9, 9), np.uint8)
    images[:, 4, 4] = 255  # one bright pixel in the middle of each image
    out = shift_images(images, 2, rng)
    assert out.shape == images.shape and out.dtype == np.uint8
    rows, cols = np.nonzero(out.reshape(200, -1) == 255)[1] // 9, np.nonzero(out.reshape(200, -1) == 255)[1] % 9
    assert out.reshape(200, -1).sum(axis=1).tolist() == [255] * 200  # nothing lost, nothing added
    assert set(rows) == set(cols) == {2, 3, 4, 5, 6}  # every offset in [-2, 2] occurs
    assert images[:, 4, 4].tolist() == [255] * 200  # the input is untouched
    again = shift_images(images, 2, np.random.default_rng(0))
    assert np.array_equal(out, again)


def test_no_shift_is_a_copy_and_edges_fill_with_zeros():
    images = np.full((3, 4, 4, 1), 1.0, np.float32)
    same = shift_images(images, 0, np.random.default_rng(0))
    assert np.array_equal(same, images) and same is not images
    shifted = shift_images(images, 1, np.random.default_rng(1))
    assert shifted.min() == 0.0 and shifted.max() == 1.0


@pytest.mark.parametrize("shape, warmup", [("constant", 3), ("cosine", 4), ("onecycle", 5), ("cosine", 0)])
def test_keras_warmup_schedule_matches_the_recipe_function(shape, warmup):
    pytest.importorskip("keras")
    from mnistlab.cnn.backend import import_keras
    from mnistlab.cnn.schedules import warmup_schedule

    keras = import_keras()
    steps_per_epoch, epochs = 5, 4
    recipe = Recipe(schedule=shape, warmup_epochs=warmup / steps_per_epoch, max_epochs=epochs, learning_rate=0.01)
    schedule = warmup_schedule(keras, 0.01, epochs * steps_per_epoch, warmup, shape)
    got = [float(keras.ops.convert_to_numpy(schedule(step))) for step in range(epochs * steps_per_epoch)]
    want = [learning_rate_at(recipe, step, steps_per_epoch) for step in range(epochs * steps_per_epoch)]
    assert got == pytest.approx(want, rel=1e-5, abs=1e-9)


def test_onecycle_needs_a_warmup_inside_the_run():
    with pytest.raises(ConfigError, match="set 0 < warmup_epochs < epochs"):
        CNNConfig(schedule="onecycle", warmup_epochs=0.0).validate()
    with pytest.raises(ConfigError, match="label_smoothing must be < 1"):
        CNNConfig(label_smoothing=1.0).validate()


def test_fast_preset_is_small_and_the_seed_preset_is_the_default():
    assert CNN_PRESETS["seed"] == CNNConfig()
    fast = CNN_PRESETS["fast"].validate()
    assert [spec.kind for spec in fast.layers] == ["conv", "batchnorm", "maxpool", "conv", "batchnorm", "maxpool",
                                                   "flatten", "dense"]
    assert (fast.schedule, fast.epochs, fast.batch_size) == ("onecycle", 3, 256)
    assert [spec.size for spec in fast.layers if spec.kind in ("conv", "dense")] == [16, 32, 128]


@pytest.mark.cnn
def test_train_with_smoothing_shifts_and_onecycle_learns(fashion_slice, small_config):
    pytest.importorskip("keras")
    from mnistlab.cnn.train import train

    x, y, _, _ = fashion_slice
    config = dataclasses.replace(small_config, epochs=4, schedule="onecycle", warmup_epochs=1.0, learning_rate=0.01,
                                 label_smoothing=0.1, shift_pixels=1)
    result = train(config, x, y)
    rows = result.history
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["val_accuracy"] > 0.3
    steps = -(-384 // 32)  # 384 images after the 25% hold-out, batch 32
    assert rows[0]["learning_rate"] == pytest.approx(0.01 / steps, rel=1e-4)  # the ramp's first step
    assert rows[1]["learning_rate"] == pytest.approx(0.01, rel=1e-4)  # the peak, after one warm-up epoch


@pytest.mark.cnn
def test_cli_preset_fast_and_its_conflict_with_config(tmp_path, capsys):
    pytest.importorskip("keras")
    code = main(["cnn", "train", "--preset", "fast", "--dataset", "fashion-mnist", "--train-size", "512",
                 "--epochs", "2", "--shift-pixels", "1", "--runs-dir", str(tmp_path), "--json", "--quiet"])
    assert code == ExitCode.OK
    run = next(tmp_path.iterdir())
    config = json.loads((run / "config.json").read_text())
    assert (config["schedule"], config["label_smoothing"], config["shift_pixels"], config["epochs"]) == (
        "onecycle", 0.1, 1, 2)
    assert [layer["kind"] for layer in config["layers"]][:2] == ["conv", "batchnorm"]
    capsys.readouterr()
    assert main(["cnn", "train", "--preset", "fast", "--config", str(run / "config.json")]) != ExitCode.OK
    assert "give one of them" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.cnn
def test_fast_preset_reaches_99_percent_on_mnist(tmp_path, capsys):
    pytest.importorskip("keras")
    code = main(["cnn", "train", "--preset", "fast", "--runs-dir", str(tmp_path), "--json", "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == ExitCode.OK
    # Seed 0 reaches 99.11%; the preset's 99.0% claim is a median over seeds (benchmarks/README.md),
    # and one seed can land a tenth of a point either side, so this guard sits just below it.
    assert summary["test_accuracy"] >= 0.988, summary
