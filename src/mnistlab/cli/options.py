"""Options shared by the training commands: where the run is recorded and how it reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def run_record_options(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add --config, --runs-dir, --name, --quiet and --json to a `<kind> train` command."""
    options = [
        click.option("--config", type=click.Path(dir_okay=False), help="JSON config (e.g. a run's config.json)."),
        click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False)),
        click.option("--name", help=f"Run name [default: {kind}-DATASET]."),
        click.option("--quiet", is_flag=True, help="No progress bars, no per-epoch lines."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
