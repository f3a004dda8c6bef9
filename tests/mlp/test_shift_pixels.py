"""shift_pixels: the MLP's cheap augmentation moves each batch's images, never the caller's data."""

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
def mnist_slice():
    """The first 400 MNIST training images as [0, 1] rows (400, 784) and their labels."""
    train = load("mnist", "train")
    return (train.images[:400].reshape(400, -1) / 255.0).astype(np.float32), train.labels[:400]


def _inputs_seen(monkeypatch, clf: MLPClassifier, X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Fit `clf` and return a copy of every input block its forward passes received."""
    seen, forward = [], trainer_module.forward

    def recording_forward(spec, params, X_block, *args, **kwargs):
        seen.append(np.array(X_block))
        return forward(spec, params, X_block, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "forward", recording_forward)
    clf.fit(X, y)
    return seen


def _is_shift_of(image: np.ndarray, original: np.ndarray, max_shift: int) -> bool:
    """True when `image` is `original` moved by some (dy, dx) within max_shift, zero-filled."""
    side = original.shape[0]
    padded = np.pad(original, max_shift)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            top, left = max_shift - dy, max_shift - dx
            if np.array_equal(image, padded[top:top + side, left:left + side]):
                return True
    return False


@pytest.mark.parametrize("shuffle", [True, False])
def test_every_batch_is_made_of_shifted_images_and_the_data_stays_untouched(monkeypatch, mnist_slice, shuffle):
    X, y = mnist_slice
    before = X.copy()
    seen = _inputs_seen(monkeypatch, MLPClassifier(**RUN, shift_pixels=1, shuffle=shuffle), X, y)
    np.testing.assert_array_equal(X, before)
    # Most MNIST digits sit inside an empty border, so a 1-pixel shift keeps every pixel value and
    # the sorted values find the image a row came from; the few that touch the edge are searched for.
    by_values = {np.sort(row).tobytes(): row.reshape(28, 28) for row in X}
    rows = np.concatenate(seen[:len(X) // RUN["batch_size"]])  # the first epoch's blocks
    assert len(rows) == len(X)
    moved = 0
    for row in rows:
        image = row.reshape(28, 28)
        original = by_values.get(np.sort(row).tobytes())
        if original is None:
            original = next((o.reshape(28, 28) for o in X if _is_shift_of(image, o.reshape(28, 28), 1)), None)
        assert original is not None and _is_shift_of(image, original, 1), "a batch row is no 1-pixel shift"
        moved += not np.array_equal(image, original)
    assert moved > len(rows) // 2  # 8 of the 9 offsets move the image


def test_without_shift_the_batches_are_the_data_rows(monkeypatch, mnist_slice):
    X, y = mnist_slice
    seen = _inputs_seen(monkeypatch, MLPClassifier(**RUN), X, y)
    originals = {row.tobytes() for row in X}
    assert all(row.tobytes() in originals for row in np.concatenate(seen[:8]))


def test_shifted_training_is_reproducible_and_continues_bit_for_bit(mnist_slice):
    X, y = mnist_slice
    options = {**RUN, "shift_pixels": 2, "epochs": 4}
    straight = MLPClassifier(**options).fit(X, y)
    again = MLPClassifier(**options).fit(X, y)
    assert_same_training(straight, again)
    halves = MLPClassifier(**{**options, "epochs": 2}).fit(X, y)
    halves.set_params(warm_start=True).fit(X, y)
    assert_same_training(straight, halves)
    plain = MLPClassifier(**{**options, "shift_pixels": 0}).fit(X, y)
    assert not np.array_equal(plain.coefs_[0], straight.coefs_[0])


@pytest.mark.parametrize(("change", "X_of", "message"), [
    ({"shift_pixels": -1}, None, "shift_pixels=-1 is not valid"),
    ({"shift_pixels": 1.5}, None, "shift_pixels=1.5 is not valid"),
    ({"shift_pixels": 1}, lambda X: X[:, :700], "700 features, which is not a square"),
    ({"shift_pixels": 1}, scipy.sparse.csr_matrix, "X is sparse"),
    ({"shift_pixels": 28}, None, "keep it below 28"),
    ({"shift_pixels": 1, "solver": "lbfgs"}, None, "lbfgs trains on the whole set"),
])
def test_shifts_it_cannot_make_are_refused_with_the_fix(mnist_slice, change, X_of, message):
    X, y = mnist_slice
    with pytest.raises(ConfigError, match=message):
        MLPClassifier(**{**RUN, **change}).fit(X if X_of is None else X_of(X), y)
