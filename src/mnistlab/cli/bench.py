"""`mnistlab bench`: the MLP engine sweep (`bench mlp`), the CNN backend comparison (`bench cnn`), time to accuracy (`bench tta`).

Each command turns its options into a config (`mnistlab.bench.run.bench_config`), calls
`run_bench` and prints the document (`--json`) or its text summary.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from mnistlab.bench.engine_names import ENGINES
from mnistlab.cli.options import stacked
from mnistlab.bench.jobs import CnnJob, TrainJob
from mnistlab.bench.recipes import DEFAULT_TASKS, RECIPES, TASKS
from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError


def _ints(example: str, positive: bool = True):
    """A click callback turning "500,20000" into (500, 20000), with one-line errors naming the option."""
    def parse(ctx: click.Context, param: click.Parameter, text: str | None) -> tuple[int, ...] | None:
        if text is None:
            return None
        option = param.opts[0]
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise ConfigError(f"{option} takes comma-separated integers like {example}, got {text!r}") from None
        if positive and (not values or min(values) < 1):
            raise ConfigError(f"{option} needs positive integers, got {text!r}")
        return values
    return parse


def _names(ctx: click.Context, param: click.Parameter, text: str | None) -> tuple[str, ...] | None:
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None


def _output_options(files: str):
    """The options every benchmark shares: where results go and how they are printed."""
    return stacked(
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=f"Write {files} here."),
        click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path),
                     help="Update this benchmark's section of a Markdown file (e.g. benchmarks/README.md)."),
        click.option("--note", help="A label for the Markdown section, e.g. \"quiet machine\"."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of the table."),
        click.option("--quiet", is_flag=True, help="No progress lines on stderr."))


def _run(name: str, out: Path | None, markdown: Path | None, note: str | None, as_json: bool, quiet: bool,
         quick: bool = False, **options: Any) -> int:
    """Build the config of benchmark `name`, run and publish it, print the result."""
    from mnistlab.bench.run import bench_config, run_bench

    config = bench_config(name, quick=quick, **options)
    command = "mnistlab bench " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 2 and sys.argv[1] == "bench" else "mnistlab bench"
    outcome = run_bench(config, out=out, markdown=markdown, label=note or ("quick run" if quick else ""),
                        command=command, progress=(lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True)))
    click.echo(json.dumps(outcome.document, default=str) if as_json else "\n".join(outcome.lines))
    return 0


@click.group("bench")
def bench_group() -> None:
    """Benchmarks you can rerun: mnistlab's NumPy MLP against the frameworks, CNN backends, time to accuracy."""


@bench_group.command("mlp")
@click.option("--quick", is_flag=True, help="Smoke run: batch 500 and 20000, all cores, 3 epochs, one round (< 2 min).")
@click.option("--engines", callback=_names,
              help="Comma-separated subset of: mnistlab, keras-jax, keras-tensorflow, keras-torch, torch, sklearn.")
@click.option("--batch-sizes", callback=_ints("500,20000"),
              help="Comma-separated batch sizes (default 100,500,2000,10000,20000,60000).")
@click.option("--threads", callback=_ints("1,2"), help="Comma-separated thread counts (default: 1 and all cores).")
@click.option("--epochs", type=int, help="Epochs per training run (default 35, the seed's; --quick: 3).")
@click.option("--repeats", type=int, help="Interleaved repeats; the median is reported (default 3; --quick: 1).")
@click.option("--budget", type=float, help="Minutes allowed; rounds after the first stop when the next would not fit (default 25).")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), default="mnist", show_default=True)
@click.option("--n-train", type=int, help="Use only the first N training images (smoke tests).")
@click.option("--learning-rate", type=float, default=TrainJob.learning_rate, show_default=True,
              help="SGD learning rate (all engines).")
