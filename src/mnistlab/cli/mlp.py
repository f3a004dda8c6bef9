"""`mnistlab mlp train|eval`: the NumPy MLP from the command line.

Options resolve in three layers: `--preset` (default "default") or `--config FILE` (a run's
config.json), then every option given explicitly. The resolved config is printed and stored.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from mnistlab.cli.options import print_evaluation, run_record_options
from mnistlab.cli.progress import TrainingProgress
from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError

_MLP_OPTIONS = {  # CLI option -> MLPConfig field
    "hidden": "hidden_sizes", "activation": "activation", "output": "output", "loss": "loss",
    "reduction": "loss_reduction", "solver": "solver", "lr": "learning_rate", "decrease_const": "decrease_const",
    "momentum": "momentum", "momentum_type": "momentum_type", "rho": "rho", "beta1": "beta_1", "beta2": "beta_2",
    "epsilon": "epsilon", "l2": "l2", "l1": "l1", "batch_size": "batch_size", "epochs": "epochs",
    "shuffle": "shuffle", "init": "init", "init_first": "init_first", "init_factor": "init_factor",
    "init_intervals": "init_intervals", "leaky_slope": "leaky_slope", "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction", "patience": "patience", "min_delta": "min_delta",
    "eval_train_every": "eval_train_every", "eval_test_every": "eval_test_every", "seed": "random_state",
}
_RUN_OPTIONS = ("dataset", "scaler", "pca", "clusters", "train_size", "threads")


def _parse_hidden(text: str) -> tuple[int, ...]:
    if text.strip() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--hidden {text!r} is not valid; give layer sizes separated by commas, e.g. 70,30") from None


def _parse_intervals(text: str) -> tuple[tuple[float, float], ...]:
    try:
        return tuple((float(lo), float(hi)) for lo, hi in (part.split(":") for part in text.split(",")))
    except ValueError:
        raise ConfigError(f"--init-intervals {text!r} is not valid; give LOW:HIGH per layer, "
                          "e.g. -0.5:0.5,-0.5:0.5,-0.5:0.5") from None


def resolve_config(options: dict[str, Any]):
    """The run config from --config FILE or --preset, overridden by the options given explicitly."""
    from mnistlab.mlp.run import PRESETS, MLPRunConfig

    if options.get("config"):
        path = Path(options["config"])
        try:
            base = MLPRunConfig.from_dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read --config {path}: {exc}; give a config.json of an mlp run") from None
    else:
        preset = PRESETS[options.get("preset") or "default"]
        base = replace(preset, mlp=replace(preset.mlp))
    mlp = base.mlp.to_dict()
    for opt, name in _MLP_OPTIONS.items():
        value = options.get(opt)
        if value is None:
            continue
        if opt == "hidden":
            value = _parse_hidden(value)
        elif opt == "init_intervals":
            value = _parse_intervals(value)
        mlp[name] = value
    run = base.to_dict()
    run["mlp"] = mlp
    for opt, name in zip(_RUN_OPTIONS, ("dataset", "scaler", "pca_components", "kmeans_clusters", "train_size",
                                        "threads")):
        if options.get(opt) is not None:
            run[name] = options[opt]
    config = MLPRunConfig.from_dict(run)
    config.validate()
    return config


@click.group("mlp")
def mlp_group() -> None:
    """The from-scratch NumPy MLP (the seed's MyANN): train and evaluate."""


@mlp_group.command("train")
@click.option("--preset", type=click.Choice(["default", "seed"]),
              help="Starting configuration: the documented default (>= 98% on MNIST) or the seed's "
                   "784-70-30-10 sigmoid net [default: default].")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), help="Dataset [default: mnist].")
@click.option("--scaler", type=click.Choice(["standard", "minmax", "normalizer", "unit", "none"]),
              help="Input scaling [default: unit (pixels/255); the seed preset: standard].")
