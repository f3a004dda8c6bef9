"""The lab answers with the library's own numbers: its class probabilities equal the kind's predict_proba.

On real runs trained through the library (conftest's `lab_runs`: a small MLP and a tiny CNN), the
lab's model cache and `/api/predict`'s `predict_one` (the kind's activations, one forward pass
that also gives every layer) must give what `ModelKind.predict_proba` gives on the same images,
loaded independently through the registry.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mnistlab.data import load
from mnistlab.lab.models import ModelCache
from mnistlab.lab.predict import predict_one
from mnistlab.runs.kinds import get_kind

KINDS_TRAINED = ["mlp", pytest.param("cnn", marks=pytest.mark.skipif(importlib.util.find_spec("keras") is None,
                                                                     reason="the CNN needs Keras"))]


@pytest.fixture(scope="module")
def test_images() -> np.ndarray:
    return load("mnist", "test").images[:64]  # (64, 28, 28) uint8


@pytest.mark.parametrize("kind_name", KINDS_TRAINED)
def test_the_labs_probabilities_are_the_kinds(lab_runs, test_images, kind_name):
    run_dir = lab_runs[kind_name]
    kind = get_kind(kind_name)
    expected = kind.predict_proba(kind.load_model(run_dir), test_images)  # (64, 10)
    assert expected.shape == (64, 10) and np.allclose(expected.sum(axis=1), 1.0, atol=1e-4)

    lab_model = ModelCache().get(run_dir, kind_name)
    assert np.allclose(lab_model.probabilities(test_images), expected, atol=1e-6)
    answers = [predict_one(lab_model, image, details=True)["probabilities"] for image in test_images[:8]]
    assert np.allclose(answers, expected[:8], atol=1e-5)  # the API rounds to 5 decimals
    assert [int(np.argmax(a)) for a in answers] == list(np.argmax(expected[:8], axis=1))


def test_the_check_would_see_another_models_probabilities(lab_runs, test_images):
    """Positive control: two different trained MLPs do not pass as equal under the same tolerance."""
    kind = get_kind("mlp")
    mine = kind.predict_proba(kind.load_model(lab_runs["mlp"]), test_images)
    other = ModelCache().get(lab_runs["mlp_small"], "mlp").probabilities(test_images)
    assert not np.allclose(other, mine, atol=1e-5)