@click.option("--momentum", type=float, default=TrainJob.momentum, show_default=True, help="SGD momentum (all engines).")
@click.option("--seed", "random_state", type=int, default=0, show_default=True)
@click.option("--no-targets", is_flag=True, help="Skip the evaluation-overhead and peak-memory run of mnistlab.")
@_output_options("mlp.json, mlp.csv and mlp.png")
def bench_mlp(budget: float | None, no_targets: bool, **options: Any) -> int:
    """Train 784-70-30-10 (sigmoid) in every installed engine, interleaved; time, GFLOP/s, accuracy.

    Each engine runs in its own worker process with its threads bounded before its framework
    loads. Example: `mnistlab bench mlp --quick`; the full sweep for benchmarks/README.md:
    `mnistlab bench mlp --out benchmarks --markdown benchmarks/README.md`.
    """
    return _run("mlp", budget_seconds=budget * 60 if budget is not None else None,
                targets=False if no_targets else None, **options)


@bench_group.command("cnn")
@click.option("--engines", callback=_names,
              help="Comma-separated subset of: keras-jax, keras-tensorflow, keras-torch, torch.")
@click.option("--batch-sizes", default="64,512", show_default=True, callback=_ints("64,512"),
              help="Comma-separated batch sizes.")
@click.option("--batches", "n_batches", type=int, default=30, show_default=True,
              help=f"Timed batches per run (after {CnnJob.warmup_batches} warm-up batches).")
@click.option("--threads", type=int, help="CPU threads for every engine (default: all cores).")
@click.option("--repeats", type=int, default=1, show_default=True, help="Interleaved repeats; the median is reported.")
@_output_options("cnn.json and cnn.csv")
def bench_cnn(**options: Any) -> int:
    """Time the default CNN on each installed Keras backend and in plain PyTorch: s/epoch, images/s.

    Example: `mnistlab bench cnn --batches 30`; one backend alone (what `python -m mnistlab.cnn.timing`
    did): `mnistlab bench cnn --engines keras-jax --batch-sizes 64 --batches 60`.
    """
    return _run("cnn", **options)


@bench_group.command("tta")
@click.option("--quick", is_flag=True,
              help="Smoke run: 2000 training and 1000 test images, seed 0, all cores, 2 epochs (targets unreached).")
@click.option("--tasks", callback=_names,
              help=f"Comma-separated subset of: {', '.join(TASKS)} [default: {','.join(DEFAULT_TASKS)}].")
@click.option("--engines", callback=_names, help=f"Comma-separated subset of: {', '.join(ENGINES)} [default: all; "
                                                 "dense-only engines skip the CNN tasks].")
@click.option("--recipe", "recipes", multiple=True, callback=lambda ctx, param, value: tuple(value) or None,
              help=f"Recipe replacing the default of the tasks of its model (repeatable): {', '.join(RECIPES)}.")
@click.option("--seeds", callback=_ints("0,1,2", positive=False),
              help="Comma-separated seeds; medians over them [default: 0,1,2; --quick: 0].")
@click.option("--threads", callback=_ints("1,2"), help="Comma-separated thread counts [default: 1 and all cores].")
@click.option("--max-epochs", type=int, help="Cap every recipe's epochs (and stretch its schedule to it).")
@click.option("--n-train", type=int, help="Use only the first N training images.")
@click.option("--n-test", type=int, help="Score only the first N test images.")
@click.option("--full-curves", is_flag=True, help="Train every recipe's full epoch budget, not only up to the target.")
@_output_options("tta.json, tta.csv and tta.png")
def bench_tta(full_curves: bool, **options: Any) -> int:
    """Time to accuracy: training seconds until each engine's test accuracy reaches the task's target.

    Every engine trains the same recipe (architecture, initialisation, Adam, schedule, batch size,
    preprocessing) or is reported as unable to. Example: `mnistlab bench tta --quick`; the full
    run for benchmarks/README.md: `mnistlab bench tta --out benchmarks --markdown benchmarks/README.md`.
    """
    return _run("tta", full_curves=full_curves or None, **options)


COMMANDS: list[click.Command] = [bench_group]
