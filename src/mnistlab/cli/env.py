"""`mnistlab env`: versions, Keras backends and their devices, BLAS, and the thread settings in force."""

from __future__ import annotations

import json
import sys
from typing import Any

import click


def collect(threads: int | None, probe_devices: bool) -> dict[str, Any]:
    """Everything `mnistlab env` reports, as one JSON-ready dict."""
    from mnistlab.cnn.backend import (DEFAULT_BACKEND, bound_framework_threads, quiet_tensorflow, resolve_backend,
                                      silenced_native_stderr)
    from mnistlab.env import backends_info, environment_info, thread_settings
    from mnistlab.errors import BackendError
    from mnistlab.threads import configure_threads

    if threads is not None:
        configure_threads(threads)
    quiet_tensorflow()
    with silenced_native_stderr():
        backends = backends_info(probe_devices=probe_devices)  # imports the frameworks: after the thread bound
    if threads is not None:
        for name in ("torch", "tensorflow"):
            if name in sys.modules:
                bound_framework_threads(name, threads)
    info = environment_info()
    try:
        selected = resolve_backend(None)
    except BackendError as exc:
        selected = f"none ({exc})"
    info.update(keras_backends=backends, keras_backend_selected=selected, keras_backend_default=DEFAULT_BACKEND,
                threads=thread_settings())
    return info


def _format(info: dict[str, Any]) -> list[str]:
    packages = info["packages"]
    lines = [f"mnistlab {packages.get('mnistlab')}  python {info['python']}  {info['platform']}",
             f"cpu: {info['cpu']} ({info['cpu_count']} cores, {info['threads']['cpus_usable']} usable)",
             "packages: " + ", ".join(f"{k} {v}" for k, v in packages.items() if v and k != "mnistlab"),
             f"keras: {packages.get('keras') or 'not installed'}; backend used: {info['keras_backend_selected']} "
             f"(default {info['keras_backend_default']}, override with --backend or KERAS_BACKEND)"]
    for name, entry in info["keras_backends"].items():
        if not entry["installed"]:
            lines.append(f"  {name:<10} not installed")
            continue
        devices = ", ".join(entry.get("devices", [])) or entry.get("error", "not probed")
        lines.append(f"  {name:<10} {entry['version']:<12} devices: {devices}")
    lines.append("blas:")
    for lib in info["blas"]:
        lines.append(f"  {lib.get('internal_api')} {lib.get('version') or ''} threads={lib.get('num_threads')} "
                     f"({lib.get('threading_layer') or 'n/a'}, {lib.get('architecture') or 'n/a'})")
    threads = info["threads"]
    lines.append("threads: " + ", ".join(f"{k}={v}" for k, v in threads["env"].items()) if threads["env"]
                 else "threads: no *_NUM_THREADS variables set (frameworks use all usable cores)")
    for framework in ("torch", "tensorflow"):
        if framework in threads:
            pools = threads[framework]
            lines.append(f"  {framework}: intra-op {pools['intra_op']}, inter-op {pools['inter_op']}")
    return lines


@click.command("env")
@click.option("--threads", type=int, help="Show the settings in force after bounding threads to N (as --threads does).")
@click.option("--no-devices", is_flag=True, help="Do not import the frameworks to list their devices (faster).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def env_command(threads: int | None, no_devices: bool, as_json: bool) -> None:
    """Installed Keras backends and versions, devices found, BLAS, and thread settings in force."""
    info = collect(threads, probe_devices=not no_devices)
    if as_json:
        click.echo(json.dumps(info, sort_keys=True, default=str))
        return
    for line in _format(info):
        click.echo(line)


COMMANDS = [env_command]
