"""Which recipe reaches issue 16's targets fastest: candidates timed to a test accuracy, medians over seeds.

Two searches, printed as Markdown tables (and written as JSON with ``--out FILE``):

- ``mlp``: candidates for the documented default MLP (`mnistlab mlp train`, DEFAULT_PRESET with
  pixels / 255): changes to its options, trained by `MLPClassifier.fit` with the test set scored
  after every epoch; the training seconds are the history's `epoch_seconds` (evaluation excluded).
  Target: >= 98.5% in <= 20 s of training on two cores. Options this checkout's estimator does not
  have (e.g. ``dropout`` before the sklearn branch lands) are reported and skipped.
- ``cnn``: candidates for `mnistlab cnn train --preset fast`: changes to CNN_PRESETS["fast"],
  turned into a `bench tta` recipe and trained by `bench tta`'s Keras engine (the preset's backend,
  TensorFlow by default) in a worker with bounded threads. Target: >= 99.0% in <= 20 s.

Run on a quiet machine (timings are meaningless while other jobs run)::

    python benchmarks/tta_search.py mlp --threads 2 --seeds 0,1,2 --out benchmarks/tta_search_mlp.json
    python benchmarks/tta_search.py cnn --threads 2 --seeds 0,1,2 --out benchmarks/tta_search_cnn.json

``--n-train 2000 --max-epochs 1`` checks that every candidate runs, in a minute or two.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from mnistlab.cnn.config import CNN_PRESETS, LayerSpec

MLP_CANDIDATES: dict[str, dict[str, Any]] = {
    "default preset": {},
    "no shift": {"shift_pixels": 0},
    "no shift, L2 5e-4, 20 epochs (old default)": {"shift_pixels": 0, "l2": 0.0005, "epochs": 20},
    "L2 5e-4": {"l2": 0.0005},
    "shift 2": {"shift_pixels": 2},
    "12 epochs": {"epochs": 12},
    "glorot init": {"init": "glorot"},
    "batch 256, lr 2e-3": {"batch_size": 256, "learning_rate": 0.002},
}
"""Changes to `mnistlab.mlp.config.DEFAULT_PRESET` (512-256 ReLU, Adam 1e-3 / (1 + 0.3 t), batch 128,
one-pixel shifts, 15 epochs). The first pass before shifts existed (one seed) is in benchmarks/README.md."""


def _blocks(first: int, second: int, dense: int) -> list[LayerSpec]:
    """The fast preset's layers with other widths: conv `first` - BN - pool - conv `second` - BN - pool - dense."""
    return [LayerSpec("conv", first), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
            LayerSpec("conv", second), LayerSpec("batchnorm"), LayerSpec("maxpool", kernel=2, stride=0),
            LayerSpec("flatten"), LayerSpec("dense", dense)]


CNN_CANDIDATES: dict[str, dict[str, Any]] = {
    "fast preset": {},
    "no label smoothing": {"label_smoothing": 0.0},
    "lr 4e-3, warm-up 0.3": {"learning_rate": 0.004, "warmup_epochs": 0.3},
    "20-40 filters": {"layers": _blocks(20, 40, 128)},
    "batch 128, lr 3e-3": {"batch_size": 128, "learning_rate": 0.003},
    "32-64 filters, batch 128, lr 3e-3 (first fast preset)": {"layers": _blocks(32, 64, 128), "batch_size": 128,
                                                             "learning_rate": 0.003},
}
"""Changes to `mnistlab.cnn.config.CNN_PRESETS["fast"]` (16-32 filters, batch 256, Adam 5e-3 one-cycle,
label smoothing 0.1, 3 epochs)."""


def time_to(accuracies: list[float], seconds: list[float], target: float) -> float | None:
    """Training seconds up to the first epoch at or above `target` (None: never)."""
    total = 0.0
    for accuracy, s in zip(accuracies, seconds):
        total += s
        if accuracy >= target:
            return total
    return None


