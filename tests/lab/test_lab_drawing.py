"""MNIST-style preprocessing of a drawing: 20x20 box, aspect ratio kept, anti-aliased, centred by mass."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mnistlab.data import load
from mnistlab.errors import ConfigError
from mnistlab.lab.drawing import as_canvas, mnist_style


def ink_box(image: np.ndarray, threshold: int = 40) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.max(axis=1) > threshold), np.flatnonzero(image.max(axis=0) > threshold)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_a_tall_stroke_fills_20_pixels_and_keeps_its_aspect_ratio():
    canvas = np.zeros((280, 280))
    canvas[30:250, 120:160] = 255  # 220 x 40: aspect 5.5
    image = mnist_style(canvas)
    height, width = ink_box(image)
    assert image.shape == (28, 28) and image.dtype == np.uint8 and image.max() == 255
    assert 19 <= height <= 21 and 3 <= width <= 5


def test_the_digit_is_centred_by_its_centre_of_mass_not_its_box():
    canvas = np.zeros((200, 200))
    canvas[10:190, 20:40] = 255     # a heavy left bar ...
    canvas[10:20, 40:190] = 60      # ... and a faint top line: the mass sits left of the box centre
    image = mnist_style(canvas).astype(float)
    row, col = ndimage.center_of_mass(image)
    assert abs(row - 14) < 0.3 and abs(col - 14) < 0.3  # where MNIST's digits have theirs
    assert ink_box(image, threshold=0)[1] <= 23  # the box itself is off-centre, as in MNIST


def test_it_is_anti_aliased_not_thresholded():
    canvas = np.zeros((280, 280))
    canvas[40:240, 60:220] = 0
    yy, xx = np.mgrid[:280, :280]
    canvas[np.abs(np.hypot(yy - 140, xx - 140) - 90) < 10] = 255  # a ring, like a 0
    levels = np.unique(mnist_style(canvas))
    assert len(levels) > 20  # grey levels at the edges


def test_an_mnist_digit_drawn_large_comes_back_close_to_itself():
    """A real test digit, blown up to a 280x280 "drawing", is preprocessed back to nearly the original."""
    correlations = []
    for digit in load("mnist", "test").images[:100]:
        drawing = np.kron(digit.astype(float), np.ones((10, 10)))
        again = mnist_style(drawing).astype(float)
        correlations.append(np.corrcoef(again.ravel(), digit.astype(float).ravel())[0, 1])
    assert np.mean(correlations) > 0.93 and np.min(correlations) > 0.85


def test_an_empty_canvas_gives_an_empty_image():
    assert not mnist_style(np.zeros((50, 50))).any()


@pytest.mark.parametrize("value, words", [("text", "list of rows"), ([1, 2, 3], "2-D"), ([[1, 2], [3]], "list of rows"),
                                          ([[-1.0]], "0..255"), ([[float("nan")]], "0..255"),
                                          ([[0] * 600], "1..560")])
def test_malformed_drawings_are_refused_with_the_reason(value, words):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        as_canvas(value)


def test_an_encoded_drawing_is_the_same_canvas_as_its_rows():
    import base64

    rows = np.random.default_rng(0).integers(0, 256, (140, 120)).astype(np.uint8)
    encoded = {"h": 140, "w": 120, "data": base64.b64encode(rows.tobytes()).decode()}
    assert np.array_equal(as_canvas(encoded), as_canvas(rows.tolist()))


@pytest.mark.parametrize("value, words", [({"h": 2, "w": 2}, "base64 of h\\*w bytes"),
                                          ({"h": 2, "w": 2, "data": "not base64!"}, "not base64"),
                                          ({"h": 2, "w": 2, "data": "AAAA"}, "holds 3 bytes, not h\\*w = 4"),
                                          ({"h": 0, "w": 2, "data": ""}, "1..560")])
def test_malformed_encoded_drawings_are_refused_with_the_reason(value, words):
    with pytest.raises(ConfigError, match=words):
        as_canvas(value)
