"""Time a fixed number of training batches of a CNN on the current Keras backend.

Used to choose the default backend (docs/cnn.md); run one backend per process::

    python -m mnistlab.cnn.timing --backend jax --batch-size 64 --batches 60

It prints one JSON line: backend, batch size, batches, seconds per batch and the seconds one
epoch of 60000 images would take at that rate. Data are random images (speed does not depend
on the pixel values), so no dataset is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from typing import Any

import numpy as np

from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.model import build_model

EPOCH_IMAGES = 60_000


def time_batches(config: CNNConfig, batch_size: int, n_batches: int, warmup_batches: int = 3) -> dict[str, Any]:
    """Train the model of `config` on `n_batches` random batches and time it (after a warm-up).

    Returns a dict with backend, batch_size, batches, seconds, seconds_per_batch,
    epoch_seconds (60000 images at that rate) and cpu_seconds (process CPU time of the timed part).
    """
    keras = import_keras(config.backend, device=config.device, threads=config.threads)
    rng = np.random.default_rng(config.seed)
    x = rng.random((batch_size * max(n_batches, warmup_batches), 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    model = build_model(config, keras=keras)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    warm = batch_size * warmup_batches
    model.fit(x[:warm], y[:warm], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    cpu0, start = _cpu_seconds(), time.perf_counter()
    n = batch_size * n_batches
    model.fit(x[:n], y[:n], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
    per_batch = seconds / n_batches
    return {"backend": keras.backend.backend(), "batch_size": batch_size, "batches": n_batches,
            "seconds": seconds, "seconds_per_batch": per_batch,
            "epoch_seconds": per_batch * EPOCH_IMAGES / batch_size, "cpu_seconds": cpu}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: time one backend and print the result as a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    config = CNNConfig(backend=args.backend, threads=args.threads)
    print(json.dumps(time_batches(config, args.batch_size, args.batches)))


if __name__ == "__main__":
    main()
