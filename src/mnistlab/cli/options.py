"""Options shared by the training commands (where the run is recorded, how it reports) and shared printing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click


def run_record_options(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add --config, --runs-dir, --name, --quiet, --json and --checkpoint-every to a `<kind> train` command."""
    options = [
        click.option("--config", type=click.Path(dir_okay=False), help="JSON config (e.g. a run's config.json)."),
        click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False)),
        click.option("--name", help=f"Run name [default: {kind}-DATASET]."),
        click.option("--quiet", is_flag=True, help="No progress bars, no per-epoch lines."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout."),
        click.option("--checkpoint-every", type=click.IntRange(min=0), default=1, show_default=True, metavar="K",
                     help="Checkpoint every K epochs (0: only when interrupted); `mnistlab resume` continues it."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def print_evaluation(result: dict[str, Any], as_json: bool, *, confusion: bool = True) -> None:
    """Print an `evaluate_run` result: one JSON object, or `evaluation_lines`."""
    from mnistlab.runs.evaluation import evaluation_lines

    click.echo(json.dumps(result) if as_json else "\n".join(evaluation_lines(result, confusion=confusion)))
