"""Options shared by the training commands (where the run is recorded, how it reports) and shared printing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click


def stacked(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator adding several click options, in the order given (as if written one above the other)."""
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def run_record_options(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add --config, --runs-dir, --name, --quiet, --json and --checkpoint-every to a `<kind> train` command."""
    return stacked(
        click.option("--config", type=click.Path(dir_okay=False), help="JSON config (e.g. a run's config.json)."),
        click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False)),
        click.option("--name", help=f"Run name [default: {kind}-DATASET]."),
        click.option("--quiet", is_flag=True, help="No progress bars, no per-epoch lines."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout."),
        click.option("--checkpoint-every", type=click.IntRange(min=0), default=1, show_default=True, metavar="K",
                     help="Checkpoint every K epochs (0: only when interrupted); `mnistlab resume` continues it."))


def kind_overrides(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The parsed options that are the kind's config options (left out: None, so the start's value stands)."""
    from mnistlab.runs.kinds import get_kind

    return {name: value for name, value in options.items() if name in get_kind(kind).option_names}


def resolve_train_config(kind: str, options: dict[str, Any]) -> Any:
    """The config of `<kind> train`: --preset or --config, then every option given, resolved by the kind.

    The same resolution (`ModelKind.resolve_config`) serves the sweep and the lab, so a preset or an
    option means the same everywhere; options left out (None) keep the starting point's value.
    """
    from mnistlab.runs.kinds import get_kind

    return get_kind(kind).resolve_config(preset=options.get("preset"), config_file=options.get("config"),
                                         overrides=kind_overrides(kind, options))


def train_and_print(kind: Any, config: Any, options: dict[str, Any], **where: Any) -> None:
    """Start the kind's framework, print the config, train with progress, print the summary (`<kind> train`, `rerun`).

    `kind` is a ModelKind or its name; `where` (runs_dir, name) replaces the options of the same name.
    """
    from mnistlab.cli.progress import TrainingProgress
    from mnistlab.runs.kinds import get_kind

    kind = get_kind(kind) if isinstance(kind, str) else kind

    config = kind.prepare(config)  # threads, backend and device take effect (or fail) before any data loads
    options = {**options, **where}
    quiet, as_json = options["quiet"], options["as_json"]
    if not quiet and not as_json:
        click.echo("\n".join(kind.config_lines(config)))
    with TrainingProgress(kind.epochs_of(config), show=not (quiet or as_json)) as progress:
        summary = kind.train(config, runs_dir=options["runs_dir"], name=options["name"], on_epoch=progress.on_epoch,
                             on_batch=progress.on_batch, checkpoint_every=options["checkpoint_every"])
    click.echo(json.dumps(summary.to_dict(), sort_keys=True) if as_json else kind.summary_line(summary))


def print_evaluation(result: dict[str, Any], as_json: bool, *, confusion: bool = True) -> None:
    """Print an `evaluate_run` result: one JSON object, or `evaluation_lines`."""
    from mnistlab.runs.evaluation import evaluation_lines

    click.echo(json.dumps(result) if as_json else "\n".join(evaluation_lines(result, confusion=confusion)))
