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

from mnistlab.cli.mlp_options import given_mlp_options, mlp_options
from mnistlab.cli.options import run_record_options
from mnistlab.errors import ConfigError

_RUN_OPTIONS = ("dataset", "scaler", "pca", "clusters", "train_size", "threads")


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
    mlp.update(given_mlp_options(options))
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
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), help="Dataset [default: mnist].")
@click.option("--scaler", type=click.Choice(["standard", "minmax", "normalizer", "unit", "none"]),
              help="Input scaling [default: unit (pixels/255); the seed preset: standard].")
@click.option("--pca", type=float, help="PCA: components (>= 1) or variance fraction (< 1) [default: none].")
@click.option("--clusters", type=int, help="Append distances to N k-means centroids (seed: 40-70).")
@click.option("--train-size", type=int, help="Use only the first N training images (quick trials).")
@mlp_options
@click.option("--threads", type=int, help="Bound on BLAS threads [default: all cores].")
@run_record_options("mlp")
def train_command(**options: Any) -> None:
    """Train the MLP and record a run (config.json, metrics.csv, model.npz, figures, summary.json).

    Options not given come from --preset (or --config); docs/mlp.md lists every default.

    Example: mnistlab mlp train --preset seed --dataset mnist --threads 2
    """
    from mnistlab.threads import configure_threads

    if options.get("pca") is not None and float(options["pca"]).is_integer() and options["pca"] >= 1:
        options["pca"] = int(options["pca"])
    config = resolve_config(options)
    configure_threads(config.threads)
    quiet, as_json = options["quiet"], options["as_json"]
    if not quiet and not as_json:
        click.echo(f"config: {json.dumps(config.to_dict())}")
    summary = _train_with_progress(config, options, show=not (quiet or as_json))
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        click.echo(f"test accuracy {summary['test_accuracy']:.2%} after {summary['epochs']} epochs "
                   f"(train {summary['train_seconds']:.1f} s, evaluation {summary['eval_seconds']:.1f} s); "
                   f"run: {summary['run_dir']}")


def _train_with_progress(config, options: dict[str, Any], show: bool) -> dict[str, Any]:
    from tqdm.auto import tqdm

    from mnistlab.mlp.run import train_run

    epochs_bar = tqdm(total=config.mlp.epochs, desc="epochs", unit="epoch", disable=not show)
    batch_bar = tqdm(desc="batches", unit="batch", leave=False, disable=not show)

    def on_batch(done: int, total: int) -> None:
        if done == 1:
            if epochs_bar.n == 0:  # start the clock when training starts, not at data loading
                epochs_bar.reset(total=config.mlp.epochs)
            batch_bar.reset(total=total)
        batch_bar.update(1)

    def on_epoch(row: dict) -> None:
        epochs_bar.update(1)
        shown = {k: row[k] for k in ("loss", "accuracy", "train_accuracy", "test_accuracy", "val_accuracy")
                 if k in row and row[k] == row[k]}
        epochs_bar.set_postfix({k: f"{v:.4f}" for k, v in shown.items()})

    try:
        return train_run(config, runs_dir=options["runs_dir"], name=options["name"] or f"mlp-{config.dataset}",
                         on_batch_end=on_batch if show else None, on_epoch_end=on_epoch)
    finally:
        batch_bar.close()
        epochs_bar.close()


@mlp_group.command("eval")
@click.argument("model")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]),
              help="Dataset [default: the one the model was trained on].")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--threads", type=int, help="Bound on BLAS threads [default: all cores].")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_command(model: str, dataset: str | None, split: str, threads: int | None, as_json: bool) -> None:
    """Score a trained MLP: accuracy and per-class accuracy.

    MODEL is a model.npz or a run directory of `mnistlab mlp train`. The preprocessing stored
    with the model is refitted on the training split, as in training.
    """
    import numpy as np

    from mnistlab.mlp.io import load_model
    from mnistlab.mlp.run import MLPRunConfig, prepare_data
    from mnistlab.threads import configure_threads

    configure_threads(threads)
    path = Path(model)
    if path.is_dir():
        path = path / "model.npz"
    clf = load_model(path)
    meta = dict(clf.metadata_)
    dataset = dataset or meta.get("dataset")
    if dataset is None:
        raise ConfigError(f"{path} does not say which dataset it was trained on; pass --dataset mnist|fashion-mnist")
    run_cfg = MLPRunConfig(dataset=dataset, scaler=meta.get("scaler", "standard"),
                           pca_components=meta.get("pca_components"), kmeans_clusters=meta.get("kmeans_clusters"),
                           train_size=meta.get("train_size"), mlp=clf.config)
    X_train, y_train, X_test, y_test, test_set, _ = prepare_data(run_cfg)
    X, y = (X_test, y_test) if split == "test" else (X_train, y_train)
    if X.shape[1] != clf.n_features_in_:
        raise ConfigError(f"{path} expects {clf.n_features_in_} features but {dataset} gives {X.shape[1]}; "
                          "check the model's preprocessing")
    y_pred = clf.predict(X)
    per_class = {name: float(np.mean(y_pred[y == k] == k)) if np.any(y == k) else None
                 for k, name in enumerate(test_set.class_names)}
    result = {"model": str(path), "dataset": dataset, "split": split, "n_images": int(len(y)),
              "accuracy": float(np.mean(y_pred == y)), "per_class_accuracy": per_class}
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"{dataset} {split}: accuracy {result['accuracy']:.2%} on {len(y)} images")
    width = max(len(n) for n in per_class)
    for name, acc in per_class.items():
        click.echo(f"  {name:<{width}}  {acc:.2%}")


COMMANDS = [mlp_group]
