"""The `mnistlab` command line: one click group, one module per command family.

`main(argv)` returns an exit code instead of exiting, so tests call it directly.
Every command module imports heavy frameworks only inside its commands.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from enum import IntEnum
from typing import Any

import click

from mnistlab import __version__
from mnistlab.cnn.backend import show_framework_logs
from mnistlab.errors import MnistlabError


class ExitCode(IntEnum):
    """Process exit codes of the CLI."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so a run ends the same way: interrupted, checkpoint kept."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the CLI runs, SIGTERM raises Terminated (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mnistlab")
@click.option("--verbose", "-v", is_flag=True,
              help="Show the frameworks' own start-up log lines (TensorFlow, absl, oneDNN), hidden by default.")
def cli(verbose: bool) -> None:
    """mnistlab: learn, measure and look inside neural networks on MNIST-like images."""
    show_framework_logs(verbose)


def _register_commands() -> None:
    from mnistlab.cli import bench, cnn, data, demo, env, insight, lab, mlp, runs, sweep

    for module in (data, mlp, cnn, bench, runs, sweep, lab, env, demo):
        for command in module.COMMANDS:
            cli.add_command(command)
    cnn_group = cli.commands.get("cnn")
    if isinstance(cnn_group, click.Group):
        for command in insight.CNN_SUBCOMMANDS:
            cnn_group.add_command(command)


_register_commands()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]) and return the exit code."""
    try:
        with _sigterm_as_interrupt():
            result = cli.main(args=list(argv) if argv is not None else None, prog_name="mnistlab",
                              standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:  # click turns KeyboardInterrupt into Abort
        if isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated):
            click.echo("terminated (SIGTERM)", err=True)
            return ExitCode.TERMINATED
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:  # usage errors too: one line, like every other error
        context = getattr(exc, "ctx", None)
        hint = f"; see `{context.command_path} --help`" if context is not None else ""
        message = " ".join(exc.format_message().split()).rstrip(".")
        click.echo(f"error: {message}{hint}", err=True)
        return exc.exit_code
    except MnistlabError as exc:
        click.echo(f"error: {exc}", err=True)
        return ExitCode.ERROR
    sys.stdout.flush()
    return int(result) if isinstance(result, int) else ExitCode.OK
