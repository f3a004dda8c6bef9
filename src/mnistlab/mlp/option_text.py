"""MLP option values written as text ("70,30", "auto", "inf"), as the CLI and a sweep spec give them.

`parse_option(name, value)` turns the text form of a "special" option (see `mnistlab.mlp.options`)
into its value; other values pass through. Every entry point's config resolution
(`mnistlab.runs.kinds`) calls it, so `--hidden 70,30` and a spec's `hidden = "70,30"` agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mnistlab.errors import ConfigError


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


def parse_option(name: str, value: Any) -> Any:
    """The value of MLP option `name` given as `value`: text of a special option parsed, lists made tuples."""
    if isinstance(value, str) and name in PARSERS:
        return PARSERS[name](value)
    if name == "hidden_sizes" and isinstance(value, list):
        return tuple(value)
    return value
