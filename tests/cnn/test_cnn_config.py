"""CNNConfig / LayerSpec: defaults, shape inference, validation messages, JSON round trip."""

from __future__ import annotations

import json

import pytest

from mnistlab.cnn.config import CNNConfig, LayerSpec, layer_names, layer_output_shapes, parse_layers
from mnistlab.errors import ConfigError

pytestmark = pytest.mark.cnn


def test_default_is_the_seed_network():
    config = CNNConfig().validate()
    assert layer_names(config.layers) == ["conv1", "pool1", "conv2", "pool2", "conv3", "flatten", "dense1"]
    assert layer_output_shapes(config.layers) == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64),
                                                  (3, 3, 64), (576,), (64,)]


def test_same_padding_and_strides_shapes():
    layers = [LayerSpec("conv", 8, kernel=5, stride=2, padding="same"), LayerSpec("avgpool", kernel=3, stride=0),
              LayerSpec("flatten")]
    assert layer_output_shapes(layers) == [(14, 14, 8), (4, 4, 8), (128,)]


@pytest.mark.parametrize("layers, message", [
    ([LayerSpec("conv", 8, kernel=29)], "kernel 29x29 is larger than its 28x28 input"),
    ([LayerSpec("conv", 8), LayerSpec("maxpool", kernel=2, stride=0)] * 3 + [LayerSpec("conv", 8, kernel=5)],
     "larger than its 1x1 input"),
    ([LayerSpec("conv", -3)], "size (filters) must be at least 1, got -3"),
    ([LayerSpec("flatten"), LayerSpec("dense", 0)], "size (units) must be at least 1"),
    ([LayerSpec("dense", 10)], "needs a flat input"),
    ([LayerSpec("flatten"), LayerSpec("conv", 4)], "comes after flatten"),
    ([LayerSpec("conv", 4, padding="full")], "padding must be one of valid, same"),
    ([LayerSpec("lstm", 4)], "unknown kind"),
    ([LayerSpec("flatten"), LayerSpec("dropout", rate=1.0)], "rate must be < 1.0"),
    ([], "at least one hidden layer"),
])
def test_invalid_architectures_name_the_problem(layers, message):
    with pytest.raises(ConfigError) as info:
        CNNConfig(layers=layers).validate()
    assert message in str(info.value)


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"learning_rate": -0.1}, "learning_rate must be > 0.0"),
    ({"momentum": 1.0}, "momentum must be < 1.0"),
    ({"optimizer": "adagrad"}, "optimizer must be one of sgd, rmsprop, adam"),
    ({"schedule": "plateau", "validation_split": 0.0}, "watches val_loss"),
    ({"early_stopping": 2, "validation_split": 0.0}, "early_stopping needs a validation set"),
    ({"l2": float("nan")}, "l2 must be a finite number"),
    ({"dataset": "cifar10"}, "dataset must be one of mnist, fashion-mnist"),
    ({"gpu_memory_fraction": 0.5}, "it needs --device gpu"),
    ({"gpu_memory_fraction": 1.5, "device": "gpu"}, "gpu_memory_fraction must be <= 1.0"),
])
def test_invalid_training_settings(changes, message):
    with pytest.raises(ConfigError) as info:
        CNNConfig(**changes).validate()
    assert message in str(info.value)


def test_json_round_trip(tmp_path):
    config = CNNConfig(layers=parse_layers("8,16", "32", dropout=0.25, batch_norm=True), schedule="step", l2=1e-4)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert CNNConfig.from_json(path) == config


def test_from_json_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        CNNConfig.from_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        CNNConfig.from_json(bad)
    with pytest.raises(ConfigError, match="unknown CNN config key"):
        CNNConfig.from_dict({"epochz": 3})
    with pytest.raises(ConfigError, match="layer 0 has no 'kind'"):
        CNNConfig.from_dict({"layers": [{"size": 3}]})


def test_parse_layers_compact_form():
    layers = parse_layers("16,32", "64,32", pool="avg", dropout=0.5, batch_norm=True)
    assert [spec.kind for spec in layers] == ["conv", "batchnorm", "avgpool", "conv", "batchnorm", "flatten",
                                             "dense", "dense", "dropout"]
    assert layer_names(layers)[:3] == ["conv1", "bn1", "pool1"]
    with pytest.raises(ConfigError, match="comma-separated integers"):
        parse_layers("32,x")
