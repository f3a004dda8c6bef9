"""`mnistlab bench`: the MLP engine sweep (`bench mlp`), the CNN backend comparison (`bench cnn`), time to accuracy (`bench tta`)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from mnistlab.bench.engine_names import ENGINES
from mnistlab.bench.jobs import CnnJob, TrainJob
from mnistlab.bench.recipes import DEFAULT_TASKS, RECIPES, TASKS
from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError


def _int_list(text: str | None, option: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{option} takes comma-separated integers like 500,20000, got {text!r}") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{option} needs positive integers, got {text!r}")
    return values


def _command() -> str:
    """The command line as typed, for the reports (`mnistlab bench ...`)."""
    if len(sys.argv) > 2 and sys.argv[1] == "bench":
        return "mnistlab bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    return "mnistlab bench"


def _progress(quiet: bool):
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))


def _output_options(files: str):
    """The options both benchmarks share: where results go and how they are printed."""
    options = [
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=f"Write {files} here."),
        click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path),
                     help="Update this benchmark's section of a Markdown file (e.g. benchmarks/README.md)."),
        click.option("--note", help="A label for the Markdown section, e.g. \"quiet machine\"."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of the table."),
        click.option("--quiet", is_flag=True, help="No progress lines on stderr."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@click.group("bench")
def bench_group() -> None:
    """Benchmarks you can rerun: mnistlab's NumPy MLP against the frameworks, CNN backends, time to accuracy."""


@bench_group.command("mlp")
@click.option("--quick", is_flag=True, help="Smoke run: batch 500 and 20000, all cores, 3 epochs, one round (< 2 min).")
@click.option("--engines", help="Comma-separated subset of: mnistlab, keras-jax, keras-tensorflow, keras-torch, torch, sklearn.")
@click.option("--batch-sizes", help="Comma-separated batch sizes (default 100,500,2000,10000,20000,60000).")
@click.option("--threads", "threads_text", help="Comma-separated thread counts (default: 1 and all cores).")
@click.option("--epochs", type=int, help="Epochs per training run (default 35, the seed's; --quick: 3).")
@click.option("--repeats", type=int, help="Interleaved repeats; the median is reported (default 3; --quick: 1).")
@click.option("--budget", type=float, help="Minutes allowed; rounds after the first stop when the next would not fit (default 25).")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), default="mnist", show_default=True)
@click.option("--n-train", type=int, help="Use only the first N training images (smoke tests).")
@click.option("--learning-rate", type=float, default=TrainJob.learning_rate, show_default=True,
              help="SGD learning rate (all engines).")
