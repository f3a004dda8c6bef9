"""`mnistlab demo`: the main job that `make run` runs."""

from __future__ import annotations

import click


@click.command()
def demo() -> int:
    """The main job of `make run`: for now, show the datasets that are available."""
    from mnistlab.cli import main

    return main(["data", "info"])


COMMANDS = [demo]
