"""Activation patterns: pooling, class means, and three classifiers reading the last conv layer."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import ConfigError
from mnistlab.insight.patterns import class_mean_patterns, nearest_centroid_accuracy, pool_activations


def test_pooling_and_class_means():
    acts = np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)  # (n, h, w, c)
    np.testing.assert_allclose(pool_activations(acts, "mean")[0], acts[0].reshape(4, 3).mean(axis=0))
    np.testing.assert_allclose(pool_activations(acts, "max")[1], acts[1].reshape(4, 3).max(axis=0))
    assert pool_activations(acts, "flatten").shape == (2, 12)
    with pytest.raises(ConfigError, match="unknown pooling 'median'"):
        pool_activations(acts, "median")
    patterns = class_mean_patterns(np.array([[1.0, 0], [3, 0], [0, 5]]), np.array([0, 0, 2]), n_classes=3)
    np.testing.assert_allclose(patterns, [[2, 0], [0, 0], [0, 5]])  # class 1 has no images: zeros, not NaN


def test_nearest_centroid_on_separable_patterns():
    rng = np.random.default_rng(0)
    centres = np.eye(4) * 5
    labels = rng.integers(0, 4, 200)
    features = centres[labels] + rng.normal(0, 0.5, (200, 4))
    assert nearest_centroid_accuracy(features, labels, centres) == 1.0
    assert nearest_centroid_accuracy(features, (labels + 1) % 4, centres) == 0.0


@pytest.mark.cnn
def test_activation_patterns_of_a_trained_cnn(tiny_model, mnist_slices):
    from mnistlab.cnn.evaluate import predict
    from mnistlab.insight.patterns import activation_patterns

    train_x, train_y, test_x, test_y = mnist_slices
    report = activation_patterns(tiny_model, train_x, train_y, test_x, test_y)
    assert report.layer == "conv3" and report.class_patterns.shape == (10, 16)
    assert report.head_accuracy == pytest.approx(float((predict(tiny_model, test_x) == test_y).mean()))
    # Both readers of the pooled pattern do far better than chance (10%): the pattern carries the class.
    assert report.probe_accuracy > 0.5 and report.centroid_accuracy > 0.3
    digit_one = report.class_patterns[1]
    assert np.all(report.class_patterns >= 0) and digit_one.max() > 0  # ReLU maps
    summary = report.summary()
    assert summary["n_maps"] == 16 and len(summary["class_patterns"]) == 10
