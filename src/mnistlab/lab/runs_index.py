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

A sweep directory (sweep.json) gives one row of its own (`kind` "sweep", lab/sweeps.py) and a row
per trial run, named `SWEEP~TRIAL` and marked `sweep: SWEEP`; its row is re-read when sweep.json
or one of its trials changes.

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
from mnistlab.lab.security import TRIAL_SEPARATOR
from mnistlab.lab.sweeps import sweep_row
from mnistlab.runs.catalog import RunDirError, load_run
from mnistlab.runs.rundir import RUN_FILES, RunDir, RunStatus, is_run_dir
from mnistlab.runs.sweeps import SWEEP_FILE, load_sweep

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
            seen: set[str] = set()
            children = sorted(self.runs_dir.iterdir()) if self.runs_dir.is_dir() else []
            for child in children:
                folder_mtime = None if child.name.startswith(".") else _folder_mtime(child)
                if folder_mtime is None:
                    continue
                entry = self._entries.get(child.name)
                if entry is not None and entry.row.get("kind") != "sweep":  # a run stays a run: one stat
                    self._refresh_run(child.name, child, seen, folder_mtime=folder_mtime)
                elif (child / SWEEP_FILE).is_file():
                    self._refresh_sweep(child, seen)
                elif child.is_dir():
                    self._refresh_run(child.name, child, seen, folder_mtime=folder_mtime)
            for name in set(self._entries) - seen:
                self.version += 1
                del self._entries[name]
                self._removed[name] = self.version
            self._refreshed_at = time.monotonic()
            return self.version

    def _refresh_run(self, name: str, path: Path, seen: set[str], extra: dict[str, Any] | None = None,
                     folder_mtime: int | None = None) -> bool:
        """Re-read run `name` at `path` if its files changed (noting it in `seen`); whether its row changed."""
        folder_mtime = folder_mtime if folder_mtime is not None else _folder_mtime(path)
        if folder_mtime is None:
            return False
        entry = self._entries.get(name)
        if entry is not None and entry.folder_mtime == folder_mtime and entry.row["status"] != "running":
            seen.add(name)  # a finished run changes only by replacing its record (resume): a new mtime
            return False
        stamp = run_stamp(path)
        if stamp is None:
            return False
        seen.add(name)
        if entry is not None and entry.stamp == stamp and not self._closed_now(path, entry):
            entry.folder_mtime = folder_mtime
            return False
        try:
            row = {**index_row(load_run(path)), **(extra or {}), "name": name}
        except RunDirError:  # vanished between the stat and the read
            return False
        self._store(name, stamp, row, folder_mtime)
        return True

    def _refresh_sweep(self, path: Path, seen: set[str]) -> None:
        """A sweep directory: its trials' runs (`SWEEP~TRIAL`), then its own row when it or a trial changed."""
        changed, names = False, []
        for child in sorted(path.iterdir()):
            name = f"{path.name}{TRIAL_SEPARATOR}{child.name}"
            if name in self._entries or (not child.name.startswith(".") and is_run_dir(child)):
                changed |= self._refresh_run(name, child, seen, {"sweep": path.name})
                names.append(name)
        try:
            info = (path / SWEEP_FILE).stat()
        except OSError:
            return
        stamp: Stamp = ((info.st_mtime_ns, info.st_size), len(names))
        entry = self._entries.get(path.name)
        seen.add(path.name)
        if entry is not None and entry.stamp == stamp and not changed:
            return
        record = load_sweep(path)
        if record is None:
            return
        trials = [self._entries[n].row for n in names if n in self._entries]
        self._store(path.name, stamp, sweep_row(record, trials), 0)

    def _store(self, name: str, stamp: Stamp, row: dict[str, Any], folder_mtime: int) -> None:
        self.version += 1
        self._entries[name] = _Entry(stamp, row, self.version, folder_mtime)
        self._removed.pop(name, None)

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
