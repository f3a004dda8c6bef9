"""Cheap augmentation in NumPy: every image moved by a few whole pixels, zero-filled; mirrored images.

Small shifts are the augmentation that costs almost nothing on MNIST (a gather per batch) and
still helps a net generalise: the CNN (`cnn.augment`) and the MLP (`shift_pixels`) both use it,
on uint8 images or on [0, 1] floats alike.
"""

from __future__ import annotations

import math

import numpy as np


def _as_images(images: np.ndarray) -> np.ndarray:
    """(n, side*side) rows of square images as (n, side, side) (a view); images as they are."""
    images = np.asarray(images)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"rows of {images.shape[1]} values are not square images")
        return images.reshape(len(images), side, side)
    return images


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of `images` (n, H, W), (n, H, W, 1) or (n, H*W) rows of square images, each moved by (dy, dx) drawn
    from [-max_shift, max_shift].

    Pixels shifted in from outside are 0 (the background). `max_shift` 0 returns an unchanged copy.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 5, 5), np.uint8); img[0, 2, 2] = 255
    >>> out = shift_images(img, 1, np.random.default_rng(0))
    >>> int(out.sum()) == 255 and out[0, 1:4, 1:4].max() == 255
    True
    """
    shape, images = np.shape(images), _as_images(images)
    out = np.zeros_like(images)
    if max_shift == 0:
        out[...] = images
        return out.reshape(shape)
    n, height, width = images.shape[:3]
    offsets = rng.integers(-max_shift, max_shift + 1, size=(n, 2))  # (n, (dy, dx))
    padded = np.zeros((n, height + 2 * max_shift, width + 2 * max_shift, *images.shape[3:]), images.dtype)
    padded[:, max_shift:max_shift + height, max_shift:max_shift + width] = images
    for dy in range(-max_shift, max_shift + 1):  # one gather per offset: (2s+1)^2 slices, not n
        for dx in range(-max_shift, max_shift + 1):
            rows = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
            if rows.size:
                top, left = max_shift - dy, max_shift - dx
                out[rows] = padded[rows, top:top + height, left:left + width]
    return out.reshape(shape)


def flip_images(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of `images` (n, H, W), (n, H, W, 1) or (n, H*W) rows of square images, about half of them, drawn at
    random, mirrored left-right.

    Valid for Fashion-MNIST (a shirt mirrored is still a shirt), not for digits (a mirrored 2 is no
    digit); the CNN and the MLP turn it on with their `flip` option.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((64, 3, 3), np.uint8); img[:, 1, 0] = 255
    >>> out = flip_images(img, np.random.default_rng(0))
    >>> 0 < int(out[:, 1, 2].astype(bool).sum()) < 64 and bool((out[:, 1, 0] | out[:, 1, 2]).all())
    True
    """
    shape, images = np.shape(images), _as_images(images)
    out = images.copy()
    rows = np.flatnonzero(rng.random(len(images)) < 0.5)
    out[rows] = images[rows, :, ::-1]
    return out.reshape(shape)
