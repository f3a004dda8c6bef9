"""build_model: layer names, shapes, parameter count; input checks of to_model_input."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.cnn.config import CNNConfig, parse_layers
from mnistlab.cnn.model import build_model, to_model_input
from mnistlab.errors import ConfigError

pytest.importorskip("keras")
pytestmark = pytest.mark.cnn


def test_seed_model_layers_and_parameters():
    model = build_model(CNNConfig())
    assert [layer.name for layer in model.layers] == ["input", "conv1", "pool1", "conv2", "pool2", "conv3",
                                                       "flatten", "dense1", "output"]
    # conv 32*(9+1) + 64*(9*32+1) + 64*(9*64+1), dense 576*64+64, output 64*10+10 (the Keras example's count)
    assert model.count_params() == 320 + 18_496 + 36_928 + 36_928 + 650
    assert model.get_layer("conv3").output.shape[1:] == (3, 3, 64)
    assert model.output_shape == (None, 10)


def test_options_add_layers_and_regularisers():
    config = CNNConfig(layers=parse_layers("8", "16", dropout=0.3, batch_norm=True), l2=0.01)
    model = build_model(config)
    names = [layer.name for layer in model.layers]
    assert names == ["input", "conv1", "bn1", "flatten", "dense1", "dropout1", "output"]
    assert len(model.losses) == 3  # one L2 penalty per kernel (conv1, dense1, output)


def test_to_model_input_scales_and_checks_shapes():
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    x = to_model_input(images)
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    with pytest.raises(ConfigError, match=r"got \(2, 784\)"):
        to_model_input(np.zeros((2, 784), dtype=np.uint8))
    with pytest.raises(ConfigError, match="single image"):
        to_model_input(np.zeros((28, 28), dtype=np.uint8))
    with pytest.raises(ConfigError, match="NaN"):
        to_model_input(np.full((1, 28, 28), np.nan, dtype=np.float32))
