"""Every epoch's weights of a run, epoch 0 included (runs/snapshots.py), as training writes them."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import ModelFileError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.estimator import MLPClassifier
from mnistlab.mlp.run import MLPRunConfig
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.snapshots import disk_bytes, load_snapshot, snapshot_epochs
from mnistlab.runs.training import train_mlp_run


def mlp_run(runs_dir, epochs):
    config = MLPRunConfig(scaler="unit", train_size=600, mlp=MLPConfig(hidden_sizes=(8,), epochs=epochs, random_state=3,
                                                                       n_iter_no_change=None))
    return train_mlp_run(config, runs_dir=str(runs_dir), name=f"e{epochs}")["run_dir"]


def test_an_mlp_run_keeps_its_first_layer_from_the_initial_weights_to_the_last_epoch(tmp_path):
    short, long = mlp_run(tmp_path, 1), mlp_run(tmp_path, 3)
    assert snapshot_epochs(short) == [0, 1] and snapshot_epochs(long) == [0, 1, 2, 3]
    for epoch in (0, 1):  # the same seed trains the same first epoch
        assert np.array_equal(load_snapshot(short, epoch)["first_layer"], load_snapshot(long, epoch)["first_layer"])
    assert not np.array_equal(load_snapshot(long, 0)["first_layer"], load_snapshot(long, 3)["first_layer"])
    final = MLPClassifier.load(f"{long}/model.npz").coefs_[0]
    assert np.array_equal(load_snapshot(long, 3)["first_layer"], final.astype(np.float16))
    assert 4 * 784 * 8 * 2 < disk_bytes(long) < 4 * (784 * 8 * 2 + 1024)


def test_the_kind_rebuilds_the_model_at_an_epoch(tmp_path):
    run = mlp_run(tmp_path, 2)
    kind = get_kind("mlp")
    final = kind.load_model(run)
    at0 = kind.model_at_epoch(final, run, 0)
    assert np.array_equal(at0.classifier.coefs_[0], load_snapshot(run, 0)["first_layer"].astype(np.float32))
    assert at0.classifier.coefs_[1] is final.classifier.coefs_[1]  # only the first layer is kept per epoch
    assert final.classifier.coefs_[0].dtype == np.float32 and not np.array_equal(final.classifier.coefs_[0],
                                                                               at0.classifier.coefs_[0])
    with pytest.raises(ModelFileError, match="no weights of epoch 5; it keeps epochs 0..2"):
        kind.model_at_epoch(final, run, 5)


def test_a_resumed_run_keeps_its_first_epochs_and_adds_the_new_ones(tmp_path):
    from mnistlab.runs.resume import resume_run

    run = mlp_run(tmp_path, 2)
    before = {epoch: load_snapshot(run, epoch)["first_layer"] for epoch in (0, 1, 2)}
    resume_run(run, epochs=4)
    assert snapshot_epochs(run) == [0, 1, 2, 3, 4]
    assert all(np.array_equal(load_snapshot(run, e)["first_layer"], before[e]) for e in before)  # epoch 0 not rewritten
    reference = mlp_run(tmp_path, 4)  # the MLP resumes bit for bit, so its epochs match an uninterrupted run's
    assert np.array_equal(load_snapshot(run, 4)["first_layer"], load_snapshot(reference, 4)["first_layer"])
