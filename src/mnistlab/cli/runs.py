"""`mnistlab report`, `mnistlab runs` and `mnistlab rerun`: look at, list and repeat recorded runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mnistlab.runs.catalog import KINDS, RunDirError, RunRecord, list_runs, load_run
from mnistlab.runs.rundir import RunDir


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
    from mnistlab.runs.report import write_report
    from mnistlab.runs.sweeps import is_sweep_dir

    if len(run_dirs) == 1 and is_sweep_dir(run_dirs[0]):
        from mnistlab.sweep.report import write_sweep_report

        path = write_sweep_report(run_dirs[0], out)
    else:
        path = write_report(list(run_dirs), out)
    if as_json:
        click.echo(json.dumps({"report": str(path.resolve()), "runs": [str(p) for p in run_dirs]}))
    else:
        click.echo(str(path))
    return 0


def _format_row(row: dict) -> list[str]:
    accuracy = row["test_accuracy"]
    seconds = row["train_seconds"]
    name, label = ("".join(c if c.isprintable() else "?" for c in row[k]) for k in ("name", "label"))
    return [name, label, str(row["model"] or "?"), str(row["dataset"] or "?"),
            str(row["epochs"] if row["epochs"] is not None else "?"),
            f"{accuracy:.4f}" if accuracy is not None else "-",
            f"{seconds:.1f}" if seconds is not None else "-", row["status"]]


@click.command("runs")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True, help="The directory training commands write their runs into.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of a table.")
def runs_command(runs_dir: Path, as_json: bool) -> int:
    """List the recorded runs, oldest first: folder, label (--name), model, dataset, epochs, test accuracy, time, status."""
    rows = [record.row() for record in list_runs(runs_dir)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    for line in _sweep_lines(runs_dir):
        click.echo(line)
    if not rows:
        click.echo(f"no runs in {runs_dir}; train one with `mnistlab mlp train` or `mnistlab cnn train`")
        return 0
    header = ["name", "label", "model", "dataset", "epochs", "test_acc", "seconds", "status"]
    table = [header] + [_format_row(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    right = {4, 5, 6}
    for line in table:
        click.echo("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
    return 0


def _sweep_lines(runs_dir: Path) -> list[str]:
    """One line per sweep directory under `runs_dir` (its trials are runs one level down)."""
    from mnistlab.runs.sweeps import list_sweeps

    return [f"sweep {sweep.path.name} ({sweep.status}; "
            f"{', '.join(f'{n} {s}' for s, n in sorted(sweep.counts.items())) or 'no trials'}): "
            f"mnistlab runs --runs-dir {sweep.path}" for sweep in list_sweeps(runs_dir)]


def _has_option(argv: tuple[str, ...], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in argv)


def rerun_argv(record: RunRecord, extra: tuple[str, ...]) -> list[str]:
    """The `mnistlab` arguments that repeat `record`: `<kind> train --config RUN_DIR/config.json ...`."""
    kind = record.kind
    if kind not in KINDS:
        raise RunDirError(f"{record.path} cannot be rerun: its record names no known model kind ({kind!r}); "
                          f"expected one of {', '.join(KINDS)}")
    config = RunDir(record.path).config_path
    if record.config is None:
        raise RunDirError(f"{record.path} cannot be rerun: {config.name} is missing or unreadable; "
                          f"train again with `mnistlab {kind} train`")
    argv = [kind, "train", "--config", str(config)]
    if not _has_option(extra, "--runs-dir"):
        argv += ["--runs-dir", str(record.path.parent)]
    if not _has_option(extra, "--name") and record.info.get("name"):
        argv += ["--name", f"{record.info['name']}-rerun"]
    return argv + list(extra)


@click.command("rerun", context_settings={"ignore_unknown_options": True})
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("train_options", nargs=-1, type=click.UNPROCESSED)
def rerun_command(run_dir: Path, train_options: tuple[str, ...]) -> int:
    """Train again from RUN_DIR/config.json, as a new run beside the old one (name: <name>-rerun).

    Further options go to `mnistlab <kind> train`, e.g. `mnistlab rerun RUN_DIR --quiet --json`
    or `--runs-dir DIR --name NAME`.
    """
    from mnistlab.cli import main

    argv = rerun_argv(load_run(run_dir), train_options)
    click.echo("mnistlab " + " ".join(argv), err=True)
    return main(argv)


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
    from mnistlab.runs.resume import resume_run

    total = epochs or _configured_epochs(run_dir)
    with TrainingProgress(total, show=not (quiet or as_json)) as progress:
        summary = resume_run(run_dir, epochs=epochs, on_epoch=progress.on_epoch, on_batch=progress.on_batch,
                             checkpoint_every=checkpoint_every)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        click.echo(f"test accuracy {summary['test_accuracy']:.2%} after {summary['epochs']} epochs; "
                   f"run: {summary['run_dir']}")


def _configured_epochs(run_dir: Path) -> int:
    """The epochs the run plans in all (for the progress bar; resume_run validates it), 0 when unknown."""
    return RunDir(run_dir).planned_epochs or 0


COMMANDS: list[click.Command] = [report_command, runs_command, rerun_command, resume_command]
