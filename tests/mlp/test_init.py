"""Weight initialisers: ranges, scales, reproducibility, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp.init import init_layer, init_params


def draw(method, fan_in=400, fan_out=300, **kw):
    return init_layer(method, fan_in, fan_out, np.random.default_rng(0), **kw)


def test_sqrt_nodes_is_uniform_within_factor_over_sqrt_fan_in():
    W = draw("sqrt_nodes", factor=2.0)
    bound = 2.0 / np.sqrt(400)
    assert W.dtype == np.float32 and W.shape == (400, 300)
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
    assert W.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_const_uses_the_interval():
    W = draw("const", interval=(-0.2, 0.6))
    assert W.min() >= -0.2 and W.max() <= 0.6 and W.mean() == pytest.approx(0.2, abs=0.01)


def test_glorot_and_he_scales():
    assert np.abs(draw("glorot")).max() <= np.sqrt(6 / 700)
    assert draw("he").std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


def test_unknown_method():
    with pytest.raises(ValueError, match="xavier"):
        draw("xavier")


def test_init_params_per_layer_methods_and_zero_biases():
    rng = np.random.default_rng(1)
    weights, biases = init_params([10, 5, 3], ["const", "he"], rng, intervals=[(0.1, 0.2), (-1, 1)])
    assert [w.shape for w in weights] == [(10, 5), (5, 3)]
    assert weights[0].min() >= 0.1 and weights[0].max() <= 0.2
    assert all(not b.any() for b in biases)
    again, _ = init_params([10, 5, 3], ["const", "he"], np.random.default_rng(1), intervals=[(0.1, 0.2), (-1, 1)])
    np.testing.assert_array_equal(weights[1], again[1])
