"""What a scikit-learn user expects of an MLPClassifier (issue 13), on iris, digits and small generated data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from sklearn.datasets import load_digits, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mnistlab import MLPClassifier

FIXED = dict(hidden_sizes=(16,), batch_size=32, n_iter_no_change=None, init="sqrt_nodes", random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def test_zero_sample_weights_equal_dropping_the_rows(iris):
    """Full-batch L-BFGS in float64: weight 0 removes a row exactly, a constant weight changes nothing."""
    X, y = iris
    options = dict(hidden_sizes=(5,), solver="lbfgs", epochs=30, dtype="float64", n_iter_no_change=None,
                   random_state=0)
    keep = np.arange(len(y)) % 3 != 0
    dropped = MLPClassifier(**options).fit(X[keep], y[keep])
    weighted = MLPClassifier(**options).fit(X, y, sample_weight=keep.astype(float))
    doubled = MLPClassifier(**options).fit(X[keep], y[keep], sample_weight=np.full(keep.sum(), 2.0))
    for a, b, c in zip(dropped.coefs_, weighted.coefs_, doubled.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(c, a, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fit", ["fit", "partial_fit"])
def test_sample_weight_steers_the_classifier(blobs, fit):
    X, y = blobs
    weights = np.where(y == 0, 1.0, 1e-4)
    clf = MLPClassifier(**FIXED, epochs=10)
    if fit == "fit":
        clf.fit(X, y, sample_weight=weights)
    else:
        for _ in range(10):
            clf.partial_fit(X, y, sample_weight=weights, classes=[0, 1, 2])
    assert np.mean(clf.predict(X[y == 0]) == 0) > 0.9 and clf.score(X, y) < 0.9


def test_class_weight_balanced_and_dict(blobs):
    X, y = blobs
    rare = np.concatenate([np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:5]])
    X, y = X[rare] + np.random.default_rng(0).normal(scale=3, size=X[rare].shape), y[rare]
    plain = MLPClassifier(**FIXED, epochs=10).fit(X, y)
    balanced = MLPClassifier(**FIXED, epochs=10, class_weight="balanced").fit(X, y)
    recall = [np.mean(m.predict(X[y == 2]) == 2) for m in (plain, balanced)]
    assert recall[1] > recall[0]
    only_zero = MLPClassifier(**FIXED, epochs=10, learning_rate=0.01, class_weight={0: 1.0, 1: 1e-4, 2: 1e-4})
    only_zero.fit(X, y)
    assert np.mean(only_zero.predict(X) == 0) > np.mean(plain.predict(X) == 0) + 0.2
    with pytest.raises(ValueError, match="class_weight names label"):
        MLPClassifier(**FIXED, class_weight={7: 1.0}).fit(X, y)


def test_defaults_converge_with_scikit_learns_attributes(iris):
    X, y = iris
    clf = MLPClassifier(hidden_sizes=(16,), random_state=0, learning_rate=0.01, tol=1e-3).fit(X, y)
    assert clf.n_iter_ < 200 and clf.score(X, y) > 0.855
    assert clf.t_ == clf.n_iter_ * len(y) and clf.best_loss_ == pytest.approx(min(clf.loss_curve_))
    assert clf.loss_ == clf.loss_curve_[-1] and clf.validation_scores_ is None
    assert (clf.n_layers_, clf.n_outputs_, clf.out_activation_) == (3, 3, "softmax")


@pytest.mark.parametrize("n_iter_no_change,warns,epochs_run", [(1, False, 3), (np.inf, True, 12), (None, False, 12)])
def test_stopping_rule_and_convergence_warning(iris, n_iter_no_change, warns, epochs_run):
    X, y = iris
    clf = MLPClassifier(hidden_sizes=(8,), epochs=12, tol=10.0, n_iter_no_change=n_iter_no_change, random_state=0)
    if warns:
        with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(12\\)"):
            clf.fit(X, y)
    else:
        clf.fit(X, y)
    # tol=10: only the first epoch counts as an improvement; more than 1 without one stops (epoch 3)
    assert clf.n_iter_ == epochs_run


def test_early_stopping_is_stratified_and_keeps_the_best(iris):
    X, y = iris
    clf = MLPClassifier(hidden_sizes=(8,), early_stopping=True, validation_fraction=0.2, random_state=0,
                        learning_rate=0.05).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.n_iter_ < 200 and clf.score(X, y) > 0.85
    with pytest.raises(ValueError, match="needs at least 2 samples of every class; class 2 has 1"):
        MLPClassifier(early_stopping=True).fit(X[:101], y[:101])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_trains_like_dense(digits, fmt):
    X, y = digits
    options = dict(FIXED, epochs=3, dtype="float64")
    dense = MLPClassifier(**options).fit(X, y)
    sparse = MLPClassifier(**options).fit(scipy.sparse.csr_matrix(X).asformat(fmt), y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(scipy.sparse.csr_array(X)), dense.predict_proba(X), atol=1e-12)


def test_after_one_hot_encoder_in_a_pipeline():
    rng = np.random.default_rng(0)
    X = rng.choice(["a", "b", "c"], size=(200, 3))
    y = (X[:, 0] == "a") | (X[:, 1] == "b")
    pipe = make_pipeline(OneHotEncoder(), MLPClassifier(hidden_sizes=(8,), random_state=0, learning_rate=0.01))
    assert pipe.fit(X, y).score(X, y) > 0.95


def test_binary_problems_use_one_logistic_unit(blobs):
    X, y = blobs
    clf = MLPClassifier(**FIXED, epochs=10).fit(X[y < 2], np.array(["no", "yes"])[y[y < 2]])
    assert clf.coefs_[-1].shape == (16, 1) and clf.n_outputs_ == 1 and clf.out_activation_ == "sigmoid"
    proba = clf.predict_proba(X[:5])
    unit = clf._trainer.predictor.outputs(clf._trainer.spec, clf._trainer.params, X[:5].astype(np.float32))
    np.testing.assert_allclose(proba[:, 1], unit[:, 0]) and np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(X)) <= {"no", "yes"}


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(**{**FIXED, "epochs": 60}, learning_rate=0.01).fit(X, Y)
    assert clf.predict(X).shape == Y.shape and set(np.unique(clf.predict(X))) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and not np.allclose(proba.sum(axis=1), 1)
    assert clf.score(X, Y) > 0.5  # subset accuracy: every label of a row right


def test_lbfgs_learns_iris_and_has_no_partial_fit(iris):
    X, y = iris
    clf = MLPClassifier(hidden_sizes=(8,), solver="lbfgs", epochs=100, random_state=0)
    assert not hasattr(clf, "partial_fit")
    clf.fit(X, y)
    assert clf.score(X, y) > 0.97 and 1 <= clf.n_iter_ <= 100 and len(clf.loss_curve_) == clf.n_iter_
    with pytest.warns(ConvergenceWarning, match="L-BFGS-B"):
        MLPClassifier(hidden_sizes=(8,), solver="lbfgs", epochs=3, random_state=0).fit(X, y)


def test_learning_rate_schedules(iris):
    X, y = iris
    inv = MLPClassifier(**{**FIXED, "epochs": 3}, solver="sgd", learning_rate=0.1, lr_schedule="invscaling",
                        power_t=0.5).fit(X, y)
    np.testing.assert_allclose(inv.history_.as_arrays()["learning_rate"], [0.1, 0.1 / np.sqrt(151), 0.1 / np.sqrt(301)])
    const = MLPClassifier(**{**FIXED, "epochs": 2}, decrease_const=0.5, lr_schedule="constant").fit(X, y)
    assert const.history_.as_arrays()["learning_rate"].tolist() == [0.001, 0.001]
    with pytest.warns(ConvergenceWarning):
        adaptive = MLPClassifier(hidden_sizes=(8,), epochs=6, solver="sgd", learning_rate=0.1, tol=10.0,
                                 n_iter_no_change=1, lr_schedule="adaptive", random_state=0).fit(X, y)
    # The first epoch improves on nothing before it; after epochs 2 and 3 stall, the rate drops by 5.
    np.testing.assert_allclose(adaptive.history_.as_arrays()["learning_rate"], [0.1, 0.1, 0.1, 0.02, 0.02, 0.004])


def test_dropout_trains_and_predicts_deterministically(digits):
    X, y = digits
    plain = MLPClassifier(**{**FIXED, "epochs": 15}, learning_rate=0.01).fit(X, y)
    dropped = MLPClassifier(**{**FIXED, "epochs": 15}, learning_rate=0.01, dropout=0.3).fit(X, y)
    assert dropped.score(X, y) > 0.9 and not np.array_equal(plain.coefs_[0], dropped.coefs_[0])
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))


def test_identity_activation_log_proba_dtype_and_random_states(blobs, capsys):
    X, y = blobs
    clf = MLPClassifier(**{**FIXED, "epochs": 5}, activation="identity", dtype="float64", verbose=True).fit(X, y)
    assert clf.score(X, y) > 0.9 and clf.coefs_[0].dtype == np.float64
    assert capsys.readouterr().out.splitlines()[0].startswith("Iteration 1, loss = ")
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))
    for seed in (np.random.RandomState(0), np.random.default_rng(0), None):
        assert MLPClassifier(**{**FIXED, "epochs": 2, "random_state": seed}).fit(X, y).n_iter_ == 2


def test_epoch_callbacks_see_each_row_and_can_stop(blobs):
    X, y = blobs
    rows = []
    clf = MLPClassifier(**FIXED, epochs=10).fit(X, y, on_epoch_end=[rows.append, lambda row: row["epoch"] == 3])
    assert clf.n_iter_ == 3 and [r["epoch"] for r in rows] == [1, 2, 3] and "loss" in rows[0]


def test_scikit_learns_hand_worked_sgd_step():
    """scikit-learn's test_fit: one SGD step of a 3-2-1 logistic net, worked out by hand."""
    X, y = np.array([[0.6, 0.8, 0.7]]), np.array([0])
    clf = MLPClassifier(hidden_sizes=(2,), activation="sigmoid", solver="sgd", learning_rate=0.1, l2=0.1,
                        momentum=0.0, batch_size=1, random_state=1)
    clf.partial_fit(X, y, classes=[0, 1])  # initialises; the weights are then set in place
    for array, value in zip(clf.coefs_ + clf.intercepts_, ([[0.1, 0.2], [0.3, 0.1], [0.5, 0]], [[0.1], [0.2]],
                                                           [0.1, 0.1], [1.0])):
        array[...] = value
    clf.partial_fit(X, y)
    np.testing.assert_allclose(clf.coefs_[0], [[0.098, 0.195756], [0.2956664, 0.096008], [0.4939998, -0.002244]],
                               atol=1e-3)
    np.testing.assert_allclose(clf.coefs_[1], [[0.04706], [0.154089]], atol=1e-3)
    np.testing.assert_allclose(clf.intercepts_[0], [0.098333, 0.09626], atol=1e-3)
    np.testing.assert_allclose(clf.intercepts_[1], [0.9235], atol=1e-3)
    assert clf.predict_proba(X)[0, 1] == pytest.approx(0.739, abs=1e-3)
