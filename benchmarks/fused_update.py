"""The fused optimizer update against the NumPy reference, A/B in one process (mnistlab.mlp.fused).

Two measurements, each alternating the two variants `--repeats` times so that load and cache
effects fall on both alike; the figures are medians and their ratio:
- the update alone on the mlp-adam recipe's parameter buffer (784-512-256-10: 535,818 floats);
- seconds per epoch of the mlp-adam recipe (Adam, batch 128) on the first `--rows` MNIST images.

Run: `python benchmarks/fused_update.py --threads 2 --repeats 7` (after `configure_threads`, so
BLAS and the kernel obey the same bound as `--threads`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from mnistlab.threads import configure_threads


def _medians(variants: dict, repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    import numpy as np  # after the thread bound, like the CLI

    from mnistlab.data.dataset import load
    from mnistlab.mlp.estimator import MLPClassifier
    from mnistlab.mlp.optimizers import Adam

    rng = np.random.default_rng(0)
    size = 784 * 512 + 512 * 256 + 256 * 10 + 512 + 256 + 10
    grad = rng.standard_normal(size, dtype=np.float32) * np.float32(0.01)
    optimizers = {name: (Adam(1e-3, fused=name == "fused"), rng.standard_normal(size, dtype=np.float32))
                  for name in ("numpy", "fused")}
    scratch = np.empty_like(grad)

    def step(name: str):
        opt, params = optimizers[name]
        return lambda: (np.copyto(scratch, grad), opt.update([params], [scratch]))

    for name in optimizers:
        step(name)()  # compile / allocate outside the timing
    update = _medians({name: step(name) for name in optimizers}, max(50, 30 * args.repeats))
    print(f"threads {args.threads}: Adam update of {size:,} float32, median of {max(50, 30 * args.repeats)}: "
          f"numpy {update['numpy'] * 1e6:.0f} us, fused {update['fused'] * 1e6:.0f} us, "
          f"ratio {update['fused'] / update['numpy']:.2f}")

    data = load("mnist", "train")
    X = data.images[:args.rows].reshape(args.rows, -1).astype(np.float32) / np.float32(255)
    y = data.labels[:args.rows]
    models = {}
    for name in ("numpy", "fused"):
        model = MLPClassifier(hidden_sizes=(512, 256), activation="relu", solver="adam", learning_rate=1e-3,
                              epsilon=1e-7, batch_size=128, init="sqrt_nodes", random_state=0)
        model.partial_fit(X, y, classes=np.arange(10))  # the untimed first epoch builds buffers, compiles
        model._trainer.optimizer.fused = name == "fused"
        models[name] = model
    epoch = _medians({name: (lambda m=m: m.partial_fit(X, y)) for name, m in models.items()}, args.repeats)
    print(f"threads {args.threads}: mlp-adam epoch of {args.rows:,} rows, median of {args.repeats}: "
          f"numpy {epoch['numpy']:.3f} s, fused {epoch['fused']:.3f} s, ratio {epoch['fused'] / epoch['numpy']:.2f}")


if __name__ == "__main__":
    main()
