"""Continuing a training: warm_start and state_dict / load_state_dict give the uninterrupted run bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from mlp_checks import assert_same_training as assert_same_weights_and_history

from mnistlab import MLPClassifier

RUN = dict(hidden_sizes=(8,), batch_size=32, n_iter_no_change=None, random_state=0)


def assert_same_training(a: MLPClassifier, b: MLPClassifier) -> None:
    assert_same_weights_and_history(a, b)
    assert (len(a.history_), a.t_) == (len(b.history_), b.t_)


OPTION_SETS = [
    dict(solver="adam", decrease_const=0.3),
    dict(solver="sgd", learning_rate=0.05, momentum=0.9, momentum_type="nesterov", lr_schedule="invscaling"),
    dict(solver="rmsprop", learning_rate=0.01, dropout=0.2, l2=0.01),
    pytest.param(dict(solver="sgd", learning_rate=0.1, n_iter_no_change=1, tol=0.5, lr_schedule="adaptive"),
                 marks=pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"), id="adaptive"),
]


@pytest.mark.parametrize("options", OPTION_SETS)
def test_warm_start_continues_bit_for_bit(blobs, options):
    X, y = blobs
    straight = MLPClassifier(**{**RUN, **options, "epochs": 4}).fit(X, y)
    halves = MLPClassifier(**{**RUN, **options, "epochs": 2}).fit(X, y)
    halves.set_params(warm_start=True).fit(X, y)
    assert_same_training(straight, halves)
    assert (straight.n_iter_, halves.n_iter_) == (4, 2)  # scikit-learn's n_iter_: this call's epochs


@pytest.mark.parametrize("options", OPTION_SETS)
def test_state_dict_restored_into_a_new_estimator_continues_bit_for_bit(blobs, options):
    X, y = blobs
    straight = MLPClassifier(**{**RUN, **options, "epochs": 4}).fit(X, y)
    state = pickle.loads(pickle.dumps(MLPClassifier(**{**RUN, **options, "epochs": 2}).fit(X, y).state_dict()))
    resumed = MLPClassifier(**{**RUN, **options, "epochs": 2, "warm_start": True}).load_state_dict(state)
    resumed.fit(X, y)
    assert_same_training(straight, resumed)


def test_state_taken_in_a_callback_resumes_early_stopping_exactly(blobs):
    """A checkpoint at an epoch's end (the live weights, the best ones, the split) resumes the same training."""
    X, y = blobs
    options = dict(RUN, early_stopping=True, epochs=6, learning_rate=0.01)
    straight = MLPClassifier(**options).fit(X, y)
    states = {}
    clf = MLPClassifier(**options)
    clf.fit(X, y, on_epoch_end=lambda row: states.setdefault(int(row["epoch"]), clf.state_dict()) and None)
    resumed = MLPClassifier(**{**options, "epochs": 3, "warm_start": True}).load_state_dict(states[3]).fit(X, y)
    assert_same_training(straight, resumed)
    assert resumed.validation_scores_ == straight.validation_scores_


def test_state_dict_holds_plain_arrays_and_scalars(blobs):
    X, y = blobs
    state = MLPClassifier(**RUN, epochs=1).fit(X, y).state_dict()
    trainer = state["trainer"]
    assert trainer["params"].dtype == np.float32 and trainer["params"].ndim == 1
    assert trainer["epochs_done"] == 1 and trainer["samples_seen"] == len(X)
    assert trainer["rng"]["bit_generator"] == "PCG64"
    assert set(trainer["optimizer"]) == {"t", "_m", "_v"} and trainer["optimizer"]["t"] == 10


def test_warm_start_refuses_other_classes_or_layers(blobs):
    X, y = blobs
    clf = MLPClassifier(**RUN, epochs=1, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="same classes as in the previous call to fit"):
        clf.fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="cannot change hidden_sizes"):
        clf.set_params(hidden_sizes=(4,)).fit(X, y)


@pytest.mark.parametrize("schedule", [dict(lr_schedule="cosine", warmup_epochs=1.0),
                                      dict(lr_schedule="onecycle", warmup_epochs=1.0),
                                      dict(lr_schedule="onecycle", warmup_epochs=4.0)])
def test_a_per_batch_schedule_resumed_mid_way_spans_the_whole_training(blobs, schedule):
    """Resuming 2 of 5 epochs continues the 5-epoch schedule, not a fresh 3-epoch one (issue 23); a one-cycle
    warm-up of 4 epochs is then longer than the 3 epochs left, and still valid: it is inside the 5."""
    X, y = blobs
    options = dict(RUN, solver="sgd", learning_rate=0.05, epochs=5, **schedule)
    straight = MLPClassifier(**options).fit(X, y)
    states = {}
    clf = MLPClassifier(**options)
    clf.fit(X, y, on_epoch_end=lambda row: states.setdefault(int(row["epoch"]), clf.state_dict()) and None)
    resumed = MLPClassifier(**{**options, "epochs": 3, "warm_start": True}).load_state_dict(states[2]).fit(X, y)
    assert_same_training(straight, resumed)
