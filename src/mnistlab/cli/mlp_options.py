"""The `mlp train` options of the MLP itself, generated from `mnistlab.mlp.options.OPTIONS`.

Every option with a CLI flag becomes one click option (default None: not given, so the
preset's or config file's value stands); "special" options are text, parsed by the config resolution
(`mnistlab.mlp.option_text`, through `mnistlab.runs.kinds`).
"""

from __future__ import annotations

from collections.abc import Callable

import click

from mnistlab.mlp.options import OPTIONS, Option


def _click_option(option: Option) -> Callable:
    flag, name, text = option.flag, option.name, option.help
    if option.kind == "bool":
        negative = "--no-" + flag.removeprefix("--")
        return click.option(f"{flag}/{negative}", name, default=None, help=text)
    if option.kind == "choice":
        return click.option(flag, name, type=click.Choice(option.choices), help=text)
    if option.kind in ("int", "float"):
        return click.option(flag, name, type=int if option.kind == "int" else float, help=text)
    return click.option(flag, name, type=str, help=text)


def mlp_options(command: Callable) -> Callable:
    """Decorate `command` with one click option per MLP option that has a flag."""
    for option in reversed([o for o in OPTIONS if o.flag]):
        command = _click_option(option)(command)
    return command
