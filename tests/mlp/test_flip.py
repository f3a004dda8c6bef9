"""flip: the MLP's mirror augmentation (for Fashion-MNIST) mirrors about half of each batch, never the data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from mlp_checks import assert_same_training

from mnistlab import MLPClassifier
from mnistlab.data.dataset import load
from mnistlab.errors import ConfigError
from mnistlab.mlp import trainer as trainer_module

RUN = dict(hidden_sizes=(16,), batch_size=50, epochs=2, n_iter_no_change=None, random_state=0)


@pytest.fixture(scope="module")
def fashion_slice():
    """The first 400 Fashion-MNIST training images as [0, 1] rows (400, 784) and their labels."""
    train = load("fashion-mnist", "train")
    return (train.images[:400].reshape(400, -1) / 255.0).astype(np.float32), train.labels[:400]


def test_every_batch_row_is_its_image_or_its_mirror_and_about_half_are_mirrored(monkeypatch, fashion_slice):
    X, y = fashion_slice
    before, seen, forward = X.copy(), [], trainer_module.forward

    def recording_forward(spec, params, X_block, *args, **kwargs):
        seen.append(np.array(X_block))
        return forward(spec, params, X_block, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "forward", recording_forward)
    MLPClassifier(**RUN, flip=True, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(X, before)
    rows = np.concatenate(seen[:len(X) // RUN["batch_size"]]).reshape(-1, 28, 28)  # the first epoch, in order
    images = X.reshape(-1, 28, 28)
    mirrored = [np.array_equal(row, image[:, ::-1]) and not np.array_equal(row, image)
                for row, image in zip(rows, images)]
    kept = [np.array_equal(row, image) for row, image in zip(rows, images)]
    assert all(m or k for m, k in zip(mirrored, kept))
    assert 150 < sum(mirrored) < 250  # about half of 400


def test_flipped_training_is_reproducible_and_continues_bit_for_bit(fashion_slice):
    X, y = fashion_slice
    options = {**RUN, "flip": True, "shift_pixels": 1, "epochs": 4}
    straight = MLPClassifier(**options).fit(X, y)
    assert_same_training(straight, MLPClassifier(**options).fit(X, y))
    halves = MLPClassifier(**{**options, "epochs": 2}).fit(X, y)
    halves.set_params(warm_start=True).fit(X, y)
    assert_same_training(straight, halves)
    unflipped = MLPClassifier(**{**options, "flip": False}).fit(X, y)
    assert not np.array_equal(unflipped.coefs_[0], straight.coefs_[0])


@pytest.mark.parametrize(("change", "X_of", "message"), [
    ({"flip": "yes"}, None, "flip='yes' is not valid"),
    ({"flip": True}, lambda X: X[:, :700], "700 features, which is not a square"),
    ({"flip": True}, scipy.sparse.csr_matrix, "X is sparse"),
    ({"flip": True, "solver": "lbfgs"}, None, "lbfgs trains on the whole set"),
])
def test_flips_it_cannot_make_are_refused_with_the_fix(fashion_slice, change, X_of, message):
    X, y = fashion_slice
    with pytest.raises(ConfigError, match=message):
        MLPClassifier(**{**RUN, **change}).fit(X if X_of is None else X_of(X), y)


def test_flip_with_pca_is_refused_and_a_presets_flip_is_turned_off():
    from mnistlab.runs.kinds import get_kind

    kind = get_kind("mlp")
    with pytest.raises(ConfigError, match="flip mirrors images, but PCA"):
        kind.resolve_config(preset="default", overrides={"pca_components": 50, "flip": True})
    assert kind.resolve_config(preset="default", overrides={"pca_components": 50}).mlp.flip is False
