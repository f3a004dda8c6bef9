"""`mnistlab report`, `mnistlab runs` and `mnistlab rerun`: look at, list and repeat recorded runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mnistlab.errors import ConfigError


@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the page (default: RUN_DIR/report.html for one run, "
                   "compare-<date-time>.html beside the runs for several).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary (the page's path, the runs) on stdout.")
def report_command(run_dirs: tuple[Path, ...], out: Path | None, as_json: bool) -> int:
    """Write one self-contained HTML page showing RUN_DIR (or comparing several) and print its path.

    The page embeds every image (no network needed): config, environment, final metrics, curves,
    confusion matrix, misclassified images, weights and any other figure in the run directory.
    Open it in a browser. Missing or partial pieces (an interrupted run) are listed on the page.
    A sweep directory (of `mnistlab sweep`) gets the sweep's page: best trial, metric per option, top-k.
    """
    from mnistlab.sweep.report import write_page

    path = write_page(run_dirs, out)
    page = {"report": str(path.resolve()), "runs": [str(p) for p in run_dirs]}
    click.echo(json.dumps(page) if as_json else str(path))
    return 0


@click.command("runs")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True, help="The directory training commands write their runs into.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of a table.")
def runs_command(runs_dir: Path, as_json: bool) -> int:
    """List the recorded runs, oldest first: folder, label (--name), model, dataset, epochs, test accuracy, time, status."""
    from mnistlab.runs.listing import run_rows, runs_lines

    click.echo(json.dumps(run_rows(runs_dir), indent=2) if as_json else "\n".join(runs_lines(runs_dir)))
    return 0


@click.command("rerun", context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("train_options", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def rerun_command(ctx: click.Context, run_dir: Path, train_options: tuple[str, ...]) -> None:
    """Train again from RUN_DIR/config.json, as a new run beside the old one (name: <name>-rerun).

    Further options are those of `mnistlab <kind> train`, e.g. `mnistlab rerun RUN_DIR --quiet --json`
    or `--runs-dir DIR --name NAME` or `--epochs 3`.
    """
    from mnistlab.cli.options import kind_overrides, train_and_print
    from mnistlab.runs.rerun import plan_rerun, run_kind

    kind = run_kind(run_dir)
    train = ctx.find_root().command.commands[kind].commands["train"]  # its options, parsed alike
    parsed = train.make_context(f"{ctx.command_path} RUN_DIR", list(train_options), parent=ctx)
    options = parsed.params
    if options["config"] is not None:
        raise ConfigError("rerun repeats RUN_DIR/config.json; train another config with `<kind> train --config FILE`")
    default_dir = parsed.get_parameter_source("runs_dir") is click.core.ParameterSource.DEFAULT
    plan = plan_rerun(run_dir, kind_overrides(kind, options), runs_dir=None if default_dir else options["runs_dir"],
                      name=options["name"], preset=options["preset"])
    click.echo(plan.command, err=True)
    train_and_print(plan.kind, plan.config, options, runs_dir=plan.runs_dir, name=plan.name)


@click.command("resume")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs in all [default: the run's config].")
@click.option("--checkpoint-every", type=click.IntRange(min=0), default=1, show_default=True, metavar="K",
              help="Checkpoint every K epochs (0: only when interrupted).")
@click.option("--quiet", is_flag=True, help="No progress bars, no per-epoch lines.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
def resume_command(run_dir: Path, epochs: int | None, checkpoint_every: int, quiet: bool, as_json: bool) -> None:
    """Continue RUN_DIR from its latest checkpoint, in the same directory (metrics appended).

    Works for interrupted, killed, failed and finished runs; --epochs N trains on to N epochs in all.
    Example: mnistlab resume runs/20250101-120000-mlp-mnist --epochs 40
    """
    from mnistlab.cli.progress import TrainingProgress
    from mnistlab.runs.kinds import get_kind
    from mnistlab.runs.resume import resume_run, resume_target

    with TrainingProgress(resume_target(run_dir, epochs), show=not (quiet or as_json)) as progress:
        summary = resume_run(run_dir, epochs=epochs, on_epoch=progress.on_epoch, on_batch=progress.on_batch,
                             checkpoint_every=checkpoint_every)
    click.echo(json.dumps(summary.to_dict(), sort_keys=True) if as_json else get_kind(summary.model).summary_line(summary))


COMMANDS: list[click.Command] = [report_command, runs_command, rerun_command, resume_command]
