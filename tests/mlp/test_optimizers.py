"""Update rules against hand-written formulas, and convergence on a quadratic."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.mlp.optimizers import SGD, Adam, RMSprop, decayed_learning_rate, make_optimizer


def test_plain_sgd_step():
    p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    SGD(0.1).update([p], [g.copy()])
    np.testing.assert_allclose(p, [0.95, 2.1])


def test_seed_momentum_adds_previous_step():
    opt = SGD(0.1, momentum=0.5, momentum_type="seed")
    p = np.array([0.0])
    opt.update([p], [np.array([1.0])])  # step 0.1
    opt.update([p], [np.array([2.0])])  # step 0.2 + 0.5 * 0.1
    np.testing.assert_allclose(p, [-(0.1 + 0.2 + 0.05)])


def test_classical_and_nesterov_momentum():
    for kind, want in (("classical", -(0.1 + (0.5 * 0.1 + 0.2))), ("nesterov", -(0.1 * 1.5 + 0.2 + 0.5 * 0.25))):
        opt = SGD(0.1, momentum=0.5, momentum_type=kind)
        p = np.array([0.0])
        opt.update([p], [np.array([1.0])])
        opt.update([p], [np.array([2.0])])
        np.testing.assert_allclose(p, [want], err_msg=kind)


def test_rmsprop_first_step():
    p, g = np.array([1.0]), np.array([2.0])
    RMSprop(0.01, rho=0.9, epsilon=0.0).update([p], [g.copy()])
    np.testing.assert_allclose(p, [1.0 - 0.01 * 2.0 / np.sqrt(0.1 * 4.0)])


def test_adam_first_step_is_learning_rate_times_sign():
    p = np.array([1.0, 1.0])
    Adam(0.01, epsilon=0.0).update([p], [np.array([3.0, -0.2])])
    np.testing.assert_allclose(p, [0.99, 1.01])


@pytest.mark.parametrize("solver,kw", [("sgd", {}), ("sgd", {"momentum": 0.9, "momentum_type": "nesterov"}),
                                       ("sgd", {"momentum": 0.5, "momentum_type": "seed"}),
                                       ("rmsprop", {}), ("adam", {})])
def test_each_solver_minimises_a_quadratic(solver, kw):
    opt = make_optimizer(solver, 0.05, **kw)
    p = np.array([3.0, -2.0], dtype=np.float32)
    for _ in range(400):
        opt.update([p], [2 * p.copy()])
    assert np.abs(p).max() < 0.05
    assert p.dtype == np.float32


def test_decay_formula():
    assert decayed_learning_rate(0.1, 0.5, 0) == 0.1
    assert decayed_learning_rate(0.1, 0.5, 4) == pytest.approx(0.1 / 3)


def test_unknown_solver():
    with pytest.raises(ValueError, match="newton"):
        make_optimizer("newton", 0.1)


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adam"])
def test_state_dict_continues_bit_for_bit(solver):
    """Two updates equal one update, a state_dict round trip into a fresh optimizer, and one more."""
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=5).astype(np.float32) for _ in range(2)]
    p_straight = np.ones(5, np.float32)
    straight = make_optimizer(solver, 0.1, momentum=0.9)
    for g in grads:
        straight.update([p_straight], [g.copy()])
    p_resumed = np.ones(5, np.float32)
    first = make_optimizer(solver, 0.1, momentum=0.9)
    first.update([p_resumed], [grads[0].copy()])
    second = make_optimizer(solver, 0.1, momentum=0.9)
    second.load_state_dict(first.state_dict())
    second.update([p_resumed], [grads[1].copy()])
    np.testing.assert_array_equal(p_resumed, p_straight)
