"""Full-MNIST accuracy of the seed preset (slow: about 6 s of training on one quiet core)."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

from mnistlab.mlp.estimator import MLPClassifier
from mnistlab.mlp.run import PRESETS, prepare_data


@pytest.mark.slow
def test_seed_preset_beats_the_seeds_own_35_epoch_test_accuracy():
    # The seed's own code reached 96.29% test accuracy after these 35 epochs (Step II article);
    # ours reaches about 96.8% (docs/mlp.md). 97% needs inputs scaled by 1/255 instead.
    cfg = PRESETS["seed"]
    X_train, y_train, X_test, y_test, _, _ = prepare_data(cfg)
    clf = MLPClassifier.from_config(cfg.mlp).set_params(eval_train_every=0, eval_test_every=0)
    with threadpool_limits(1):  # one BLAS thread: about 6 s, and steady when the cores are shared
        clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.965


@pytest.mark.slow
def test_documented_default_reaches_98_5_percent():
    # `mnistlab mlp train` (docs/mlp.md): 784-512-256-10 ReLU, Adam with decay, 1-pixel shifts,
    # 15 epochs of 128: 98.8% with seed 0 (issue 16's target is 98.5%).
    cfg = PRESETS["default"]
    X_train, y_train, X_test, y_test, _, _ = prepare_data(cfg)
    clf = MLPClassifier.from_config(cfg.mlp).set_params(eval_train_every=0, eval_test_every=0)
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.985
