"""Which runs and columns the runs table shows, and the shown rows exported as CSV or JSON.

A row (see `runs_view.index_row`) has the table's own fields (name, model, status, epochs ...),
the run's flat config under `options` and its final metrics under `metrics`. A query reads all of
them by name; where names clash, the table's field wins over a final metric, which wins over a
config option (so `epochs` is the epochs trained, and `planned_epochs` the epochs asked for).

By default the table shows the options that differ among the shown runs: with a thousand runs of
the same preset, the two options a sweep varied are the columns worth reading.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from mnistlab.lab.query import QueryError, parse_query

BASE_COLUMNS = ("name", "model", "dataset", "epochs", "test_accuracy", "train_seconds", "started", "status")
MAX_DEFAULT_OPTIONS = 8
"""At most this many differing options become default columns (the rest can be chosen by name)."""


def row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Every name a query or a column may use, with its value for this run."""
    return {**row.get("options", {}), **row.get("metrics", {}),
            **{k: v for k, v in row.items() if k not in ("options", "metrics")}}


@dataclass
class Selection:
    """The rows a query keeps, the option columns that differ among them, and every field name seen."""

    rows: list[dict[str, Any]]
    differing: list[str]
    fields: list[str]


def _key(value: Any) -> Any:
    """A hashable stand-in of a config value (lists and dicts as JSON text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else (type(value), value)


def differing_options(rows: list[dict[str, Any]]) -> list[str]:
    """The config options whose values are not all the same among `rows` (a missing value counts as one)."""
    options = [row.get("options", {}) for row in rows]
    names = set().union(*options) if options else set()
    differ = []
    for name in sorted(names):
        first = _key(options[0].get(name))
        if any(_key(o.get(name)) != first for o in options):
            differ.append(name)
    return differ


def field_names(rows: list[dict[str, Any]]) -> set[str]:
    """Every field name of `rows` (see `row_fields`)."""
    names: set[str] = set()
    for row in rows:
        names.update(row.get("options", {}), row.get("metrics", {}), row)
    return names - {"options", "metrics"}


def select(rows: list[dict[str, Any]], query_text: str = "") -> Selection:
    """The rows matching `query_text`; QueryError for a bad query or a field that no run has."""
    query = parse_query(query_text)
    known = field_names(rows)
    query.check_names(known)
    kept = [row for row in rows if query.matches(row_fields(row))] if query.tree is not None else list(rows)
    return Selection(kept, differing_options(kept), sorted(known))


def columns_for(selection: Selection, columns_text: str = "") -> list[str]:
    """The columns to show: the comma-separated names asked for, else the base ones plus the differing options."""
    asked = [c.strip() for c in (columns_text or "").split(",") if c.strip()]
    if not asked:
        return list(BASE_COLUMNS) + selection.differing[:MAX_DEFAULT_OPTIONS]
    unknown = [c for c in asked if c not in selection.fields]
    if unknown and selection.rows:
        raise QueryError(f"no run has a column {unknown[0]!r}; pick columns from the field list of /api/runs")
    return asked


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def export_rows(selection: Selection, columns: list[str]) -> list[dict[str, Any]]:
    """The shown rows restricted to `columns` (in that order)."""
    return [{c: fields.get(c) for c in columns} for fields in map(row_fields, selection.rows)]


def export_csv(selection: Selection, columns: list[str]) -> str:
    """The shown rows as CSV text: a header of `columns`, one line per run, lists as JSON, missing as empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in export_rows(selection, columns):
        writer.writerow({k: "" if v is None else _cell(v) for k, v in row.items()})
    return out.getvalue()
