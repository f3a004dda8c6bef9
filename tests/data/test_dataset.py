"""`load()` on the real offline copies, the validation hold-out, and argument errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from idxfiles import REAL_CACHE_DIR

from mnistlab.data import Dataset, catalog, load
from mnistlab.data.dataset import holdout_mask
from mnistlab.data.fetch import cache_report
from mnistlab.data.verify import array_sha256
from mnistlab.errors import ConfigError

# Per-class counts of the official training sets (MNIST's are the well-known 5923, 6742, ...).
TRAIN_CLASS_COUNTS = {
    "mnist": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "fashion-mnist": [6000] * 10,
}
FIRST_TEST_LABELS = {"mnist": [7, 2, 1, 0, 4, 1, 4, 9, 5, 9], "fashion-mnist": [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]}


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_datasets_match_the_official_ones(use_real_cache, name):
    train, test = load(name, "train"), load(name, "test")
    for dataset, split, count in ((train, "train", 60000), (test, "test", 10000)):
        assert isinstance(dataset, Dataset) and (dataset.name, dataset.split) == (name, split)
        assert dataset.images.shape == (count, 28, 28) and dataset.images.dtype == np.uint8
        assert dataset.labels.shape == (count,) and dataset.labels.dtype == np.uint8
        assert dataset.class_names == catalog.DATASETS[name].class_names and len(dataset.class_names) == 10
        expected = catalog.EXPECTED[(name, split)]
        assert array_sha256(dataset.images) == expected.images_sha256
        assert array_sha256(dataset.labels) == expected.labels_sha256
    assert np.bincount(train.labels).tolist() == TRAIN_CLASS_COUNTS[name]
    assert test.labels[:10].tolist() == FIRST_TEST_LABELS[name]
    assert 0 < train.images.mean() < 255 and train.images.max() == 255


def test_mnist_training_set_starts_with_the_standard_digits(use_real_cache):
    train = load("mnist", "train")
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    # The first training image (a 5) has 166 non-zero pixels.
    assert int(np.count_nonzero(train.images[0])) == 166


def test_dataset_is_frozen(use_real_cache):
    dataset = load("fashion-mnist", "test")
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataset.name = "mnist"
    assert "n=10000" in repr(dataset) and len(dataset) == 10000


@pytest.mark.parametrize("size", [5000, 0.1])
def test_validation_holdout_is_reproducible_and_disjoint(use_real_cache, size):
    full = load("mnist", "train")
    train = load("mnist", "train", validation_size=size, random_state=3)
    valid = load("mnist", "validation", validation_size=size, random_state=3)
    assert (len(train), len(valid)) == ((55000, 5000) if size == 5000 else (54000, 6000))
    again = load("mnist", "validation", validation_size=size, random_state=3)
    np.testing.assert_array_equal(again.images, valid.images)
    other = load("mnist", "validation", validation_size=size, random_state=4)
    assert not np.array_equal(other.labels, valid.labels)
    mask = holdout_mask(60000, size, 3)
    np.testing.assert_array_equal(valid.images, full.images[mask])
    np.testing.assert_array_equal(train.labels, full.labels[~mask])
    assert valid.split == "validation" and train.split == "train"


def test_holdout_accepts_a_generator():
    first = holdout_mask(100, 10, np.random.default_rng(7))
    np.testing.assert_array_equal(first, holdout_mask(100, 10, np.random.default_rng(7)))
    assert first.sum() == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cifar10", "split": "train"}, "unknown dataset 'cifar10': choose one of 'mnist', 'fashion-mnist'"),
        ({"name": "mnist", "split": "val"}, "unknown split 'val'"),
        ({"name": "mnist", "split": "validation"}, "needs validation_size"),
        ({"name": "mnist", "split": "train", "validation_size": 0}, "between 1 and 59999"),
        ({"name": "mnist", "split": "train", "validation_size": 60000}, "between 1 and 59999"),
        ({"name": "mnist", "split": "train", "validation_size": 1.5}, "strictly between 0 and 1"),
        ({"name": "mnist", "split": "train", "validation_size": True}, "must be an int count or a float"),
        ({"name": "mnist", "split": "train", "validation_size": "10%"}, "must be an int count or a float"),
    ],
)
def test_bad_arguments(use_real_cache, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        load(**kwargs)


def test_the_users_cache_is_only_read():
    """Read-only look at the user's real cache (the one `make run` fills): every present split verifies."""
    entries = [entry for entry in cache_report(REAL_CACHE_DIR) if entry.status != "missing"]
    if not entries:
        pytest.skip(f"the user's cache {REAL_CACHE_DIR} is empty")
    before = {entry.path: (REAL_CACHE_DIR / entry.path).stat().st_mtime_ns for entry in entries}
    for entry in entries:
        assert entry.status == "ok", f"{entry.path} is {entry.status}"
        assert entry.images_sha256 == catalog.EXPECTED[(entry.name, entry.split)].images_sha256
    assert before == {path: (REAL_CACHE_DIR / path).stat().st_mtime_ns for path in before}
