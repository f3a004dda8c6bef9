"""`mnistlab cnn train|eval`: the seed's Keras convnet from the command line.

The insight commands (maps, patterns, oip, compare) are added to this group by cli/insight.py.
Keras is imported only inside the commands, after --backend/--threads/--device are applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mnistlab.cli.options import print_evaluation, resolve_train_config, run_record_options, train_and_print
from mnistlab.cnn.config import CNN_PRESETS, OPTIMIZERS, SCHEDULES, CNNConfig
from mnistlab.data.catalog import DATASET_NAMES

_D = CNNConfig()  # the documented defaults, quoted in --help


@click.group("cnn")
def cnn_group() -> None:
    """The Keras 3 convnet of the seed's CNN series: train, evaluate, look inside."""


@cnn_group.command("train")
@click.option("--preset", type=click.Choice(list(CNN_PRESETS)),
              help="Starting configuration [default: seed]: seed (the seed's network, 5 epochs), fast "
                   "(2 conv blocks with batch norm, dense 128, one-cycle, 3 epochs) or fashion (Fashion-MNIST: 3 conv "
                   "blocks with batch norm, flips, 30 epochs); see docs/cnn.md.")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), help="Dataset to train on [default: mnist].")
@click.option("--epochs", type=int, help=f"Number of epochs [default: {_D.epochs}].")
@click.option("--batch-size", type=int, help=f"Mini-batch size [default: {_D.batch_size}].")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), help=f"Optimiser [default: {_D.optimizer}].")
@click.option("--lr", type=float, help=f"Initial learning rate [default: {_D.learning_rate}].")
@click.option("--momentum", type=float, help=f"Momentum of sgd/rmsprop [default: {_D.momentum}].")
@click.option("--schedule", type=click.Choice(SCHEDULES),
              help=f"Learning-rate schedule [default: {_D.schedule}]: step (x decay-rate every step-epochs), "
                   "exponential (x decay-rate per epoch), cosine (to 0 at the end), onecycle (linear up over "
                   "--warmup-epochs, then linear down to 0), plateau (on val_loss).")
@click.option("--step-epochs", type=int, help=f"Epochs between steps of the step schedule [default: {_D.step_epochs}].")
@click.option("--decay-rate", type=float, help=f"Factor of step/exponential/plateau schedules [default: {_D.decay_rate}].")
@click.option("--plateau-patience", type=int,
              help=f"Epochs without a better val_loss before the plateau schedule cuts [default: {_D.plateau_patience}].")
@click.option("--warmup-epochs", type=float,
              help=f"Linear learning-rate warm-up, in epochs (constant/cosine/onecycle) [default: {_D.warmup_epochs}].")
@click.option("--label-smoothing", type=float, help=f"Label smoothing of the loss [default: {_D.label_smoothing}].")
@click.option("--shift-pixels", type=int,
              help=f"Augment: shift each training image by up to N pixels per axis, per epoch [default: {_D.shift_pixels}].")
@click.option("--flip/--no-flip", default=None,
              help="Augment: mirror a random half of the training images left-right, per epoch (Fashion-MNIST; "
                   "not digits) [default: off; the fashion preset: on].")
@click.option("--l2", type=float, help=f"L2 kernel regularisation factor [default: {_D.l2}].")
@click.option("--validation-split", type=float, help=f"Share of training images held out [default: {_D.validation_split}].")
@click.option("--early-stopping", type=int, metavar="PATIENCE",
              help="Stop after PATIENCE epochs without a better val_loss (0: off) [default: 0].")
@click.option("--seed", type=int, help=f"Seed of weights, hold-out and batch order [default: {_D.seed}].")
@click.option("--threads", type=int, help="Bound on CPU threads (BLAS and the backend) [default: all cores].")
@click.option("--device", type=click.Choice(["cpu", "gpu"]), help="Where to train [default: cpu].")
@click.option("--backend", help="Keras backend: tensorflow, torch or jax [default: $KERAS_BACKEND, else the first installed of those].")
@click.option("--gpu-memory-fraction", type=float, help="Cap on the GPU memory share (torch, jax).")
@click.option("--conv", help="Filters per conv layer, comma-separated [default: 32,64,64].")
@click.option("--dense", help="Units per hidden dense layer, comma-separated [default: 64].")
@click.option("--kernel", type=int, help="Conv kernel size [default: 3].")
@click.option("--stride", type=int, help="Conv stride [default: 1].")
@click.option("--padding", type=click.Choice(["valid", "same"]), help="Conv/pool padding [default: valid].")
@click.option("--pool", type=click.Choice(["max", "avg", "none"]), help="Pooling after each conv but the last.")
@click.option("--pool-size", type=int, help="Pooling window [default: 2].")
@click.option("--dropout", type=float, help="Dropout rate before the output layer [default: none].")
@click.option("--batch-norm/--no-batch-norm", default=None, help="Batch normalisation after each conv layer.")
@click.option("--train-size", type=int, help="Use only the first N training images (quick trials).")
@run_record_options("cnn")
def train_command(**options: Any) -> None:
    """Train the CNN and record a run (config, per-epoch metrics, model.keras, figures, summary).

    Example: mnistlab cnn train --dataset fashion-mnist --epochs 5 --threads 2
    """
    train_and_print("cnn", resolve_train_config("cnn", options), options)


@cnn_group.command("eval")
@click.argument("model")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), help="Dataset [default: the run's, when MODEL is a run].")
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--backend", help="Keras backend to load the model with [default: as for train].")
@click.option("--threads", type=int, help="Bound on CPU threads [default: all cores].")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_command(model: str, dataset: str | None, split: str, backend: str | None, threads: int | None,
                 as_json: bool) -> None:
    """Score a trained CNN: accuracy, per-class accuracy and confusion matrix.

    MODEL is a model.keras file or a run directory of `mnistlab cnn train`.
    """
    from mnistlab.cnn.backend import import_keras
    from mnistlab.runs.evaluation import evaluate_run

    path = Path(model)
    import_keras(backend, threads=threads)
    result = evaluate_run(path / "model.keras" if path.is_dir() else path, dataset=dataset, split=split,
                          backend=backend)
    print_evaluation(result, as_json)


COMMANDS = [cnn_group]