@click.option("--pca", type=float, help="PCA: components (>= 1) or variance fraction (< 1) [default: none].")
@click.option("--clusters", type=int, help="Append distances to N k-means centroids (seed: 40-70).")
@click.option("--train-size", type=int, help="Use only the first N training images (quick trials).")
@click.option("--hidden", help="Hidden layer sizes, comma-separated, e.g. 70,30 [default preset: 512,256].")
@click.option("--activation", type=click.Choice(["sigmoid", "tanh", "relu", "leaky_relu"]), help="Hidden activation.")
@click.option("--output", type=click.Choice(["softmax", "sigmoid"]), help="Output activation.")
@click.option("--loss", type=click.Choice(["cross_entropy", "logloss", "mse"]), help="Loss function.")
@click.option("--reduction", type=click.Choice(["mean", "sum"]), help="Batch cost: mean, or sum (the seed's).")
@click.option("--solver", type=click.Choice(["sgd", "rmsprop", "adam"]), help="Optimiser.")
@click.option("--lr", type=float, help="Initial learning rate.")
@click.option("--decrease-const", type=float, help="Decay lr/(1 + decrease_const * epoch).")
@click.option("--momentum", type=float, help="SGD momentum rate.")
@click.option("--momentum-type", type=click.Choice(["seed", "classical", "nesterov"]), help="SGD momentum form.")
@click.option("--rho", type=float, help="RMSprop decay [default: 0.9].")
@click.option("--beta1", type=float, help="Adam beta_1 [default: 0.9].")
@click.option("--beta2", type=float, help="Adam beta_2 [default: 0.999].")
@click.option("--epsilon", type=float, help="RMSprop/Adam epsilon [default: 1e-7].")
@click.option("--l2", type=float, help="L2 regularisation (weights only).")
@click.option("--l1", type=float, help="L1 regularisation (weights only).")
@click.option("--batch-size", type=int, help="Mini-batch size.")
@click.option("--epochs", type=int, help="Epochs.")
@click.option("--shuffle/--no-shuffle", default=None, help="Reshuffle the batches every epoch [default: on].")
@click.option("--init", type=click.Choice(["sqrt_nodes", "const", "glorot", "he"]), help="Weight initialiser.")
@click.option("--init-first", type=click.Choice(["sqrt_nodes", "const", "glorot", "he"]),
              help="Initialiser of the first layer only (seed: init_weight_meth_L0).")
@click.option("--init-factor", type=float, help="Scale of the sqrt_nodes/const intervals (seed: init_weight_fact).")
@click.option("--init-intervals", help="Per-layer LOW:HIGH for init const, e.g. -0.5:0.5,-0.5:0.5,-0.5:0.5.")
@click.option("--leaky-slope", type=float, help="Negative slope of leaky_relu [default: 0.01].")
@click.option("--early-stopping/--no-early-stopping", default=None, help="Stop on a validation split.")
@click.option("--validation-fraction", type=float, help="Share held out for early stopping [default: 0.1].")
@click.option("--patience", type=int, help="Epochs without improvement before stopping [default: 5].")
@click.option("--min-delta", type=float, help="Smallest validation-accuracy gain that counts [default: 0].")
@click.option("--eval-train-every", type=int, help="Full training-set accuracy every K epochs (0: never).")
@click.option("--eval-test-every", type=int, help="Test-set accuracy every K epochs (0: never).")
@click.option("--seed", type=int, help="Random seed (weights, shuffles, split) [default: 0].")
@click.option("--threads", type=int, help="Bound on BLAS threads [default: all cores].")
@run_record_options("mlp")
def train_command(**options: Any) -> None:
    """Train the MLP and record a run (config.json, metrics.csv, model.npz, figures, summary.json).

    Options not given come from --preset (or --config); docs/mlp.md lists every default.

    Example: mnistlab mlp train --preset seed --dataset mnist --threads 2
    """
    from mnistlab.runs.training import train_mlp_run
    from mnistlab.threads import configure_threads

    if options.get("pca") is not None and float(options["pca"]).is_integer() and options["pca"] >= 1:
        options["pca"] = int(options["pca"])
    config = resolve_config(options)
    configure_threads(config.threads)
    quiet, as_json = options["quiet"], options["as_json"]
    if not quiet and not as_json:
        click.echo(f"config: {json.dumps(config.to_dict())}")
    with TrainingProgress(config.mlp.epochs, show=not (quiet or as_json)) as progress:
        summary = train_mlp_run(config, runs_dir=options["runs_dir"], name=options["name"],
                                on_epoch=progress.on_epoch, on_batch=progress.on_batch)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        click.echo(f"test accuracy {summary['test_accuracy']:.2%} after {summary['epochs']} epochs "
                   f"(train {summary['train_seconds']:.1f} s, evaluation {summary['eval_seconds']:.1f} s); "
                   f"run: {summary['run_dir']}")


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
