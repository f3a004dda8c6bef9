"""Small data for the MLP tests: a seeded blob problem and tiny random nets."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def blobs():
    """A 3-class problem, X (300, 6) float64 and integer labels y (300,), separable enough to learn."""
    rng = np.random.default_rng(42)
    centers = rng.normal(scale=3.0, size=(3, 6))
    y = rng.integers(0, 3, size=300)
    X = centers[y] + rng.normal(size=(300, 6))
    return X, y
