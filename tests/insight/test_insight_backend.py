"""Input gradients agree with finite differences, on the backend in use and on JAX (in a subprocess)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.cnn
pytest.importorskip("keras")

from mnistlab.insight.backend import input_gradient_fn  # noqa: E402
from mnistlab.insight.extract import feature_extractor, get_layer  # noqa: E402
from mnistlab.insight.oip import unit_objective  # noqa: E402

CHECK = textwrap.dedent("""
    import numpy as np
    from mnistlab.cnn.model import build_model
    from mnistlab.insight.backend import import_keras, input_gradient_fn
    from mnistlab.insight.extract import feature_extractor, get_layer
    from mnistlab.insight.oip import unit_objective
    from mnistlab.cnn.config import CNNConfig, LayerSpec

    def finite_difference_error(model, layer, maps):
        extractor = feature_extractor(model, [layer])
        f = input_gradient_fn(extractor, unit_objective(get_layer(model, layer), np.array(maps), False))
        x = np.random.default_rng(1).uniform(0.2, 0.8, (len(maps), 28, 28, 1)).astype(np.float32)
        values, grads = f(x)
        worst = 0.0
        for (i, r, c) in [(0, 10, 12), (1, 14, 14), (0, 5, 20)]:
            step = np.zeros_like(x); step[i, r, c, 0] = 1e-2
            numeric = (f(x + step)[0][i] - f(x - step)[0][i]) / 2e-2
            worst = max(worst, abs(numeric - grads[i, r, c, 0]) / (abs(numeric) + 1e-3))
        return worst, import_keras().backend.backend()

    def smooth_model():
        return build_model(CNNConfig(layers=[LayerSpec("conv", 4, activation="tanh"),
                                             LayerSpec("avgpool", kernel=2, stride=0),
                                             LayerSpec("conv", 6, activation="tanh"), LayerSpec("flatten")]))

    if __name__ == "__main__":
        print(*finite_difference_error(smooth_model(), "conv2", [1, 4]))
""")


def test_gradient_matches_finite_differences_on_this_backend():
    namespace: dict = {"__name__": "gradient_check"}
    exec(compile(CHECK, "gradient_check", "exec"), namespace)
    error, backend = namespace["finite_difference_error"](namespace["smooth_model"](), "conv2", [1, 4])
    assert error < 0.05, f"{backend}: relative error {error}"


@pytest.mark.slow
def test_gradient_on_the_other_backends():
    """Each other installed backend's own autodiff, in fresh processes run side by side
    (Keras binds one backend per process)."""
    import keras

    others = [b for b in ("torch", "jax", "tensorflow")
              if b != keras.backend.backend() and importlib.util.find_spec(b) is not None]
    if not others:
        pytest.skip("no other Keras backend installed")
    runs = {b: subprocess.Popen([sys.executable, "-c", CHECK], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, KERAS_BACKEND=b, JAX_PLATFORMS="cpu"))
            for b in others}
    for backend, process in runs.items():
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, f"{backend}: {err[-2000:]}"
        error, used = out.split()[-2:]
        assert used == backend and float(error) < 0.05, f"{backend}: relative error {error}"


def test_gradient_is_per_image(tiny_model):
    """Images in a batch don't interact: a batch's gradients equal those computed one by one."""
    extractor = feature_extractor(tiny_model, ["conv3"])
    x = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    batch = input_gradient_fn(extractor, unit_objective(get_layer(tiny_model, "conv3"), np.array([2, 5, 9]), False))
    values, grads = batch(x)
    for i, unit in enumerate([2, 5, 9]):
        single = input_gradient_fn(extractor, unit_objective(get_layer(tiny_model, "conv3"), np.array([unit]), False))
        v, g = single(x[i:i + 1])
        np.testing.assert_allclose(v[0], values[i], rtol=1e-5)
        np.testing.assert_allclose(g[0], grads[i], rtol=1e-4, atol=1e-6)
