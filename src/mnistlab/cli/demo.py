"""`mnistlab demo`: the main job that `make run` runs, end to end through the library functions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from mnistlab.cli.progress import TrainingProgress


def _title(text: str, command: str) -> None:
    """A step's title and the command that repeats it alone."""
    click.echo(f"\n== {text}\n$ mnistlab {command}", err=True)


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
    from mnistlab.cnn.config import CNNConfig
    from mnistlab.data.fetch import cache_lines
    from mnistlab.insight.oip import OIPConfig
    from mnistlab.mlp.run import PRESETS
    from mnistlab.runs.insight import feature_maps_of, oips_of
    from mnistlab.runs.report import write_report
    from mnistlab.runs.training import train_cnn_run, train_mlp_run

    click.echo("== Datasets", err=True)
    click.echo("\n".join(cache_lines()))
    train_size = 5000 if quick else None
    small = " --train-size 5000" if quick else ""

    seed = PRESETS["seed"]
    mlp_config = replace(seed, dataset="mnist", train_size=train_size,
                         mlp=replace(seed.mlp, eval_train_every=1, eval_test_every=1,
                                     epochs=3 if quick else seed.mlp.epochs))
    _title("The seed's MLP on MNIST", "mlp train --preset seed --dataset mnist --eval-train-every 1 "
           f"--eval-test-every 1{small}" + (" --epochs 3" if quick else ""))
    with TrainingProgress(mlp_config.mlp.epochs) as progress:
        mlp = train_mlp_run(mlp_config, runs_dir=runs_dir, name="demo-mlp-seed",
                            on_epoch=progress.on_epoch, on_batch=progress.on_batch)
    click.echo(f"MLP test accuracy {mlp['test_accuracy']:.2%} in {mlp['train_seconds']:.1f} s", err=True)

    cnn_config = CNNConfig(dataset="mnist", epochs=1 if quick else cnn_epochs, train_size=train_size)
    _title("The seed's CNN on MNIST", f"cnn train --dataset mnist --epochs {cnn_config.epochs}{small}")
    with TrainingProgress(cnn_config.epochs) as progress:
        cnn = train_cnn_run(cnn_config, runs_dir=runs_dir, name="demo-cnn",
                            on_epoch=progress.on_epoch, on_batch=progress.on_batch)
    click.echo(f"CNN test accuracy {cnn['test_accuracy']:.2%} in {cnn['train_seconds']:.1f} s", err=True)

    cnn_dir = Path(cnn["run_dir"])
    _title("Feature maps of every conv and pooling layer", f"cnn maps {cnn_dir}")
    feature_maps_of(cnn_dir)
    oip_config = OIPConfig(steps=10) if quick else OIPConfig()
    _title("Input patterns that make each conv3 map fire most (OIPs)",
           f"cnn oip {cnn_dir} --layer conv3" + (" --steps 10" if quick else ""))
    oips = oips_of(cnn_dir, layer="conv3", config=oip_config)
    click.echo(f"{oips['n_converged']}/{oips['n_maps']} conv3 OIPs converged", err=True)

    report = write_report([Path(mlp["run_dir"]), cnn_dir], Path(runs_dir) / "demo-report.html")
    click.echo(str(report))
    click.echo(f"\nOpen the report in a browser: {report.resolve()}", err=True)
    click.echo(f"Watch, compare and draw on these runs in the lab: mnistlab lab --runs-dir {runs_dir}", err=True)
    return 0


COMMANDS = [demo]
