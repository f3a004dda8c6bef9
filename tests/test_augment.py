"""Shifts and flips (mnistlab.data.augment) take images or rows of square images alike."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.data.augment import flip_images, shift_images


@pytest.mark.parametrize("augment", [lambda x, rng: shift_images(x, 2, rng), flip_images])
def test_rows_of_square_images_are_augmented_as_the_images_are(augment):
    images = np.random.default_rng(1).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    as_images = augment(images, np.random.default_rng(0))
    as_rows = augment(images.reshape(50, 784), np.random.default_rng(0))
    assert as_rows.shape == (50, 784) and np.array_equal(as_rows.reshape(50, 28, 28), as_images)
    assert not np.array_equal(as_images, images)  # something moved


def test_rows_that_are_not_square_images_are_refused():
    with pytest.raises(ValueError, match="700 values are not square images"):
        flip_images(np.zeros((3, 700)), np.random.default_rng(0))
