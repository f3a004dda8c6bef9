"""Per-batch learning-rate schedules (warm-up, cosine, one-cycle) and label smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mlp_checks import finite_differences

from mnistlab import MLPClassifier
from mnistlab.bench.recipes import Recipe, learning_rate_at
from mnistlab.errors import ConfigError
from mnistlab.mlp.activations import softmax_inplace
from mnistlab.mlp.losses import loss_value, output_delta
from mnistlab.mlp.optimizers import batch_learning_rate
from mnistlab.mlp.trainer import smooth_targets


def test_onecycle_values():
    rates = [batch_learning_rate("onecycle", 0.1, s, 4, 3, warmup_epochs=1) for s in range(12)]
    np.testing.assert_allclose(rates[:4], [0.025, 0.05, 0.075, 0.1])  # warm-up, batch by batch
    np.testing.assert_allclose(rates[4:], [0.1 * (1 - k / 8) for k in range(8)])  # down to 0 at the budget
    assert batch_learning_rate("onecycle", 0.1, 12, 4, 3, warmup_epochs=1) == 0.0  # after it


def test_cosine_values_and_no_warmup():
    assert batch_learning_rate("cosine", 0.2, 0, 10, 2) == pytest.approx(0.2)
    assert batch_learning_rate("cosine", 0.2, 10, 10, 2) == pytest.approx(0.1)  # half way: lr / 2
    assert batch_learning_rate("cosine", 0.2, 19, 10, 2) == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.95)))
    assert batch_learning_rate("constant", 0.2, 3, 10, 2, warmup_epochs=0.5) == pytest.approx(0.2 * 4 / 5)
    assert batch_learning_rate("constant", 0.2, 3, 10, 2) is None  # the per-epoch rate stands
    assert batch_learning_rate("decay", 0.2, 3, 10, 2) is None


@pytest.mark.parametrize("schedule,warmup", [("onecycle", 1.0), ("cosine", 0.0), ("cosine", 0.5), ("constant", 2.0)])
def test_same_numbers_as_the_bench_recipes(schedule, warmup):
    recipe = Recipe(schedule=schedule, warmup_epochs=warmup, learning_rate=0.002, max_epochs=8)
    for step in range(0, 8 * 7, 3):
        want = learning_rate_at(recipe, step, 7)
        assert batch_learning_rate(schedule, 0.002, step, 7, 8, warmup) in (pytest.approx(want), None)


def test_training_follows_the_schedule_batch_by_batch():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 5)), rng.integers(0, 3, 64)
    model = MLPClassifier(hidden_sizes=(8,), lr_schedule="onecycle", warmup_epochs=1, learning_rate=0.01,
                          batch_size=16, epochs=3, n_iter_no_change=None, random_state=0).fit(X, y)
    # each epoch records the rate of its last batch (steps 3, 7, 11): warm-up 4 batches, then 8 down to 0
    np.testing.assert_allclose(model.history_.as_arrays()["learning_rate"], [0.01, 0.01 * 5 / 8, 0.01 / 8], atol=1e-12)


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_partial_fit_calls_follow_the_schedule_over_the_epochs_budget(schedule):
    """`bench tta` trains mnistlab one partial_fit per epoch: the schedule must span `epochs`, not each call."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 5)), rng.integers(0, 3, 64)
    options = dict(hidden_sizes=(8,), lr_schedule=schedule, warmup_epochs=1, learning_rate=0.01, batch_size=16,
                   epochs=3, n_iter_no_change=None, random_state=0)
    whole = MLPClassifier(**options).fit(X, y)
    calls = MLPClassifier(**options)
    for _ in range(3):
        calls.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_allclose(calls.history_.as_arrays()["learning_rate"],
                               whole.history_.as_arrays()["learning_rate"], atol=1e-12)
    assert all(np.array_equal(a, b) for a, b in zip(calls.coefs_, whole.coefs_))
    calls.partial_fit(X, y)  # past the budget the schedule stays at its end
    assert calls.history_.as_arrays()["learning_rate"][-1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("options", [{"warmup_epochs": 1, "lr_schedule": "decay"},
                                     {"lr_schedule": "onecycle"}, {"label_smoothing": 1.0},
                                     {"lr_schedule": "onecycle", "warmup_epochs": 3, "warm_start": True},
                                     {"label_smoothing": -0.1}])
def test_bad_schedule_and_smoothing_options_are_one_line_errors(options):
    with pytest.raises(ConfigError):
        MLPClassifier(epochs=3, **options).fit(np.zeros((6, 2)), [0, 1, 2, 0, 1, 2])


def test_smoothed_targets_keep_rows_summing_to_one():
    Y = np.eye(4, dtype=np.float32)[[0, 3, 1]]
    S = smooth_targets(Y, 0.1)
    assert S.dtype == np.float32
    np.testing.assert_allclose(S.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(S[0], [0.925, 0.025, 0.025, 0.025])


def test_smoothed_loss_gradient_by_finite_differences():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((5, 4))
    Y = smooth_targets(np.eye(4)[rng.integers(0, 4, 5)], 0.2)

    def loss() -> float:
        A = Z.copy()
        softmax_inplace(A)
        return loss_value("cross_entropy", A, Y)

    A = Z.copy()
    softmax_inplace(A)
    delta = output_delta("cross_entropy", "softmax", A, Y, np.empty_like(A))  # the fast path: A - Y
    (numeric,) = finite_differences(loss, [Z])
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-8)


def test_smoothing_changes_training_and_still_learns():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 6))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    kw = dict(hidden_sizes=(16,), epochs=30, n_iter_no_change=None, batch_size=32, random_state=0, learning_rate=0.01)
    plain, smooth = MLPClassifier(**kw).fit(X, y), MLPClassifier(label_smoothing=0.2, **kw).fit(X, y)
    assert smooth.score(X, y) > 0.9
    # smoothed targets keep the outputs away from certainty
    assert smooth.predict_proba(X).max() < plain.predict_proba(X).max()
