"""Fixtures for the CNN tests: tiny slices of Fashion-MNIST and a small, fast architecture."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from mnistlab.cnn.config import CNNConfig, LayerSpec

if importlib.util.find_spec("keras") is not None and "keras" not in sys.modules:
    from mnistlab.cnn.backend import resolve_backend

    # Before any test module's importorskip("keras"): Keras on its own would pick tensorflow.
    os.environ.setdefault("KERAS_BACKEND", resolve_backend())


@pytest.fixture(scope="session")
def fashion_slice():
    """The first 512 training and 256 test images of Fashion-MNIST: (x_train, y_train, x_test, y_test)."""
    from mnistlab.data import load

    train, test = load("fashion-mnist", "train"), load("fashion-mnist", "test")
    return train.images[:512], train.labels[:512], test.images[:256], test.labels[:256]


@pytest.fixture
def small_config():
    """A few-thousand-parameter CNN that trains on 384 images (128 held out) in about a second."""
    layers = [LayerSpec("conv", 4), LayerSpec("maxpool", kernel=2, stride=0), LayerSpec("conv", 8),
              LayerSpec("maxpool", kernel=2, stride=0), LayerSpec("flatten"), LayerSpec("dense", 16)]
    return CNNConfig(dataset="fashion-mnist", layers=layers, epochs=2, batch_size=32, optimizer="adam",
                     learning_rate=0.003, schedule="none", validation_split=0.25, train_size=512)
