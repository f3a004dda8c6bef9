"""A run directory: the record a training command leaves, enough to inspect, compare and rerun it.

Layout (format version 1)::

    runs/<YYYYmmdd-HHMMSS>-<safe name>/
        run.json          kind ("mlp" | "cnn"), name (the label), format version, status, start/end time
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
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnistlab.env import environment_info
from mnistlab.errors import OutputError, TrainingDiverged
from mnistlab.fileio import (atomic_write, describe_os_error, ensure_inside, remove_stale_temp_files, safe_dirname,
                             write_json_atomic)

FORMAT_VERSION = 1
STATUSES = ("running", "completed", "interrupted", "failed", "diverged", "stopped")


def _csv_header(path: Path) -> list[str] | None:
    """The column names in the first line of a CSV file, or None when it does not exist or is empty."""
    try:
        with path.open(newline="") as fh:
            return next(csv.reader(fh), None)
    except FileNotFoundError:
        return None


@dataclass
class RunDir:
    """A thin handle on one run directory; every write is atomic or append-only, and stays inside it."""

    path: Path

    @classmethod
    def create(cls, runs_dir: str | os.PathLike, name: str, kind: str, config: dict[str, Any]) -> RunDir:
        """Make `runs_dir/<date-time>-<safe name>/` and write run.json, config.json and environment.json.

        `name` is a label: the folder gets `safe_dirname(name)`, run.json keeps the label itself.
        OutputError (naming the folder and the fix) when `runs_dir` cannot hold a run; nothing is left behind.
        """
        runs_dir = prepare_runs_dir(runs_dir)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{safe_dirname(name)}"
        path, suffix = runs_dir / base, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                suffix += 1
                path = runs_dir / f"{base}-{suffix}"
            except OSError as exc:
                raise _unwritable(runs_dir, exc) from None
        ensure_inside(path, runs_dir)
        run = cls(path)
        try:
            run._write_run_json({"kind": kind, "name": str(name), "format_version": FORMAT_VERSION,
                                 "status": "running", "started": dt.datetime.now().isoformat(timespec="seconds"),
                                 "pid": os.getpid()})
            write_json_atomic(run.file("config.json"), config)
            write_json_atomic(run.file("environment.json"), environment_info())
        except OSError as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise _unwritable(runs_dir, exc) from None
        return run

    @property
    def info(self) -> dict[str, Any]:
        """The contents of run.json."""
        return json.loads((self.path / "run.json").read_text())

    def file(self, name: str) -> Path:
        """The path of file `name` of this run, checked to resolve inside the run directory."""
        return ensure_inside(self.path / name, self.path)

    def _write_run_json(self, info: dict[str, Any]) -> None:
        write_json_atomic(self.file("run.json"), info)

    def log_epoch(self, row: dict[str, Any]) -> None:
        """Append one epoch's metrics to metrics.csv (header written with the first row).

        Rows may differ in their keys: a missing value is left empty, and a key the header lacks
        rewrites the file (atomically) with the column added, so columns never shift.
        """
        metrics = self.file("metrics.csv")
        header = _csv_header(metrics)
        if header is not None and not set(row) <= set(header):
            with metrics.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            header += [key for key in row if key not in header]
            with atomic_write(metrics, "w", newline="") as fh:
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
        return self.file(f"{name}.png")

    def set_status(self, status: str, **extra: Any) -> None:
        """Rewrite run.json with `status` (one of STATUSES) and any `extra` fields."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")
        info = self.info
        info.update(status=status, **extra)
        self._write_run_json(info)

    def finish(self, summary: dict[str, Any], status: str = "completed") -> None:
        """Write summary.json and mark the run `status` (see STATUSES)."""
        write_json_atomic(self.file("summary.json"), summary)
        self.set_status(status, finished=dt.datetime.now().isoformat(timespec="seconds"))

    @contextlib.contextmanager
    def recording(self, summary: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Record how the block ends: Ctrl-C or SIGTERM -> interrupted, TrainingDiverged -> diverged,
        anything else but SystemExit -> failed (summary.json written, best effort), then re-raise.

        A failed write (full disk, read-only folder, file-size limit) becomes one OutputError line
        naming the run directory and the fix.
        """
        try:
            yield summary
        except KeyboardInterrupt:
            self._close_quietly(summary, "interrupted")
            raise
        except TrainingDiverged:
            self._close_quietly(summary, "diverged")
            raise
        except OSError as exc:
            self._close_quietly(summary, "failed")
            raise OutputError(f"cannot write the run directory {self.path} ({describe_os_error(exc)}); "
                              "free some space or pass --runs-dir a writable folder") from None
        except SystemExit:  # the host ends this process or thread (Ray stopping a trial): the host records why
            raise
        except BaseException as exc:
            summary.setdefault("error", f"{type(exc).__name__}: {exc}")
            self._close_quietly(summary, "failed")
            raise

    def _close_quietly(self, summary: dict[str, Any], status: str) -> None:
        # Marking the end must not hide the error that ended the run (the disk may be full).
        with contextlib.suppress(OSError, ValueError):
            self.finish(summary, status)
            return
        with contextlib.suppress(OSError, ValueError):
            self.set_status(status)


def prepare_runs_dir(runs_dir: str | os.PathLike) -> Path:
    """Create `runs_dir` if needed and sweep stale temporary files; OutputError when it cannot hold runs."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(runs_dir, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise _unwritable(runs_dir, exc) from None
    remove_stale_temp_files(runs_dir, recursive=True)
    return runs_dir


def _unwritable(runs_dir: Path, exc: OSError) -> OutputError:
    if isinstance(exc, FileExistsError):
        reason = "it exists and is not a folder"
    elif isinstance(exc, NotADirectoryError):
        reason = "part of that path is a file, not a folder"
    else:
        reason = describe_os_error(exc)
    return OutputError(f"cannot write runs to {runs_dir} ({reason}); pass --runs-dir a writable folder")
