"""Full-MNIST accuracy of the default CNN (slow: about 100 s of training on two quiet cores)."""

from __future__ import annotations

import pytest

from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.evaluate import evaluate
from mnistlab.cnn.train import train
from mnistlab.data import load

pytestmark = [pytest.mark.cnn, pytest.mark.slow]


def test_default_cnn_reaches_the_documented_mnist_accuracy():
    pytest.importorskip("keras")
    # The defaults reach 99.40% with seed 0 and 99.27% with seed 1 after 5 epochs (docs/cnn.md);
    # the target they were tuned for is 99.2%.
    train_set, test_set = load("mnist", "train"), load("mnist", "test")
    result = train(CNNConfig(dataset="mnist"), train_set.images, train_set.labels)
    assert len(result.history) == 5
    assert evaluate(result.model, test_set.images, test_set.labels).accuracy >= 0.992
