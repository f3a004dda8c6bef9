"""Fixtures of the insight tests: a tiny CNN trained for seconds on a slice of MNIST."""

from __future__ import annotations

import importlib.util

import pytest

if importlib.util.find_spec("keras") is not None:
    # Load Keras through mnistlab's door before any test module imports it, so the default
    # backend (torch, or $KERAS_BACKEND) is used rather than Keras' own default (tensorflow).
    from mnistlab.cnn.backend import import_keras

    import_keras()

N_TRAIN = 1000


def tiny_config(**changes):
    """A small seed-shaped CNN (conv1/pool1/conv2/pool2/conv3/flatten/dense1/output)."""
    from mnistlab.cnn.config import CNNConfig, LayerSpec

    layers = [LayerSpec("conv", 8), LayerSpec("maxpool", kernel=2, stride=0), LayerSpec("conv", 12),
              LayerSpec("maxpool", kernel=2, stride=0), LayerSpec("conv", 16), LayerSpec("flatten"),
              LayerSpec("dense", 16)]
    base = dict(layers=layers, epochs=4, batch_size=32, validation_split=0.0, optimizer="adam", learning_rate=0.01,
                schedule="none", seed=0)
    base.update(changes)
    return CNNConfig(**base)


@pytest.fixture(scope="session")
def make_config():
    """`tiny_config` as a fixture (test modules must not import from conftest)."""
    return tiny_config


@pytest.fixture(scope="session")
def mnist_slices():
    """(train images, train labels, test images, test labels): small slices of real MNIST."""
    from mnistlab.data import load

    train, test = load("mnist", "train"), load("mnist", "test")
    return train.images[:N_TRAIN], train.labels[:N_TRAIN], test.images[:300], test.labels[:300]


@pytest.fixture(scope="session")
def tiny_model(mnist_slices):
    """A tiny CNN trained for 4 epochs on 1000 MNIST images (about 85-90% test accuracy)."""
    pytest.importorskip("keras")
    from mnistlab.cnn.train import train

    images, labels, _, _ = mnist_slices
    return train(tiny_config(), images, labels).model


@pytest.fixture(scope="session")
def tiny_model_file(tiny_model, tmp_path_factory):
    """The tiny model saved as model.keras in a run-like directory (run.json + config.json)."""
    import json

    from mnistlab.cnn.io import save_model

    run = tmp_path_factory.mktemp("run")
    (run / "run.json").write_text(json.dumps({"kind": "cnn", "name": "tiny", "status": "completed"}))
    (run / "config.json").write_text(json.dumps({"dataset": "mnist"}))
    save_model(tiny_model, run / "model.keras")
    return run / "model.keras"
