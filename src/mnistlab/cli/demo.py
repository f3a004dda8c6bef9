"""`mnistlab demo`: the main job that `make run` runs, end to end through the library functions."""

from __future__ import annotations

import click

from mnistlab.cli.progress import TrainingProgress


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
    from mnistlab.data.fetch import cache_lines
    from mnistlab.runs.demo import run_demo

    click.echo("== Datasets", err=True)
    click.echo("\n".join(cache_lines()))
    result = run_demo(runs_dir, cnn_epochs=cnn_epochs, quick=quick,
                      on_step=lambda title, command: click.echo(f"\n== {title}\n$ mnistlab {command}", err=True),
                      progress=TrainingProgress)
    for name, summary in (("MLP", result.mlp), ("CNN", result.cnn)):
        click.echo(f"{name} test accuracy {summary.test_accuracy:.2%} in {summary.train_seconds:.1f} s", err=True)
    click.echo(f"{result.oips['n_converged']}/{result.oips['n_maps']} conv3 OIPs converged", err=True)
    click.echo(str(result.report))
    click.echo(f"\nOpen the report in a browser: {result.report.resolve()}", err=True)
    click.echo(f"Watch, compare and draw on these runs in the lab: mnistlab lab --runs-dir {runs_dir}", err=True)
    return 0


COMMANDS = [demo]
