"""`mnistlab env`: versions, Keras backends and their devices, BLAS, and the thread settings in force."""

from __future__ import annotations

import json

import click


@click.command("env")
@click.option("--threads", type=int, help="Show the settings in force after bounding threads to N (as --threads does).")
@click.option("--no-devices", is_flag=True, help="Do not import the frameworks to list their devices (faster).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def env_command(threads: int | None, no_devices: bool, as_json: bool) -> None:
    """Installed Keras backends and versions, devices found, BLAS, and thread settings in force."""
    from mnistlab.cnn.backend import environment_report
    from mnistlab.env import environment_lines

    info = environment_report(threads, probe_devices=not no_devices)
    click.echo(json.dumps(info, sort_keys=True, default=str) if as_json else "\n".join(environment_lines(info)))


COMMANDS = [env_command]
