"""Check that a pair of arrays is exactly one split of a known dataset (shapes, counts, SHA-256)."""

from __future__ import annotations

import hashlib

import numpy as np

from mnistlab.data import catalog
from mnistlab.errors import DataError


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 hex digest of an array's bytes in C order (dtype and shape are checked separately)."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def identify(images: np.ndarray, labels: np.ndarray) -> tuple[str, str] | None:
    """The (name, split) whose known checksums these arrays match, or None."""
    images_sha, labels_sha = array_sha256(images), array_sha256(labels)
    for key, expected in catalog.EXPECTED.items():
        if expected.images_sha256 == images_sha and expected.labels_sha256 == labels_sha:
            return key
    return None


def verify_split(
    images: np.ndarray, labels: np.ndarray, name: str, split: str, *, source: str, fix: str
) -> None:
    """Raise a one-line DataError unless (images, labels) is exactly split `split` of `name`.

    Parameters
    ----------
    images : numpy.ndarray
        Must be uint8 (N, 28, 28).
    labels : numpy.ndarray
        Must be uint8 (N,) with values below the number of classes.
    name, split : str
        The dataset and split the arrays claim to be; their entry in `catalog.EXPECTED` gives
        the count and SHA-256 digests to match.
    source : str
        Where the arrays came from (a file or URL), named in the error.
    fix : str
        What the user should do about a failure, appended to the error.
    """
    spec = catalog.get_spec(name)
    expected = catalog.EXPECTED[(name, split)]
    what = f"{spec.title} {split} from {source}"
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != catalog.IMAGE_SHAPE:
        got = f"shape {images.shape} and dtype {images.dtype}"
        raise DataError(f"{what}: images have {got}, expected uint8 (N, 28, 28); {fix}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        got = f"shape {labels.shape} and dtype {labels.dtype}"
        raise DataError(f"{what}: labels have {got}, expected uint8 (N,); {fix}")
    if len(images) != len(labels):
        raise DataError(f"{what}: {len(images)} images but {len(labels)} labels; {fix}")
    if len(labels) and int(labels.max()) >= len(spec.class_names):
        raise DataError(f"{what}: label {int(labels.max())} is out of range 0..{len(spec.class_names) - 1}; {fix}")
    if len(images) != expected.count:
        raise DataError(f"{what}: {len(images)} images, expected {expected.count}; {fix}")
    images_sha, labels_sha = array_sha256(images), array_sha256(labels)
    if images_sha == expected.images_sha256 and labels_sha == expected.labels_sha256:
        return
    other = identify(images, labels)
    hint = f" (these are {catalog.DATASETS[other[0]].title} {other[1]})" if other else ""
    part = "images" if images_sha != expected.images_sha256 else "labels"
    got = images_sha if part == "images" else labels_sha
    want = expected.images_sha256 if part == "images" else expected.labels_sha256
    raise DataError(f"{what}: SHA-256 of the {part} is {got[:16]}..., expected {want[:16]}...{hint}; {fix}")
