"""`mnistlab env`: versions, Keras backends and their devices, BLAS, and the thread settings in force."""

from __future__ import annotations

import json

import click


@click.command("env")
@click.option("--threads", type=int, help="Show the settings in force after bounding threads to N (as --threads does).")
@click.option("--no-devices", is_flag=True, help="Do not import the frameworks to list their devices (faster).")
@click.option("--no-measure", is_flag=True,
              help="Do not measure the frameworks' CPU settings on a machine that has no cached answer yet.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def env_command(threads: int | None, no_devices: bool, no_measure: bool, as_json: bool) -> None:
    """Installed Keras backends and versions, devices found, BLAS, thread and CPU settings in force.

    Also the CPU's SIMD level and float32 GEMM rate (a short measurement). The first run on a
    machine measures whether TensorFlow's oneDNN kernels make the CNN faster (a few seconds)
    and caches the answer; the CNN commands then apply it.
    """
    from mnistlab.cnn.backend import environment_report
    from mnistlab.env import environment_lines

    info = environment_report(threads, probe_devices=not no_devices, measure_cpu=not no_measure)
    click.echo(json.dumps(info, sort_keys=True, default=str) if as_json else "\n".join(environment_lines(info)))


COMMANDS = [env_command]
