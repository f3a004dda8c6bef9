"""`load(name, split)`: one split of a dataset as a frozen `Dataset`, with a seeded validation hold-out."""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass

import numpy as np

from mnistlab.data import catalog
from mnistlab.data.fetch import fetch
from mnistlab.errors import ConfigError


@dataclass(frozen=True)
class Dataset:
    """One split of an image dataset.

    Attributes
    ----------
    images : numpy.ndarray
        uint8 (N, 28, 28), pixel values 0..255.
    labels : numpy.ndarray
        uint8 (N,), class indices into `class_names`.
    class_names : tuple of str
    name : str
        "mnist" or "fashion-mnist".
    split : str
        "train", "test" or "validation".
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, split={self.split!r}, n={len(self)}, image_shape={self.images.shape[1:]})"


def holdout_size(validation_size: int | float, n_samples: int) -> int:
    """Number of samples held out: an int count, or a float fraction of `n_samples`."""
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Real):
        raise ConfigError(f"validation_size={validation_size!r} must be an int count or a float fraction in (0, 1)")
    if isinstance(validation_size, numbers.Integral):
        size = int(validation_size)
        if not 0 < size < n_samples:
            raise ConfigError(
                f"validation_size={size} must be between 1 and {n_samples - 1} (the training set has {n_samples})"
            )
        return size
    if not 0.0 < validation_size < 1.0:
        raise ConfigError(f"validation_size={validation_size!r} as a fraction must lie strictly between 0 and 1")
    return min(max(1, round(validation_size * n_samples)), n_samples - 1)


def holdout_mask(
    n_samples: int, validation_size: int | float, random_state: int | np.random.Generator = 0
) -> np.ndarray:
    """Boolean mask (n_samples,) marking a seeded random hold-out; the same seed gives the same mask."""
    size = holdout_size(validation_size, n_samples)
    rng = np.random.default_rng(random_state)
    mask = np.zeros(n_samples, dtype=bool)
    mask[rng.permutation(n_samples)[:size]] = True
    return mask


def load(
    name: str,
    split: str,
    *,
    validation_size: int | float | None = None,
    random_state: int | np.random.Generator = 0,
    data_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Load one split of MNIST or Fashion-MNIST from the verified cache (filling it if needed).

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    split : {"train", "test", "validation"}
        "validation" is a seeded hold-out of `validation_size` samples from the training set;
        "train" with `validation_size` set is the training set minus that hold-out.
    validation_size : int or float, optional
        A count, or a fraction of the 60000 training images. Ignored for "test".
    random_state : int or numpy.random.Generator
        Seed of the hold-out; "train" and "validation" with the same seed are disjoint.
    data_dir : path, optional
        A directory of IDX files to use when the cache does not have the data yet.

    Returns
    -------
    Dataset
        images uint8 (N, 28, 28), labels uint8 (N,), class names, name and split, in the
        datasets' standard order.

    Examples
    --------
    >>> from mnistlab.data import load
    >>> test = load("mnist", "test")
    >>> test.images.shape, test.labels[:5].tolist()
    ((10000, 28, 28), [7, 2, 1, 0, 4])
    """
    spec = catalog.get_spec(name)
    catalog.check_split(split)
    if split == "validation" and validation_size is None:
        raise ConfigError("split='validation' needs validation_size (a count such as 5000 or a fraction such as 0.1)")
    source_split = "test" if split == "test" else "train"
    fetched = fetch(name, (source_split,), data_dir=data_dir)[source_split]
    images, labels = fetched.images, fetched.labels
    if split != "test" and validation_size is not None:
        mask = holdout_mask(len(labels), validation_size, random_state)
        keep = mask if split == "validation" else ~mask
        images, labels = images[keep], labels[keep]
    return Dataset(images=images, labels=labels, class_names=spec.class_names, name=name, split=split)
