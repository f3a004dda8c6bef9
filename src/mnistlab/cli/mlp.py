"""`mnistlab mlp train|eval`: the NumPy MLP from the command line.

Options resolve in three layers: `--preset` (default "default") or `--config FILE` (a run's
config.json), then every option given explicitly; the MLP kind (`mnistlab.runs.kinds.mlp`)
resolves them, as for a sweep and the lab. The resolved config is printed and stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mnistlab.cli.mlp_options import mlp_options
from mnistlab.cli.options import print_evaluation, resolve_train_config, run_record_options, train_and_print
from mnistlab.data.catalog import DATASET_NAMES


@click.group("mlp")
def mlp_group() -> None:
    """The from-scratch NumPy MLP (the seed's MyANN): train and evaluate."""


@mlp_group.command("train")
@click.option("--preset", type=click.Choice(["default", "fashion", "seed"]),
              help="Starting configuration: the documented default (>= 98% on MNIST), fashion (Fashion-MNIST, "
                   "1024-512 with dropout, one-cycle, 50 epochs: >= 90%) or the seed's 784-70-30-10 sigmoid "
                   "net [default: default].")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), help="Dataset [default: mnist].")
@click.option("--scaler", type=click.Choice(["standard", "minmax", "normalizer", "unit", "none"]),
              help="Input scaling [default: unit (pixels/255); the seed preset: standard].")
@click.option("--pca", type=float, help="PCA: components (>= 1) or variance fraction (< 1) [default: none].")
@click.option("--clusters", type=int, help="Append distances to N k-means centroids (seed: 40-70).")
@click.option("--train-size", type=int, help="Use only the first N training images (quick trials).")
@mlp_options
@click.option("--threads", type=int, help="Bound on BLAS threads [default: all cores].")
@run_record_options("mlp")
def train_command(**options: Any) -> None:
    """Train the MLP and record a run (config, per-epoch metrics, model.npz, figures, summary).

    Options not given come from --preset (or --config); docs/mlp.md lists every default.

    Example: mnistlab mlp train --preset seed --dataset mnist --threads 2
    """
    train_and_print("mlp", resolve_train_config("mlp", options), options)


@mlp_group.command("eval")
@click.argument("model")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), help="Dataset [default: the one the model was trained on].")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--threads", type=int, help="Bound on BLAS threads [default: all cores].")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_command(model: str, dataset: str | None, split: str, threads: int | None, as_json: bool) -> None:
    """Score a trained MLP: accuracy and per-class accuracy.

    MODEL is a model.npz or a run directory of `mnistlab mlp train`. The preprocessing stored
    with the model is refitted on the training split, as in training.
    """
    from mnistlab.runs.evaluation import evaluate_run
    from mnistlab.threads import configure_threads

    configure_threads(threads)
    path = Path(model)
    result = evaluate_run(path / "model.npz" if path.is_dir() else path, dataset=dataset, split=split)
    print_evaluation(result, as_json, confusion=False)


COMMANDS = [mlp_group]
