"""With its defaults, MLPClassifier does at least as well as scikit-learn's on iris and digits (issue 13)."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier as ScikitLearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mnistlab import MLPClassifier


@pytest.mark.slow
@pytest.mark.timeout(1800)  # five folds of two estimators on digits: about a minute on a quiet machine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # both run out on some folds
@pytest.mark.parametrize("loader", [load_iris, load_digits], ids=["iris", "digits"])
def test_defaults_score_at_least_scikit_learns_in_5_fold_cv(loader):
    X, y = loader(return_X_y=True)
    scores = [cross_val_score(make_pipeline(StandardScaler(), clf), X, y, cv=5).mean()
              for clf in (MLPClassifier(random_state=0), ScikitLearnMLP(random_state=0))]
    assert scores[0] >= scores[1]
