"""Feature maps equal a hand computation of convolution + ReLU and max pooling; one image in < 2 s."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnistlab.errors import ConfigError

pytestmark = pytest.mark.cnn
pytest.importorskip("keras")

from mnistlab.insight.feature_maps import feature_maps, first_layer_kernels, map_statistics  # noqa: E402


def test_maps_of_every_conv_and_pool_layer(tiny_model, mnist_slices):
    maps = feature_maps(tiny_model, mnist_slices[2][:3])
    assert list(maps) == ["conv1", "pool1", "conv2", "pool2", "conv3"]
    assert maps["conv1"].shape == (3, 26, 26, 8)
    assert maps["pool1"].shape == (3, 13, 13, 8)
    assert maps["conv3"].shape == (3, 3, 3, 16)
    stats = map_statistics(maps)
    assert stats["conv1"]["shape"] == [26, 26, 8] and len(stats["conv3"]["max"]) == 16


def test_conv1_and_pool1_match_a_reference_computation(tiny_model, mnist_slices):
    from scipy.signal import correlate2d

    image = mnist_slices[2][0]
    maps = feature_maps(tiny_model, image[None], layers=["conv1", "pool1"])
    kernel, bias = tiny_model.get_layer("conv1").get_weights()  # (3, 3, 1, 8), (8,)
    x = image.astype(np.float64) / 255.0
    for m in range(8):
        expected = np.maximum(correlate2d(x, kernel[:, :, 0, m], mode="valid") + bias[m], 0.0)  # (26, 26)
        np.testing.assert_allclose(maps["conv1"][0, :, :, m], expected, atol=1e-5)
    pooled = maps["conv1"][0].reshape(13, 2, 13, 2, 8).max(axis=(1, 3))
    np.testing.assert_allclose(maps["pool1"][0], pooled, atol=1e-6)


def test_first_layer_kernels_are_the_conv1_weights(tiny_model):
    kernels = first_layer_kernels(tiny_model)
    weights = tiny_model.get_layer("conv1").get_weights()[0]
    assert kernels.shape == (8, 3, 3)
    np.testing.assert_allclose(kernels[5], weights[:, :, 0, 5])


def test_a_dense_layer_has_no_maps(tiny_model, mnist_slices):
    with pytest.raises(ConfigError, match="no 2-D maps"):
        feature_maps(tiny_model, mnist_slices[2][:1], layers=["dense1"])


def test_one_image_through_the_default_cnn_in_under_two_seconds(mnist_slices):
    from mnistlab.cnn.model import build_model

    model = build_model()
    feature_maps(model, mnist_slices[2][:1])  # first call builds the extractor's graph
    began = time.perf_counter()
    maps = feature_maps(model, mnist_slices[2][1:2])
    assert time.perf_counter() - began < 2.0
    assert maps["conv3"].shape == (1, 3, 3, 64)
