"""The compiled one-pass updates (mnistlab.mlp.fused) against the NumPy reference rules.

Numba compiles without fast-math, so every kernel does the reference's float operations in the
reference's order: the parameters and the optimizer state must be bit-equal after many steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp import fused
from mnistlab.mlp.optimizers import make_optimizer

pytestmark = pytest.mark.skipif(not fused.available(), reason="needs the [fast] extra (Numba)")

CASES = [("adam", {}), ("adam", {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-8}), ("rmsprop", {}),
         ("rmsprop", {"rho": 0.5}), ("sgd", {}), ("sgd", {"momentum": 0.9, "momentum_type": "classical"}),
         ("sgd", {"momentum": 0.9, "momentum_type": "nesterov"}), ("sgd", {"momentum": 0.5, "momentum_type": "seed"})]


def _train(solver: str, kw: dict, use_fused: bool, dtype, size: int, steps: int = 12):
    """`steps` updates of one flat buffer (plus a second, small array) with seeded gradients."""
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(size).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)]
    opt = make_optimizer(solver, 0.01, fused=use_fused, **kw)
    for step in range(steps):
        opt.learning_rate = 0.01 / (1 + 0.1 * step)  # the trainer changes the rate between steps
        grads = [rng.standard_normal(p.shape).astype(dtype) * dtype(0.1) for p in params]
        opt.update(params, grads)
    return params, opt.state()


@pytest.mark.parametrize("solver,kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_update_is_bit_equal_to_numpy(solver, kw, dtype, monkeypatch):
    monkeypatch.setattr(fused, "PARALLEL_MIN_SIZE", 1000)  # the threaded loop runs too
    reference, ref_state = _train(solver, kw, False, dtype, 70_000)
    compiled, state = _train(solver, kw, True, dtype, 70_000)
    for want, got in zip(reference + ref_state, compiled + state):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_fused_path_is_taken_and_changes_the_params():
    # positive control: the fused optimizer really updates (a no-op kernel would pass the equality test
    # only if the reference were a no-op too, so check that parameters move)
    before = np.ones(10, dtype=np.float32)
    params, _ = _train("adam", {}, True, np.float32, 10, steps=1)
    opt = make_optimizer("adam", 0.01)
    assert opt.fused  # Numba installed: the default is the fused path
    assert not np.array_equal(params[0], before)


def test_non_contiguous_arrays_fall_back_to_numpy():
    p = np.zeros((4, 4), dtype=np.float32)[:, ::2]  # a strided view: no 1-D view for the kernel
    assert fused.flat_pairs([p], [np.ones_like(p)]) is None
    opt = make_optimizer("adam", 0.1, fused=True)
    opt.update([p], [np.ones_like(p)])
    np.testing.assert_allclose(p, -0.1, rtol=1e-5)


def test_small_buffers_use_one_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(fused.kernels(), "set_threads", calls.append)
    fused.use_threads(10)
    fused.use_threads(fused.PARALLEL_MIN_SIZE)
    assert calls[0] == 1
    assert 1 <= calls[1] <= fused.kernels().max_threads


def test_threads_follow_mnistlabs_bound(monkeypatch):
    calls = []
    monkeypatch.setattr(fused.kernels(), "set_threads", calls.append)
    monkeypatch.setattr(fused, "thread_limit", lambda: 1)  # as after configure_threads(1), i.e. --threads 1
    fused.use_threads(10 * fused.PARALLEL_MIN_SIZE)
    assert calls == [1]


def test_one_process_may_train_with_one_thread_then_two(tmp_path):
    """A notebook's second training with another --threads must not trip Numba's pool-size check."""
    import os
    import subprocess
    import sys

    script = """
import numpy as np
from mnistlab import MLPClassifier
from mnistlab.threads import configure_threads
X = np.random.default_rng(0).random((200, 16), dtype=np.float32); y = np.arange(200) % 3
for threads, dtype in ((1, "float32"), (2, "float64")):  # a new dtype compiles the kernels again, which
    configure_threads(threads)                            # re-reads Numba's settings: that must not raise
    MLPClassifier(hidden_sizes=(8,), epochs=1, n_iter_no_change=None, random_state=0, dtype=dtype).fit(X, y)
print("ok")
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # an empty cache: the kernels are compiled here
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