@click.option("--momentum", type=float, default=TrainJob.momentum, show_default=True, help="SGD momentum (all engines).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-targets", is_flag=True, help="Skip the evaluation-overhead and peak-memory run of mnistlab.")
@_output_options("mlp.json, mlp.csv and mlp.png")
def bench_mlp(quick, engines, batch_sizes, threads_text, epochs, repeats, budget, dataset, n_train, learning_rate,
              momentum, seed, no_targets, out, markdown, note, as_json, quiet) -> int:
    """Train 784-70-30-10 (sigmoid) in every installed engine, interleaved; time, GFLOP/s, accuracy.

    Each engine runs in its own worker process with its threads bounded before its framework
    loads. Example: `mnistlab bench mlp --quick`; the full sweep for benchmarks/README.md:
    `mnistlab bench mlp --out benchmarks --markdown benchmarks/README.md`.
    """
    from mnistlab.bench.publish import prepare_output_dir, publish
    from mnistlab.bench.report import (
        mlp_document, mlp_markdown, pool_threads_lines, speed_target_lines, table_lines, targets_lines, time_figure,
    )
    from mnistlab.bench.sweep import SweepConfig, run_sweep, summarize

    overrides = {
        "engines": _name_list(engines),
        "batch_sizes": _int_list(batch_sizes, "--batch-sizes"), "threads": _int_list(threads_text, "--threads"),
        "epochs": epochs, "repeats": repeats, "budget_seconds": budget * 60 if budget is not None else None,
        "n_train": n_train, "targets": False if no_targets else None,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    common = {"dataset": dataset, "learning_rate": learning_rate, "momentum": momentum, "random_state": seed}
    config = SweepConfig.quick(**common, **overrides) if quick else SweepConfig(**common, **overrides)
    prepare_output_dir(out)
    result = run_sweep(config, progress=_progress(quiet))
    rows = summarize(result)
    document = mlp_document(result, rows, _command())
    label = note or ("quick run" if quick else "")
    publish("mlp", document, rows, out=out, markdown=markdown, figure=(lambda: time_figure(rows)) if rows else None,
            section=lambda png: mlp_markdown(document, png, label))
    if as_json:
        click.echo(json.dumps(document, default=str))
    else:
        lines = (table_lines(rows) + [""] + speed_target_lines(rows) + targets_lines(result.targets)
                 + pool_threads_lines(rows) + result.notes)
        click.echo("\n".join(lines))
    return 0


@bench_group.command("cnn")
@click.option("--engines", help="Comma-separated subset of: keras-jax, keras-tensorflow, keras-torch, torch.")
@click.option("--batch-sizes", default="64,512", show_default=True, help="Comma-separated batch sizes.")
@click.option("--batches", type=int, default=30, show_default=True,
              help=f"Timed batches per run (after {CnnJob.warmup_batches} warm-up batches).")
@click.option("--threads", type=int, help="CPU threads for every engine (default: all cores).")
@click.option("--repeats", type=int, default=1, show_default=True, help="Interleaved repeats; the median is reported.")
@_output_options("cnn.json and cnn.csv")
def bench_cnn(engines, batch_sizes, batches, threads, repeats, out, markdown, note, as_json, quiet) -> int:
    """Time the default CNN on each installed Keras backend and in plain PyTorch: s/epoch, images/s.

    Example: `mnistlab bench cnn --batches 30`; one backend alone (what `python -m mnistlab.cnn.timing`
    did): `mnistlab bench cnn --engines keras-jax --batch-sizes 64 --batches 60`.
    """
    from mnistlab.bench.cnn import (
        CNN_COLUMNS, CnnBenchConfig, cnn_document, cnn_markdown, run_cnn_bench, summarize_cnn,
    )
    from mnistlab.bench.publish import prepare_output_dir, publish
    from mnistlab.bench.report import table_lines

    fields = {"batch_sizes": _int_list(batch_sizes, "--batch-sizes"), "n_batches": batches, "repeats": repeats,
              "engines": _name_list(engines), "threads": threads}
    config = CnnBenchConfig(**{k: v for k, v in fields.items() if v is not None})
    prepare_output_dir(out)
    result = run_cnn_bench(config, progress=_progress(quiet))
    rows = summarize_cnn(result)
    document = cnn_document(result, rows, _command())
    publish("cnn", document, rows, out=out, markdown=markdown, section=lambda png: cnn_markdown(document, note or ""))
    if as_json:
        click.echo(json.dumps(document, default=str))
    else:
        click.echo("\n".join(table_lines(rows, CNN_COLUMNS) + result.notes))
    return 0


def _name_list(text: str | None) -> tuple[str, ...] | None:
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else None


@bench_group.command("tta")
@click.option("--quick", is_flag=True,
              help="Smoke run: 2000 training and 1000 test images, seed 0, all cores, 2 epochs (targets unreached).")
@click.option("--tasks", help=f"Comma-separated subset of: {', '.join(TASKS)} [default: {','.join(DEFAULT_TASKS)}].")
@click.option("--engines", help=f"Comma-separated subset of: {', '.join(ENGINES)} [default: all; dense-only engines "
                                "skip the CNN tasks].")
@click.option("--recipe", "recipes", multiple=True,
              help=f"Recipe replacing the default of the tasks of its model (repeatable): {', '.join(RECIPES)}.")
@click.option("--seeds", help="Comma-separated seeds; medians over them [default: 0,1,2; --quick: 0].")
@click.option("--threads", "threads_text", help="Comma-separated thread counts [default: 1 and all cores].")
@click.option("--max-epochs", type=int, help="Cap every recipe's epochs (and stretch its schedule to it).")
@click.option("--n-train", type=int, help="Use only the first N training images.")
@click.option("--n-test", type=int, help="Score only the first N test images.")
@click.option("--full-curves", is_flag=True, help="Train every recipe's full epoch budget, not only up to the target.")
@_output_options("tta.json, tta.csv and tta.png")
def bench_tta(quick, tasks, engines, recipes, seeds, threads_text, max_epochs, n_train, n_test, full_curves, out,
              markdown, note, as_json, quiet) -> int:
    """Time to accuracy: training seconds until each engine's test accuracy reaches the task's target.

    Every engine trains the same recipe (architecture, initialisation, Adam, schedule, batch size,
    preprocessing) or is reported as unable to. Example: `mnistlab bench tta --quick`; the full
    run for benchmarks/README.md: `mnistlab bench tta --out benchmarks --markdown benchmarks/README.md`.
    """
    from mnistlab.bench.publish import prepare_output_dir, publish
    from mnistlab.bench.report import table_lines
    from mnistlab.bench.tta import TtaConfig, run_tta, summarize_tta
    from mnistlab.bench.tta_report import TTA_COLUMNS, accuracy_figure, summary_lines, tta_document, tta_markdown

    overrides = {"tasks": _name_list(tasks), "engines": _name_list(engines), "recipes": tuple(recipes) or None,
                 "seeds": _seed_list(seeds), "threads": _int_list(threads_text, "--threads"),
                 "max_epochs": max_epochs, "n_train": n_train, "n_test": n_test, "full_curves": full_curves or None}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    config = TtaConfig.quick(**overrides) if quick else TtaConfig(**overrides)
    prepare_output_dir(out)
    result = run_tta(config, progress=_progress(quiet))
    rows = summarize_tta(result)
    document = tta_document(result, rows, _command())
    label = note or ("quick run" if quick else "")
    publish("tta", document, rows, out=out, markdown=markdown,
            figure=(lambda: accuracy_figure(result.runs)) if result.runs else None,
            section=lambda png: tta_markdown(document, result, png, label))
    if as_json:
        click.echo(json.dumps(document, default=str))
    else:
        click.echo("\n".join(table_lines(rows, TTA_COLUMNS) + [""] + summary_lines(result, rows)))
    return 0


def _seed_list(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--seeds takes comma-separated integers like 0,1,2, got {text!r}") from None


COMMANDS: list[click.Command] = [bench_group]
