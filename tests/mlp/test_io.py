"""Save/load round trips: identical predictions, no pickle, atomic writes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import MLPClassifier
from mnistlab.errors import ModelFileError


@pytest.fixture
def fitted(blobs):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    return MLPClassifier(hidden_sizes=(8, 5), epochs=5, batch_size=50, n_iter_no_change=None, random_state=0,
                         eval_train_every=1).fit(X, labels), X


def test_round_trip_predicts_exactly_the_same(fitted, tmp_path):
    clf, X = fitted
    path = tmp_path / "model.npz"
    clf.save(path)
    loaded = MLPClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.get_params() == clf.get_params()
    assert loaded.n_iter_ == 5 and loaded.classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.history_.as_arrays()["loss"], clf.history_.as_arrays()["loss"])
    with np.load(path, allow_pickle=False) as data:
        assert data["weights_0"].dtype == np.float32
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


def test_loaded_model_can_keep_training(fitted, tmp_path):
    clf, X = fitted
    clf.save(tmp_path / "m.npz")
    loaded = MLPClassifier.load(tmp_path / "m.npz")
    loaded.partial_fit(X, clf.predict(X))
    assert loaded.n_iter_ == 1 and len(loaded.history_) == 6


def test_failed_save_keeps_the_old_file(fitted, tmp_path, monkeypatch):
    clf, _ = fitted
    path = tmp_path / "model.npz"
    clf.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        clf.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_bad_files_raise_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="no model file"):
        MLPClassifier.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a readable"):
        MLPClassifier.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ModelFileError, match="not an mnistlab MLP model"):
        MLPClassifier.load(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array("mnistlab-mlp"), format_version=np.array(1),
             config_json=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ModelFileError):
        MLPClassifier.load(pickled)