def search_mlp(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every MLP candidate on every seed, in this process, BLAS bounded to `args.threads`."""
    from mnistlab.threads import configure_threads

    configure_threads(args.threads)
    from mnistlab import MLPClassifier
    from mnistlab.bench.dataset import load_bench_data
    from mnistlab.mlp.config import DEFAULT_PRESET

    data = load_bench_data("mnist", args.n_train, scaler="unit")
    known = set(MLPClassifier().get_params())
    rows = []
    for seed in args.seeds:  # seeds as rounds, candidates interleaved
        for name, changes in MLP_CANDIDATES.items():
            missing = sorted(set(changes) - known)
            if missing:
                print(f"skipped {name!r}: this MLPClassifier has no {', '.join(missing)}", file=sys.stderr)
                continue
            params = {**DEFAULT_PRESET.to_dict(), "eval_train_every": 0, "eval_test_every": 1, **changes,
                      "random_state": seed}
            if args.max_epochs:
                params["epochs"] = min(params["epochs"], args.max_epochs)
            model = MLPClassifier(**params).fit(data.X_train, data.y_train, eval_set=(data.X_test, data.y_test))
            history = model.history_.as_arrays()
            accuracies, seconds = history["test_accuracy"].tolist(), history["epoch_seconds"].tolist()
            rows.append(_row(name, seed, accuracies, seconds, args.mlp_target))
            print(_progress(rows[-1]), file=sys.stderr)
    return rows


def search_cnn(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every CNN candidate on every seed, in one `bench tta` Keras worker with `args.threads` threads."""
    from mnistlab.bench.client import Worker
    from mnistlab.bench.dataset import load_bench_data, save_bench_data
    from mnistlab.bench.jobs import TtaJob
    from mnistlab.bench.recipes import recipe_from_cnn_config
    from mnistlab.cnn.backend import resolve_backend
    recipes = {}
    for name, changes in CNN_CANDIDATES.items():
        config = dataclasses.replace(CNN_PRESETS["fast"], **changes)
        if args.max_epochs:
            config = dataclasses.replace(config, epochs=min(config.epochs, args.max_epochs),
                                         warmup_epochs=min(config.warmup_epochs, 0.5))
        recipes[name] = recipe_from_cnn_config(name, config.validate())
    data = load_bench_data("mnist", args.n_train, scaler="unit")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mnistlab-tta-search-") as tmp:
        save_bench_data(data, Path(tmp))
        with Worker(f"keras-{resolve_backend(args.backend)}", args.threads, Path(tmp)) as worker:
            for seed in args.seeds:
                for name, recipe in recipes.items():
                    run = worker.run(TtaJob(recipe=recipe, target=args.cnn_target, random_state=seed,
                                            stop_at_target=False))
                    rows.append(_row(name, seed, run["epoch_accuracy"], run["epoch_seconds"], args.cnn_target))
                    print(_progress(rows[-1]), file=sys.stderr)
    return rows


def _row(name: str, seed: int, accuracies: list[float], seconds: list[float], target: float) -> dict[str, Any]:
    return {"candidate": name, "seed": seed, "target": target, "epoch_accuracy": accuracies, "epoch_seconds": seconds,
            "tta_seconds": time_to(accuracies, seconds, target), "final_accuracy": accuracies[-1],
            "train_seconds": sum(seconds)}


def _progress(row: dict[str, Any]) -> str:
    tta = f"{row['tta_seconds']:.1f} s" if row["tta_seconds"] is not None else "not reached"
    return (f"seed {row['seed']} {row['candidate']:<32} to {row['target']:.1%}: {tta}; final "
            f"{row['final_accuracy']:.4f} after {row['train_seconds']:.1f} s")


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per candidate: median seconds to target (never = infinite), seeds reaching it, final accuracy."""
    lines = ["| candidate | s to target (median) | reached | final acc (median) | train s (median) |",
             "|---|---:|---:|---:|---:|"]
    for name in dict.fromkeys(r["candidate"] for r in rows):
        group = [r for r in rows if r["candidate"] == name]
        tta = statistics.median(r["tta_seconds"] if r["tta_seconds"] is not None else float("inf") for r in group)
        lines.append(f"| {name} | {tta:.1f} | {sum(r['tta_seconds'] is not None for r in group)}/{len(group)} | "
                     f"{statistics.median(r['final_accuracy'] for r in group):.4f} | "
                     f"{statistics.median(r['train_seconds'] for r in group):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse, search, print the table; write the raw rows with --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["mlp", "cnn"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--n-train", type=int, help="first N training images only (a check that candidates run)")
    parser.add_argument("--max-epochs", type=int, help="cap every candidate's epochs")
    parser.add_argument("--backend", help="Keras backend for the CNN [default: as `cnn train`]")
    parser.add_argument("--mlp-target", type=float, default=0.985)
    parser.add_argument("--cnn-target", type=float, default=0.99)
    parser.add_argument("--out", type=Path, help="write the raw rows here as JSON")
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    rows = search_mlp(args) if args.model == "mlp" else search_cnn(args)
    print(markdown(rows))
    if args.out is not None:
        from mnistlab.bench.report import write_text_atomic

        write_text_atomic(args.out, json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
