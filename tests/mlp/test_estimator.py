"""MLPClassifier: scikit-learn compatibility, options, reproducibility, bad input."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from mlp_checks import assert_same_training
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from mnistlab import MLPClassifier
from mnistlab.errors import ConfigError, TrainingDiverged
from mnistlab.mlp.config import MLPConfig

SMALL = dict(hidden_sizes=(16,), epochs=15, batch_size=32, n_iter_no_change=None, init="sqrt_nodes",
             decrease_const=0.0, l2=0.0, random_state=0)


def test_defaults_equal_the_config_dataclass():
    assert MLPClassifier().get_params() == asdict(MLPConfig())


EXPECTED_FAILURES = {
    # As for scikit-learn's own MLPClassifier (its PER_ESTIMATOR_XFAIL_CHECKS): mini-batches are
    # shuffled by row, so weight 2 is not the same training as a repeated row.
    "check_sample_weight_equivalence_on_dense_data": "mini-batch SGD: weights are not repeated rows",
    "check_sample_weight_equivalence_on_sparse_data": "mini-batch SGD: weights are not repeated rows",
}


# check_class_weight_classifiers sets n_iter_no_change=20 within our 20-epoch budget: a warning, rightly.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_passes_sklearn_estimator_checks():
    # Failures raise. Only checks that skip themselves for reasons outside the estimator may
    # skip (pandas absent, SCIPY_ARRAY_API unset); docs/mlp.md names them.
    clf = MLPClassifier(hidden_sizes=(32,), epochs=20, batch_size=32, n_iter_no_change=None, learning_rate=0.01,
                        random_state=0)
    results = check_estimator(clf, on_skip=None, expected_failed_checks=EXPECTED_FAILURES)
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert skipped <= {"check_classifier_data_not_an_array", "check_array_api_input",
                       "check_classifiers_multilabel_output_format_decision_function"}  # no decision_function
    assert sum(r["status"] == "passed" for r in results) >= 50


@pytest.mark.parametrize("options", [
    dict(activation="sigmoid", output="sigmoid", loss="logloss", solver="sgd", learning_rate=0.5,
         momentum=0.5, momentum_type="seed", l2=0.01),
    dict(activation="tanh", output="softmax", loss="cross_entropy", solver="rmsprop", learning_rate=0.01),
    dict(activation="relu", output="softmax", loss="mse", solver="adam", learning_rate=0.01, l1=0.001, init="he"),
    dict(activation="leaky_relu", output="sigmoid", loss="mse", solver="sgd", learning_rate=0.5,
         momentum=0.9, momentum_type="nesterov", init="glorot", decrease_const=0.01),
    dict(activation="sigmoid", output="sigmoid", loss="logloss", solver="sgd", learning_rate=0.01,
         loss_reduction="sum", init="const", init_intervals=((-0.5, 0.5), (-0.5, 0.5))),
])
def test_every_option_family_learns(blobs, options):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, **options}).fit(X, y)
    assert clf.score(X, y) > 0.9
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert [w.dtype for w in clf.coefs_] == [np.float32, np.float32]


def test_same_seed_gives_bit_identical_weights_and_history(blobs):
    X, y = blobs
    a = MLPClassifier(**SMALL, eval_train_every=1).fit(X, y)
    b = MLPClassifier(**SMALL, eval_train_every=1).fit(X, y)
    assert_same_training(a, b)
    c = MLPClassifier(**{**SMALL, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_history_columns_and_eval_set(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, "l2": 0.1}, eval_train_every=2, eval_test_every=3).fit(X, y, eval_set=(X[:50], y[:50]))
    h = clf.history_.as_arrays()
    assert h["epoch"].tolist() == list(range(1, 16))
    assert np.isnan(h["train_accuracy"][0]) and h["train_accuracy"][1] > 0.5
    assert np.isfinite(h["test_accuracy"][2::3]).all() and np.isnan(h["test_accuracy"][0])
    assert (h["reg_share"] > 0).all() and (h["reg_share"] < 1).all()
    assert h["loss"][-1] < h["loss"][0] and (h["mean_abs_weight_1"] > 0).all()
    np.testing.assert_array_equal(clf.loss_curve_, h["loss"])
    assert clf.history_.to_csv().splitlines()[0].startswith("epoch,loss,accuracy,error")


def test_learning_rate_decays_per_epoch(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, "decrease_const": 0.5}, solver="sgd", learning_rate=0.1).fit(X, y)
    np.testing.assert_allclose(clf.history_.as_arrays()["learning_rate"][:3], [0.1, 0.1 / 1.5, 0.05])


def test_early_stopping_stops_and_keeps_the_best(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, "epochs": 200, "n_iter_no_change": 3}, early_stopping=True,
                        validation_fraction=0.2).fit(X, y)
    h = clf.history_.as_arrays()
    assert clf.n_iter_ < 200 and np.isfinite(h["val_accuracy"]).all()
    assert clf.score(X, y) > 0.9


def test_partial_fit_adds_one_epoch_each_call(blobs):
    X, y = blobs
    clf = MLPClassifier(**SMALL)
    for _ in range(10):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and len(clf.history_) == 10 and clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] not seen"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="classes must be given"):
        MLPClassifier(**SMALL).partial_fit(X, y)


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**SMALL))
    search = GridSearchCV(pipe, {"mlpclassifier__hidden_sizes": [(4,), (16,)]}, cv=2).fit(X, y)
    assert search.best_score_ > 0.9 and search.predict(X[:5]).shape == (5,)


def test_string_labels(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = MLPClassifier(**SMALL).fit(X, labels)
    assert set(clf.predict(X)) <= {"cat", "dog", "eel"} and clf.score(X, labels) > 0.9


@pytest.mark.parametrize("options,match", [
    ({"hidden_sizes": (10, 0)}, "at least one unit"),
    ({"hidden_sizes": "big"}, "tuple of positive integers"),
    ({"activation": "swish"}, "activation='swish' is not valid; choose one of sigmoid"),
    ({"loss": "hinge"}, "loss='hinge'"),
    ({"learning_rate": 0}, "learning_rate=0 is not valid"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"epochs": 2.5}, "an integer"),
    ({"momentum": 1.0}, "momentum=1.0"),
    ({"init": "xavier"}, "init='xavier'"),
    ({"init": "const", "init_intervals": ((0.5, -0.5), (0, 1))}, "low < high"),
])
def test_invalid_options_raise_config_error(blobs, options, match):
    X, y = blobs
    with pytest.raises(ConfigError, match=match):
        MLPClassifier(**{**SMALL, **options}).fit(X, y)


def test_unknown_option_names_are_rejected():
    with pytest.raises(ValueError, match="Invalid parameter 'hidden'"):
        MLPClassifier().set_params(hidden=(3,))
    with pytest.raises(ConfigError, match="unknown MLP option"):
        MLPConfig.from_dict({"hiden_sizes": [3]})


def test_bad_data(blobs):
    X, y = blobs
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(**SMALL).fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="infinity"):
        MLPClassifier(**SMALL).fit(np.where(X > 2, np.inf, X), y)
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier(**SMALL).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(**SMALL).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLPClassifier(**SMALL).fit(X, y[:-1])
    clf = MLPClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 6"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match="could not convert"):
        clf.predict(np.array([["a"] * 6]))


def test_divergence_names_the_epoch_and_keeps_finite_weights(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, "epochs": 5, "l2": 1.0}, solver="sgd", learning_rate=1e20)
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch 1: .*; lower the learning rate"):
        clf.fit(X, y)
    assert all(np.isfinite(w).all() for w in clf.coefs_)


def test_no_hidden_layer_is_logistic_regression(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**SMALL, "hidden_sizes": ()}, learning_rate=0.05).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(6, 3)] and clf.score(X, y) > 0.9
