"""OIPs: gradient ascent raises the target activation; low-frequency starts are smooth; bad settings fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import ConfigError

pytestmark = pytest.mark.cnn
pytest.importorskip("keras")

from mnistlab.insight.extract import predict_layers  # noqa: E402
from mnistlab.insight.oip import (  # noqa: E402
    OIPConfig, compute_oips, initial_images, parse_start, reference_activations)


def _roughness(images):
    return np.abs(np.diff(images, axis=2)).mean()


def test_low_frequency_noise_is_smoother_and_seeded():
    pixel = initial_images(8, 1, 0.2, np.random.default_rng(0))
    smooth = initial_images(8, 7, 0.2, np.random.default_rng(0))
    assert pixel.shape == smooth.shape == (8, 28, 28)
    assert abs(pixel.std() - 0.2) < 0.02 and abs(smooth.std() - 0.2) < 0.05
    assert _roughness(smooth) < 0.3 * _roughness(pixel)
    np.testing.assert_array_equal(smooth, initial_images(8, 7, 0.2, np.random.default_rng(0)))


def test_gradient_ascent_increases_every_map_of_a_layer(tiny_model):
    config = OIPConfig(steps=10, starts=((1, 0.1),))
    result = compute_oips(tiny_model, "conv3", config=config)
    assert result.images.shape == (16, 28, 28) and list(result.maps) == list(range(16))
    alive = result.start_activation > 0
    assert alive.sum() >= 4  # grey plus pixel noise leaves some ReLU maps silent (the seed's "gaps")
    assert np.all(result.activation[alive] > 1.5 * result.start_activation[alive])
    assert np.all(result.activation >= result.start_activation)
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0  # clipped to the input range
    assert result.converged.dtype == bool and result.summary()["n_maps"] == 16


def test_the_ideal_digit_is_classified_as_that_digit(tiny_model):
    result = compute_oips(tiny_model, "output", maps=[3, 7], config=OIPConfig(steps=15, starts=((7, 0.2),)))
    (probabilities,) = predict_layers(tiny_model, ["output"], result.images)
    assert list(probabilities.argmax(axis=1)) == [3, 7]
    assert np.all(result.activation > result.start_activation) and np.all(result.activation <= 1)  # probabilities
    np.testing.assert_allclose(result.activation, probabilities[[0, 1], [3, 7]], rtol=1e-4)
    assert result.converged.all()


def test_fill_strategy_retries_only_maps_that_did_not_converge(tiny_model):
    reachable = OIPConfig(steps=3, starts=((1, 0.1), (7, 0.3)), min_activation=-1.0, min_change=0.0)
    result = compute_oips(tiny_model, "conv2", maps=[0, 1, 2], config=reachable)
    assert result.converged.all() and result.start_used == ["1:0.1"] * 3
    impossible = OIPConfig(steps=3, starts=((1, 0.1), (7, 0.3)), min_activation=1e9)
    result = compute_oips(tiny_model, "conv2", maps=[0, 1, 2], config=impossible)
    assert not result.converged.any()


def test_reference_threshold_and_regularisers(tiny_model, mnist_slices):
    references = reference_activations(tiny_model, "conv3", mnist_slices[2])
    assert references.shape == (16,)
    config = OIPConfig(steps=6, starts=((7, 0.3),), l2_decay=0.01, blur_sigma=0.5, blur_every=2, jitter=1)
    result = compute_oips(tiny_model, "conv3", maps=[0, 5], config=config, references=references)
    np.testing.assert_allclose(result.threshold, np.maximum(references[[0, 5]], config.min_activation))
    assert np.all(np.isfinite(result.images))


def test_bad_input(tiny_model):
    with pytest.raises(ConfigError, match="map index 99 is out of range"):
        compute_oips(tiny_model, "conv3", maps=[99], config=OIPConfig(steps=1))
    with pytest.raises(ConfigError, match="valid layers"):
        compute_oips(tiny_model, "conv7")
    with pytest.raises(ConfigError, match="Flatten"):
        compute_oips(tiny_model, "flatten")
    with pytest.raises(ConfigError, match="WAVELENGTH:AMPLITUDE"):
        parse_start("7-0.3")
    with pytest.raises(ConfigError, match="strategy"):
        OIPConfig(strategy="greedy")
    with pytest.raises(ConfigError, match="steps"):
        OIPConfig(steps=0)
