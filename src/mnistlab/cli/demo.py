"""`mnistlab demo`: the main job that `make run` runs, end to end through the public commands."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import click

from mnistlab.errors import MnistlabError


def _run_step(title: str, argv: list[str]) -> dict[str, Any]:
    """Run one `mnistlab` command with --json, show its title, and return its JSON summary."""
    from mnistlab.cli import main

    click.echo(f"\n== {title}\n$ mnistlab {' '.join(argv)}", err=True)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = main([*argv, "--json"])
    if code != 0:
        raise MnistlabError(f"the demo step `mnistlab {' '.join(argv)}` failed (exit code {code}); "
                            "run it alone to see why")
    lines = captured.getvalue().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


@click.command()
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Where the two runs and the report are written.")
@click.option("--cnn-epochs", default=5, show_default=True, type=click.IntRange(min=1),
              help="Epochs of the CNN (the documented default reaches 99.2% on MNIST in 5).")
@click.option("--quick", is_flag=True, help="A small smoke run: 5000 training images, few epochs.")
def demo(runs_dir: str, cnn_epochs: int, quick: bool) -> int:
    """The main job of `make run`: the seed's MLP and CNN on MNIST, a look inside the CNN, one report.

    Steps: show the datasets; train the seed's 784-70-30-10 MLP (35 epochs, accuracy on the training
    and test sets after every epoch, as the seed plots it); train the seed's CNN; draw its feature
    maps and the input patterns that make each conv3 map fire most; write one HTML report of both runs.
    """
    from mnistlab.cli import main

    click.echo("== Datasets", err=True)
    main(["data", "info"])
    small = ["--train-size", "5000"] if quick else []
    mlp = _run_step("The seed's MLP on MNIST",
                    ["mlp", "train", "--preset", "seed", "--dataset", "mnist", "--eval-train-every", "1",
                     "--eval-test-every", "1", "--runs-dir", runs_dir, "--name", "demo-mlp-seed",
                     *small, *(["--epochs", "3"] if quick else [])])
    click.echo(f"MLP test accuracy {mlp['test_accuracy']:.2%} in {mlp['train_seconds']:.1f} s", err=True)
    cnn = _run_step("The seed's CNN on MNIST",
                    ["cnn", "train", "--dataset", "mnist", "--epochs", str(1 if quick else cnn_epochs),
                     "--runs-dir", runs_dir, "--name", "demo-cnn", *small])
    click.echo(f"CNN test accuracy {cnn['test_accuracy']:.2%} in {cnn['train_seconds']:.1f} s", err=True)
    cnn_dir = Path(cnn["run_dir"])
    model = str(cnn_dir / "model.keras")
    _run_step("Feature maps of every conv and pooling layer", ["cnn", "maps", model, "--out", str(cnn_dir)])
    _run_step("Input patterns that make each conv3 map fire most (OIPs)",
              ["cnn", "oip", model, "--layer", "conv3", "--out", str(cnn_dir),
               *(["--steps", "10"] if quick else [])])
    report = Path(runs_dir) / "demo-report.html"
    code = main(["report", mlp["run_dir"], str(cnn_dir), "--out", str(report)])
    if code == 0:
        click.echo(f"\nOpen the report in a browser: {report.resolve()}", err=True)
    click.echo(f"Watch, compare and draw on these runs in the lab: mnistlab lab --runs-dir {runs_dir}", err=True)
    return code


COMMANDS = [demo]
