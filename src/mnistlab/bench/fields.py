"""Benchmark dataclasses to and from JSON: unknown keys are errors, JSON lists become tuples again."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Self, TypeVar

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


class BenchRow:
    """A benchmark's summary row, for a dataclass to inherit: one row of the document's "rows" and of the CSV.

    Its fields' order is the order of the JSON's keys and of the CSV's columns.
    """

    def to_dict(self) -> dict[str, Any]:
        """The row as the JSON document and the CSV hold it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """A row of a document's "rows" (e.g. read back from <stem>.json); an unknown key raises ConfigError."""
        check_known_fields(cls, values, f"a {cls.__name__} has no field {{unknown}}; its fields are {{known}}")
        return cls(**values)
