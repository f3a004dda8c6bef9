"""Turn a drawing into an MNIST-style 28x28 image, the way MNIST's digits were made.

LeCun et al.: each digit was size-normalised to fit a 20x20 box keeping its aspect ratio, with
anti-aliasing (so the result has grey levels), then centred in a 28x28 field by its centre of
mass. A model trained on MNIST expects exactly this; a raw 28x28 downscale of a drawing (thin,
off-centre, the wrong size) is misread far more often.

Example
-------
>>> canvas = np.zeros((280, 280)); canvas[40:240, 130:150] = 255     # a vertical bar
>>> image = mnist_style(canvas)
>>> image.shape, image.dtype, int(image.max())
((28, 28), dtype('uint8'), 255)
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
from scipy import ndimage

from mnistlab.errors import ConfigError

BOX = 20
SIZE = 28
CENTRE = 14.0  # where MNIST's digits have their centre of mass: 14.00 +- 0.29 (row and column, training set)
MAX_SIDE = 560


def as_canvas(values: object) -> np.ndarray:
    """A drawing -> float64 (h, w); ConfigError if malformed.

    Either nested lists (rows of ink values 0..255) or, as the page sends it, one image in the
    lab's stack form {"h", "w", "data": base64 of h*w uint8 ink values} (encode.py): that decodes
    in microseconds where a 140x140 list of numbers takes a millisecond to parse.
    """
    if isinstance(values, dict):
        return _decoded_canvas(values)
    try:
        canvas = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("image must be a list of rows of numbers (ink 0..255)") from None
    _check_shape(canvas.shape)
    if not np.all(np.isfinite(canvas)) or canvas.min() < 0 or canvas.max() > 255:
        raise ConfigError("image values must be finite ink levels in 0..255")
    return canvas


def _decoded_canvas(stack: dict) -> np.ndarray:
    h, w, data = stack.get("h"), stack.get("w"), stack.get("data")
    if not (isinstance(h, int) and isinstance(w, int) and isinstance(data, str)):
        raise ConfigError('an encoded image is {"h": rows, "w": columns, "data": base64 of h*w bytes}')
    _check_shape((h, w))
    try:
        pixels = np.frombuffer(base64.b64decode(data, validate=True), dtype=np.uint8)
    except (binascii.Error, ValueError):
        raise ConfigError("the image's data is not base64; send base64 of h*w ink bytes") from None
    if pixels.size != h * w:
        raise ConfigError(f"the image's data holds {pixels.size} bytes, not h*w = {h * w}")
    return pixels.reshape(h, w).astype(np.float64)


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 2 or not 1 <= shape[0] <= MAX_SIDE or not 1 <= shape[1] <= MAX_SIDE:
        raise ConfigError(f"image must be 2-D with sides of 1..{MAX_SIDE} pixels, got shape {tuple(shape)}")


def mnist_style(canvas: np.ndarray) -> np.ndarray:
    """Fit the ink of `canvas` (h, w; 0 = background) into 20x20 keeping aspect ratio, centre by mass in 28x28.

    Returns uint8 (28, 28), ink 0..255 with the darkest stroke at 255; an empty canvas gives zeros.
    """
    canvas = np.asarray(canvas, dtype=np.float64)
    rows, cols = np.flatnonzero(canvas.max(axis=1) > 0), np.flatnonzero(canvas.max(axis=0) > 0)
    if rows.size == 0:
        return np.zeros((SIZE, SIZE), dtype=np.uint8)
    ink = canvas[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # (h, w) bounding box of the stroke
    scale = BOX / max(ink.shape)
    if scale < 1:
        # Anti-aliasing: blur away detail finer than a target pixel before sampling.
        ink = ndimage.gaussian_filter(ink, sigma=0.4 / scale)
    height, width = (max(1, round(side * scale)) for side in ink.shape)
    small = ndimage.zoom(ink, (height / ink.shape[0], width / ink.shape[1]), order=1, grid_mode=True, mode="nearest")
    field = np.zeros((SIZE, SIZE), dtype=np.float64)
    top, left = (SIZE - small.shape[0]) // 2, (SIZE - small.shape[1]) // 2
    field[top:top + small.shape[0], left:left + small.shape[1]] = np.clip(small, 0, None)
    if field.max() <= 0:
        return np.zeros((SIZE, SIZE), dtype=np.uint8)
    centre = np.array(ndimage.center_of_mass(field))
    field = ndimage.shift(field, CENTRE - centre, order=1, mode="constant", cval=0.0)
    field *= 255.0 / max(field.max(), 1e-9)
    return np.clip(np.rint(field), 0, 255).astype(np.uint8)
