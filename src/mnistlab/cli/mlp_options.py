"""The `mlp train` options of the MLP itself, generated from `mnistlab.mlp.options.OPTIONS`.

Every option with a CLI flag becomes one click option (default None: not given, so the
preset's or config file's value stands); "special" options are parsed here from text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from mnistlab.errors import ConfigError
from mnistlab.mlp.options import OPTIONS, Option


def parse_hidden(text: str) -> tuple[int, ...]:
    """"70,30" -> (70, 30); "" or "none" -> ()."""
    if text.strip() in ("", "none", "()"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--hidden {text!r} is not valid; give layer sizes separated by commas, e.g. 70,30") from None


def parse_intervals(text: str) -> tuple[tuple[float, float], ...]:
    """"-0.5:0.5,-1:1" -> ((-0.5, 0.5), (-1.0, 1.0))."""
    try:
        return tuple((float(lo), float(hi)) for lo, hi in (part.split(":") for part in text.split(",")))
    except ValueError:
        raise ConfigError(f"--init-intervals {text!r} is not valid; give LOW:HIGH per layer, "
                          "e.g. -0.5:0.5,-0.5:0.5,-0.5:0.5") from None


def parse_batch_size(text: str) -> int | str:
    """"auto" or a positive integer."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--batch-size {text!r} is not valid; give a number of rows or auto") from None


def parse_patience(text: str) -> int | float | None:
    """An integer, "inf" (never stop, but warn) or "none" (a fixed epoch budget)."""
    if text.lower() == "none":
        return None
    if text.lower() == "inf":
        return math.inf
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--n-iter-no-change {text!r} is not valid; give an integer, inf or none") from None


def parse_seed(text: str) -> int:
    """An integer seed."""
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--seed {text!r} is not valid; give an integer") from None


PARSERS: dict[str, Callable[[str], Any]] = {
    "hidden_sizes": parse_hidden, "init_intervals": parse_intervals, "batch_size": parse_batch_size,
    "n_iter_no_change": parse_patience, "random_state": parse_seed,
}


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


def given_mlp_options(options: dict[str, Any]) -> dict[str, Any]:
    """The MLP options given on the command line, parsed: {MLPConfig field: value}."""
    given = {}
    for option in OPTIONS:
        value = options.get(option.name) if option.flag else None
        if value is not None:
            given[option.name] = PARSERS[option.name](value) if option.name in PARSERS else value
    return given
