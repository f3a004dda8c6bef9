"""Fashion-MNIST's CNN preset: mirrored images, the parameter count, `--preset fashion`."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.cnn.config import CNN_PRESETS, CNNConfig, LayerSpec, parameter_count, seed_layers
from mnistlab.data.augment import flip_images
from mnistlab.errors import ConfigError


def test_flips_mirror_about_half_the_images_and_nothing_else():
    rng = np.random.default_rng(0)
    images = np.zeros((400, 5, 5, 1), np.uint8)
    images[:, 2, 0] = 255  # one pixel at the left edge
    out = flip_images(images, rng)
    flipped = out[:, 2, 4, 0] == 255
    assert out.shape == images.shape and out.dtype == np.uint8
    assert 150 < flipped.sum() < 250  # about half, drawn at random
    assert np.array_equal(out[~flipped], images[~flipped])  # the others are untouched
    assert (out[flipped, 2, 0, 0] == 0).all() and (images[:, 2, 0, 0] == 255).all()  # mirrored; input kept
    assert np.array_equal(out, flip_images(images, np.random.default_rng(0)))  # seeded


def test_the_fashion_preset_is_under_100k_parameters_and_flips():
    preset = CNN_PRESETS["fashion"].validate()
    assert parameter_count(preset.layers) < 100_000
    assert (preset.dataset, preset.flip, preset.shift_pixels) == ("fashion-mnist", True, 1)
    assert CNNConfig().flip is False  # positive control: digits are never mirrored by default
    with pytest.raises(ConfigError, match="flip must be true or false"):
        CNNConfig(flip="yes").validate()


@pytest.mark.cnn
def test_parameter_count_matches_keras():
    pytest.importorskip("keras")
    from mnistlab.cnn.model import build_model

    for layers in (seed_layers(), CNN_PRESETS["fashion"].layers,
                   [LayerSpec("conv", 4, padding="same"), LayerSpec("batchnorm"), LayerSpec("avgpool", kernel=2),
                    LayerSpec("flatten"), LayerSpec("dropout", rate=0.2), LayerSpec("dense", 8)]):
        assert parameter_count(layers) == build_model(CNNConfig(layers=layers)).count_params()


@pytest.mark.cnn
def test_cli_preset_fashion_trains_with_flips(tmp_path, capsys):
    pytest.importorskip("keras")
    import json

    from mnistlab.cli import ExitCode, main

    code = main(["cnn", "train", "--preset", "fashion", "--train-size", "256", "--epochs", "2", "--conv", "4,8",
                 "--dense", "8", "--batch-norm", "--runs-dir", str(tmp_path), "--json", "--quiet"])
    assert code == ExitCode.OK
    config = json.loads((next(tmp_path.iterdir()) / "config.json").read_text())
    assert (config["dataset"], config["flip"], config["schedule"]) == ("fashion-mnist", True, "onecycle")
