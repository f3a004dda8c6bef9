"""An in-memory index of the runs table, refreshed from the run directories by modification time.

Why: reading a run (its record, config, metrics, summary ...) takes about a
millisecond, so a thousand runs take seconds to scan, and the event stream used to scan every half
second for every open page. The index keeps each run's table row with the stamp of the files it was
read from, `(mtime_ns, size)` of each of the run's record files (`RUN_FILES`). A refresh
only `stat`s those files and re-reads the runs whose stamp changed, so an epoch written by a running
run costs one run's read, whatever the number of runs. A finished run is only `stat`ed as a folder:
its files change only by being replaced (every write but the metrics append is atomic, a
rename), which changes the folder's mtime; a run is only appended to while it says "running". `benchmarks/lab_runs.py` measured the
alternatives (docs/lab.md): the stdlib's SQLite would only add a second copy to keep in step; the
run directories stay the truth and the index is rebuilt from them at start.

Every row carries a version number: the event stream asks for `changes(since)` and sends only the
rows that changed (and the names of runs that disappeared), so twenty open pages cost one refresh
per poll, not twenty scans. Refreshes are serialised by a lock and at most one per `min_interval`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.lab.runs_view import index_row
from mnistlab.runs.catalog import RunDirError, load_run
from mnistlab.runs.rundir import RUN_FILES, RunDir, RunStatus

Stamp = tuple[tuple[int, int] | None, ...]


def run_stamp(path: Path) -> Stamp | None:
    """`(mtime_ns, size)` of each run file (None where absent); None when `path` holds no run file."""
    stamp = []
    for name in RUN_FILES:
        try:
            info = (path / name).stat()
            stamp.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp) if any(stamp) else None


@dataclass
class _Entry:
    stamp: Stamp
    row: dict[str, Any]
    version: int
    folder_mtime: int  # the run directory's own mtime_ns: changes when a file in it is created or replaced


def _folder_mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@dataclass
class Changes:
    """What changed in the index since a version: the new version, changed rows and removed run names."""

    version: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class RunIndex:
    """The rows of every run under `runs_dir`, kept in step with the files by `refresh()`."""

    def __init__(self, runs_dir: Path, min_interval: float = 0.2) -> None:
        self.runs_dir = Path(runs_dir)
        self.min_interval = min_interval
        self.version = 0
        self.token = secrets.token_hex(4)  # names this index: a version of another lab process means nothing
        self._entries: dict[str, _Entry] = {}
        self._removed: dict[str, int] = {}
        self._lock = threading.Lock()
        self._refreshed_at = -float("inf")

    def refresh(self, force: bool = False) -> int:
        """Re-read the runs whose files changed (at most once per `min_interval` unless `force`); the version."""
        with self._lock:
            if not force and time.monotonic() - self._refreshed_at < self.min_interval:
                return self.version
            seen = set()
            children = sorted(self.runs_dir.iterdir()) if self.runs_dir.is_dir() else []
            for child in children:
                folder_mtime = None if child.name.startswith(".") else _folder_mtime(child)
                if folder_mtime is None or not child.is_dir():
                    continue
                entry = self._entries.get(child.name)
                if entry is not None and entry.folder_mtime == folder_mtime and entry.row["status"] != "running":
                    seen.add(child.name)  # a finished run changes only by replacing its record (resume): a new mtime
                    continue
                stamp = run_stamp(child)
                if stamp is None:
                    continue
                seen.add(child.name)
                if entry is not None and entry.stamp == stamp and not self._closed_now(child, entry):
                    entry.folder_mtime = folder_mtime
                    continue
                try:
                    row = index_row(load_run(child))
                except RunDirError:  # vanished between the stat and the read
                    continue
                self.version += 1
                self._entries[child.name] = _Entry(stamp, row, self.version, folder_mtime)
                self._removed.pop(child.name, None)
            for name in set(self._entries) - seen:
                self.version += 1
                del self._entries[name]
                self._removed[name] = self.version
            self._refreshed_at = time.monotonic()
            return self.version

    @staticmethod
    def _closed_now(path: Path, entry: _Entry) -> bool:
        """Whether a run shown as running was just closed as interrupted (its process is gone)."""
        if entry.row["status"] != RunStatus.RUNNING:
            return False
        info = RunDir(path).close_if_dead()
        return info is not None and info.get("status") != RunStatus.RUNNING

    def rows(self) -> list[dict[str, Any]]:
        """Every run's row after a refresh, oldest first (by start time, then name)."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[list[dict[str, Any]], str]:
        """Every run's row (oldest first) after a refresh, and the cursor they stand at, read together."""
        self.refresh()
        with self._lock:
            rows, cursor = [entry.row for entry in self._entries.values()], self.cursor
        return sorted(rows, key=lambda r: (str(r.get("started") or ""), r["name"])), cursor

    @property
    def cursor(self) -> str:
        """"TOKEN:VERSION": where a page's copy of the table stands (see `version_of`)."""
        return f"{self.token}:{self.version}"

    def version_of(self, cursor: str | None) -> int | None:
        """The version in a cursor from this index, None for another index's (or no) cursor."""
        token, _, version = (cursor or "").partition(":")
        return int(version) if token == self.token and version.isdigit() else None

    def changes(self, since: int) -> Changes:
        """The rows changed and runs removed after version `since` (refreshing first)."""
        self.refresh()
        with self._lock:
            return Changes(self.version, [e.row for e in self._entries.values() if e.version > since],
                           sorted(name for name, version in self._removed.items() if version > since))
