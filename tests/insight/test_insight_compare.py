"""Map matching: recovers a known permutation, a network matches itself perfectly, baselines are lower."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import ConfigError
from mnistlab.insight.compare import correlation_matrix, match_maps, shuffled_similarities


def test_correlation_matrix_equals_numpy_corrcoef_and_handles_dead_maps():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 4))
    b[:, 3] = 0.0  # a dead map
    expected = np.corrcoef(a.T, b[:, :3].T)[:3, 3:]
    corr = correlation_matrix(a, b)
    np.testing.assert_allclose(corr[:, :3], expected, atol=1e-6)
    np.testing.assert_array_equal(corr[:, 3], 0.0)
    with pytest.raises(ConfigError, match="same images"):
        correlation_matrix(a, b[:10])


def test_hungarian_matching_recovers_a_known_permutation():
    rng = np.random.default_rng(1)
    acts_a = rng.normal(size=(400, 12))
    perm = rng.permutation(12)  # map i of A is map perm[i] of B
    acts_b = np.empty_like(acts_a)
    acts_b[:, perm] = acts_a + rng.normal(0, 0.3, acts_a.shape)
    partner, matched = match_maps(correlation_matrix(acts_a, acts_b))
    np.testing.assert_array_equal(partner, perm)
    assert matched.min() > 0.9
    shuffled = shuffled_similarities(correlation_matrix(acts_a, acts_b), rng)
    assert abs(np.median(shuffled)) < 0.2


@pytest.mark.cnn
def test_a_network_matches_itself_and_a_permuted_copy(tiny_model, mnist_slices):
    from mnistlab.insight.compare import compare_models, untrained_like
    from mnistlab.insight.oip import OIPConfig

    images = mnist_slices[2][:100]
    untrained = untrained_like(tiny_model, random_state=3)
    assert [layer.name for layer in untrained.layers] == [layer.name for layer in tiny_model.layers]
    assert not np.allclose(untrained.get_layer("conv3").get_weights()[0], tiny_model.get_layer("conv3").get_weights()[0])
    np.testing.assert_array_equal(untrained_like(tiny_model, 3).get_layer("conv1").get_weights()[0],
                                  untrained.get_layer("conv1").get_weights()[0])

    same = compare_models(untrained, untrained, images, layers=["conv3"])
    match = same.activation[0]
    alive = match.valid
    assert alive.sum() >= 8
    np.testing.assert_allclose(match.matched[alive], 1.0, atol=1e-5)
    np.testing.assert_array_equal(match.partner[alive], np.flatnonzero(alive))  # dead maps pair arbitrarily

    # A network against itself: OIPs from two noises pair up above chance (1/16) and above random pairs.
    itself = compare_models(tiny_model, tiny_model, images, layers=["conv1"], oip_layer="conv3",
                            oip_config=OIPConfig(steps=25, starts=((7, 0.3),)))
    assert itself.oip.same_position > 1 / 16 and itself.oip_self.same_position > 1 / 16  # chance: 1/16
    assert np.median(itself.oip.matched) > np.median(itself.oip.shuffled)

    permuted = untrained_like(tiny_model, random_state=0)
    permuted.set_weights(tiny_model.get_weights())
    conv3 = permuted.get_layer("conv3")
    kernel, bias = conv3.get_weights()
    perm = np.random.default_rng(0).permutation(16)
    conv3.set_weights([kernel[..., perm], bias[perm]])  # B's map j is A's map perm[j]
    result = compare_models(tiny_model, permuted, images, layers=["conv2", "conv3"])
    conv2, conv3_match = result.activation
    assert conv2.same_position == 1.0 and np.median(conv2.matched) > 0.999
    alive = conv3_match.matched > 0.5
    np.testing.assert_array_equal(perm[conv3_match.partner[alive]], np.flatnonzero(alive))
    assert np.median(conv3_match.matched) > np.median(conv3_match.baseline_untrained)
    assert np.median(conv3_match.matched) > np.median(conv3_match.shuffled)


@pytest.mark.cnn
def test_different_architectures_are_refused(tiny_model, mnist_slices, make_config):
    from mnistlab.cnn.model import build_model
    from mnistlab.insight.compare import compare_models

    other = build_model(make_config(layers=make_config().layers[:4] + make_config().layers[5:]))
    with pytest.raises(ConfigError, match="valid layers|same architecture"):
        compare_models(tiny_model, other, mnist_slices[2][:20], layers=["conv3"])


@pytest.mark.cnn
def test_train_twice_gives_two_different_trainings_of_one_architecture(mnist_slices, make_config):
    from mnistlab.insight.compare import train_twice

    images, labels = mnist_slices[0][:200], mnist_slices[1][:200]
    first, second = train_twice(make_config(epochs=1), images, labels, seeds=(1, 2))
    assert [layer.name for layer in first.layers] == [layer.name for layer in second.layers]
    assert not np.allclose(first.get_layer("conv1").get_weights()[0], second.get_layer("conv1").get_weights()[0])
