"""`python -m mnistlab.cnn.cpu_probe BACKEND [THREADS]`: seconds of a short CNN training, printed.

Run by `mnistlab.cnn.cpu_settings` in a fresh process for each value of a framework setting
(the framework reads it when it loads). The seed CNN's shape (two 3x3 conv blocks and a dense
layer) on random 28x28 images, batch 128: two untimed batches (graph building), then the best
of three timings of 4 batches, about 1-3 s on two cores.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from mnistlab.cnn.backend import import_keras


def probe(backend: str, threads: int | None) -> float:
    """Best seconds for 4 training batches of 128 images."""
    keras = import_keras(backend, threads=threads)
    rng = np.random.default_rng(0)
    x = rng.random((128, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Conv2D(64, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(2):
        model.train_on_batch(x, y)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(4):
            model.train_on_batch(x, y)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    print(probe(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
