"""Benchmark dataclasses back from JSON: unknown keys are errors, JSON lists become tuples again."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from mnistlab.errors import ConfigError

T = TypeVar("T")


def check_known_fields(cls: type, values: dict[str, Any], message: str) -> None:
    """Raise ConfigError when `values` has keys `cls` has no field for.

    `message` is formatted with ``unknown`` and ``known``, comma-separated sorted names.
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(message.format(unknown=", ".join(unknown), known=", ".join(sorted(known))))


def with_tuples(cls: type[T], values: dict[str, Any]) -> T:
    """`cls(**values)` with every list (JSON's form of a tuple) turned back into a tuple."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
