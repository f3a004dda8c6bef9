"""A runs directory of many real-format runs, for the lab's 1,000-run benchmarks and tests.

Each run is written by the run-directory owner itself (`mnistlab.runs.rundir`), so run.json,
config.json, environment.json, metrics.csv and summary.json are exactly what a training leaves;
only the numbers are invented. The runs vary the way a user's do: MLP and CNN (about 3:1), both
datasets, presets with a few options changed (learning rate, hidden sizes, batch size, seed),
5 to 30 epochs of plausible curves, and statuses mostly completed with some interrupted,
stopped, diverged and failed. There are no model files: these runs are for tables, queries,
curves and indexes, not for drawing. The same `seed` gives the same runs (folder names carry the
creation time).

Use it from Python (`generate_runs(path, 1000)`) or the command line:

    python benchmarks/many_runs.py /tmp/runs-1000 --count 1000

Tests load it by path (`importlib.util.spec_from_file_location`), as tests/lab/test_lab_load.py does.

A thousand runs took 96 s to write with every file fsynced, as the real writer does, and 13 s with
`durable=False` (`--no-fsync`: the same files without the fsyncs, what tests and benchmarks that do
not measure the disk want); 2-core AMD EPYC, loaded by other work.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from mnistlab.cnn.config import CNN_PRESETS
from mnistlab.mlp.run import PRESETS
from mnistlab import fileio
from mnistlab.env import environment_info
from mnistlab.runs import rundir
from mnistlab.runs.rundir import RunDir

HIDDEN_SIZES = ((64,), (128,), (256, 128), (512, 256), (70, 30))
STATUS_WEIGHTS = {"completed": 0.86, "interrupted": 0.05, "stopped": 0.04, "diverged": 0.03, "failed": 0.02}


def _curve(rng: np.random.Generator, epochs: int, final_accuracy: float, diverged: bool) -> list[dict[str, Any]]:
    """Per-epoch rows shaped like metrics.csv's: loss falls, accuracy rises towards `final_accuracy`."""
    rows, seconds = [], float(rng.uniform(0.5, 20.0))
    for epoch in range(1, epochs + 1):
        progress = 1.0 - math.exp(-3.0 * epoch / epochs)
        accuracy = 0.1 + (final_accuracy - 0.1) * progress + float(rng.normal(0, 0.002))
        loss = 2.3 * (1.0 - progress) + (1.0 - final_accuracy) * 2 + float(rng.uniform(0, 0.01))
        if diverged and epoch > epochs // 2:
            accuracy, loss = 0.1, 12.0 + epoch
        rows.append({"epoch": epoch, "loss": round(loss, 5), "accuracy": round(min(accuracy + 0.005, 1.0), 5),
                     "train_accuracy": round(min(accuracy + 0.004, 1.0), 5),
                     "test_accuracy": round(min(accuracy, 1.0), 5),
                     "epoch_seconds": round(seconds * float(rng.uniform(0.9, 1.1)), 4)})
    return rows


def _mlp_config(rng: np.random.Generator) -> dict[str, Any]:
    base = PRESETS[str(rng.choice(["default", "seed"]))]
    mlp = replace(base.mlp, learning_rate=float(rng.choice([1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 0.1])),
                  hidden_sizes=HIDDEN_SIZES[int(rng.integers(len(HIDDEN_SIZES)))],
                  batch_size=int(rng.choice([32, 64, 128, 256])), epochs=int(rng.integers(5, 31)),
                  random_state=int(rng.integers(0, 10)))
    config = replace(base, dataset=str(rng.choice(["mnist", "fashion-mnist"], p=[0.7, 0.3])), mlp=mlp)
    return config.to_dict()


def _cnn_config(rng: np.random.Generator) -> dict[str, Any]:
    base = CNN_PRESETS[str(rng.choice(["fast", "seed"]))]
    config = base.replace(dataset=str(rng.choice(["mnist", "fashion-mnist"], p=[0.7, 0.3])),
                          learning_rate=float(rng.choice([1e-3, 3e-3, 5e-3, 1e-2])),
                          batch_size=int(rng.choice([64, 128, 256])), epochs=int(rng.integers(5, 31)),
                          seed=int(rng.integers(0, 10)))
    return config.to_dict()


def generate_run(runs_dir: Path, index: int, rng: np.random.Generator) -> Path:
    """Write run number `index` (a finished run with config, metrics and summary) into `runs_dir`."""
    kind = "mlp" if rng.random() < 0.75 else "cnn"
    config = _mlp_config(rng) if kind == "mlp" else _cnn_config(rng)
    epochs = (config.get("mlp") or config)["epochs"]
    status = str(rng.choice(list(STATUS_WEIGHTS), p=list(STATUS_WEIGHTS.values())))
    done = epochs if status in ("completed", "diverged") else int(rng.integers(1, epochs + 1))
    ceiling = 0.99 if config["dataset"] == "mnist" else 0.91
    spread = 0.08 if kind == "mlp" else 0.02
    final = float(rng.uniform(ceiling - spread, ceiling))
    run = RunDir.create(runs_dir, f"gen-{kind}-{index:04d}", kind, config)
    rows = _curve(rng, done, final, diverged=status == "diverged")
    for row in rows:
        run.log_epoch(row)
    last = rows[-1]
    summary = {"model": kind, "dataset": config["dataset"], "epochs": done,
               "test_accuracy": last["test_accuracy"] if status == "completed" else None,
               "train_seconds": round(sum(r["epoch_seconds"] for r in rows), 3),
               "train_accuracy": last["train_accuracy"], "loss": last["loss"], "run_dir": str(run.path)}
    if status == "failed":
        summary["error"] = "OSError: [Errno 28] No space left on device"
    run.finish(summary, status)
    return run.path


def generate_runs(runs_dir: str | Path, count: int = 1000, *, seed: int = 0, durable: bool = True) -> list[Path]:
    """Write `count` real-format runs into `runs_dir` (created if needed); return their directories.

    `durable=False` turns the atomic writer's fsyncs into no-ops while writing (same files, ~20x faster).
    """
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    environment = environment_info()  # the same machine for every run: asked once (it reads package metadata)
    no_fsync = contextlib.nullcontext() if durable else mock.patch.object(fileio.os, "fsync", lambda fd: None)
    with mock.patch.object(rundir, "environment_info", lambda: environment), no_fsync:
        return [generate_run(runs_dir, index, rng) for index in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", type=Path, help="where to write the runs (created if needed)")
    parser.add_argument("--count", type=int, default=1000, help="how many runs [1000]")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the invented numbers [0]")
    parser.add_argument("--no-fsync", action="store_true", help="skip the fsyncs (same files, much faster)")
    args = parser.parse_args(argv)
    paths = generate_runs(args.runs_dir, args.count, seed=args.seed, durable=not args.no_fsync)
    print(f"{len(paths)} runs written to {args.runs_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
