"""A run directory: the record a training command leaves, enough to inspect, compare and rerun it.

Layout (format version 1)::

    runs/<YYYYmmdd-HHMMSS>-<name>/
        run.json          kind ("mlp" | "cnn"), name, format version, status, start/end time
        config.json       the exact resolved config (rerun with `mnistlab rerun RUN_DIR`)
        environment.json  package versions, backend, threads, CPU, BLAS
        metrics.csv       one row per epoch, appended as training goes (survives interruption)
        summary.json      final metrics (test accuracy, train seconds, epochs)
        model.npz | model.keras
        *.png             figures
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mnistlab.env import environment_info

FORMAT_VERSION = 1
# The process's umask, read once: files written through mkstemp get the usual mode, not 0600.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path` for writing; on success rename it to `path`, else delete it.

    Readers never see half a file, and an error (or Ctrl-C) leaves any older `path` untouched.
    The file gets the usual permissions (0666 minus the umask), not mkstemp's 0600.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to `path` through a temporary file and a rename, so readers never see half a file."""
    with atomic_open(path, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=True, default=_json_default)
        fh.write("\n")


def _csv_header(path: Path) -> list[str] | None:
    """The column names in the first line of a CSV file, or None when it does not exist or is empty."""
    try:
        with path.open(newline="") as fh:
            return next(csv.reader(fh), None)
    except FileNotFoundError:
        return None


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@dataclass
class RunDir:
    """A thin handle on one run directory; every write is atomic or append-only."""

    path: Path

    @classmethod
    def create(cls, runs_dir: str | os.PathLike, name: str, kind: str, config: dict[str, Any]) -> RunDir:
        """Make `runs_dir/<date-time>-<name>/` and write run.json, config.json and environment.json."""
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(runs_dir) / f"{stamp}-{name}"
        path, suffix = base, 1
        while path.exists():
            suffix += 1
            path = base.with_name(f"{base.name}-{suffix}")
        path.mkdir(parents=True)
        run = cls(path)
        run._write_run_json({"kind": kind, "name": name, "format_version": FORMAT_VERSION,
                             "status": "running", "started": dt.datetime.now().isoformat(timespec="seconds")})
        write_json_atomic(path / "config.json", config)
        write_json_atomic(path / "environment.json", environment_info())
        return run

    @property
    def info(self) -> dict[str, Any]:
        """The contents of run.json."""
        return json.loads((self.path / "run.json").read_text())

    def _write_run_json(self, info: dict[str, Any]) -> None:
        write_json_atomic(self.path / "run.json", info)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append one epoch's metrics to metrics.csv (header written with the first row).

        Rows may differ in their keys: a missing value is left empty, and a key the header lacks
        rewrites the file (atomically) with the column added, so columns never shift.
        """
        metrics = self.path / "metrics.csv"
        header = _csv_header(metrics)
        if header is not None and not set(row) <= set(header):
            with metrics.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            header += [key for key in row if key not in header]
            with atomic_open(metrics, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=header, restval="")
                writer.writeheader()
                writer.writerows(rows + [row])
            return
        with metrics.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header or list(row), restval="")
            if header is None:
                writer.writeheader()
            writer.writerow(row)

    def figure_path(self, name: str) -> Path:
        """Where to save the figure called `name` (e.g. "curves" -> curves.png)."""
        return self.path / f"{name}.png"

    def finish(self, summary: dict[str, Any], status: str = "completed") -> None:
        """Write summary.json and mark the run `status` ("completed", "interrupted", "failed")."""
        write_json_atomic(self.path / "summary.json", summary)
        info = self.info
        info.update(status=status, finished=dt.datetime.now().isoformat(timespec="seconds"))
        self._write_run_json(info)
