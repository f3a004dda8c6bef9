"""A run directory, and the one module that reads and writes its record files.

Layout (format version 1)::

    runs/<YYYYmmdd-HHMMSS>-<safe name>[-2, -3...]/
        run.json          kind, name (the label as typed), format_version, status, started, finished,
                          pid and host of the training process, planned_epochs, trial (sweep, trial id...)
        config.json       the exact resolved config (rerun with `mnistlab rerun RUN_DIR`)
        environment.json  package versions, backend, threads, CPU, BLAS
        metrics.csv       one row per epoch, appended as training goes (survives interruption)
        summary.json      final metrics (test accuracy, train seconds, epochs)
        model.npz | model.keras, checkpoint-epoch<N>.npz | .keras, *.png

Nothing else in mnistlab opens these files (tests/runs/test_run_owner.py holds that): the CLI, the
sweep, the lab, resume and the report go through `RunDir`. Many writers may share one runs
directory: each run's folder is made with one `os.mkdir` (a `-2`, `-3`... suffix on collision),
so two processes never get the same folder, and every file in it is written by its own run only.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import enum
import json
import os
import shutil
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.env import environment_info
from mnistlab.errors import MnistlabError, OutputError, TrainingDiverged
from mnistlab.fileio import (atomic_write, describe_os_error, ensure_inside, make_unique_dir, pid_alive,
                             read_json_object,
                             remove_stale_temp_files, safe_dirname, write_json_atomic)
from mnistlab.runs.metrics import EpochRow, Metrics, parse_columns, parse_rows

FORMAT_VERSION = 1
RUN_FILE, CONFIG_FILE, ENVIRONMENT_FILE = "run.json", "config.json", "environment.json"
METRICS_FILE, SUMMARY_FILE = "metrics.csv", "summary.json"
RUN_FILES = (RUN_FILE, CONFIG_FILE, METRICS_FILE, SUMMARY_FILE)
"""The record files: a folder holding none of them is not a run (their stamps tell a run changed)."""


class RunStatus(enum.StrEnum):
    """How a run stands, as run.json says; a str, so `status == "completed"` and JSON keep working."""

    RUNNING = "running"          # training, or its process was killed before it could say otherwise
    COMPLETED = "completed"      # every epoch ran (or early stopping ended it); model and summary written
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, or its process was found dead while "running"
    FAILED = "failed"            # any other error
    DIVERGED = "diverged"        # the divergence rule fired
    STOPPED = "stopped"          # stopped on request (an on_epoch callback, a sweep's scheduler)


STATUSES = tuple(status.value for status in RunStatus)


class RunDirError(MnistlabError):
    """A path is not a run directory, or a run cannot be used for what was asked."""


def planned_epochs_of(config: Mapping[str, Any] | None) -> int | None:
    """The epochs a run's config dict asks for (`epochs`, or the MLP's `mlp.epochs`), or None.

    >>> planned_epochs_of({"epochs": 3}), planned_epochs_of({"mlp": {"epochs": 5}}), planned_epochs_of({})
    (3, 5, None)
    """
    config = config or {}
    nested = config.get("mlp")
    epochs = config.get("epochs", nested.get("epochs") if isinstance(nested, Mapping) else None)
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None


@dataclass
class RunFiles:
    """What could be read of a run's record files, and a sentence for each one missing or damaged."""

    info: dict[str, Any] | None
    config: dict[str, Any] | None
    environment: dict[str, Any] | None
    summary: dict[str, Any] | None
    metrics: Metrics
    problems: list[str] = field(default_factory=list)


@dataclass
class RunDir:
    """A handle on one run directory; every write is atomic or append-only, and stays inside it."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @classmethod
    def create(cls, runs_dir: str | os.PathLike, name: str, kind: str, config: dict[str, Any], *,
               trial: Mapping[str, Any] | None = None) -> RunDir:
        """Make `runs_dir/<date-time>-<safe name>/` and write run.json, config.json and environment.json.

        `name` is a label: the folder gets `safe_dirname(name)` (and `-2`, `-3`... when another run
        took that folder first), run.json keeps the label itself. `trial` (sweep name, trial id...)
        is stored in run.json. OutputError (naming the folder and the fix) when `runs_dir` cannot
        hold a run; nothing is left behind.
        """
        runs_dir = prepare_runs_dir(runs_dir)
        try:
            path = make_unique_dir(runs_dir, name)  # one os.mkdir: of many processes, exactly one gets a name
        except OSError as exc:
            raise _unwritable(runs_dir, exc) from None
        ensure_inside(path, runs_dir)
        run = cls(path)
        info = {"kind": kind, "name": str(name), "format_version": FORMAT_VERSION, "status": RunStatus.RUNNING,
                "started": _now(), "pid": os.getpid(), "host": socket.gethostname(),
                "planned_epochs": planned_epochs_of(config)}
        if trial is not None:
            info["trial"] = dict(trial)
        try:
            run._write_info(info)
            write_json_atomic(run.file(CONFIG_FILE), config)
            write_json_atomic(run.file(ENVIRONMENT_FILE), environment_info())
        except OSError as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise _unwritable(runs_dir, exc) from None
        return run

    def file(self, name: str) -> Path:
        """The path of file `name` of this run, checked to resolve inside the run directory."""
        return ensure_inside(self.path / name, self.path)

    # --- run.json -------------------------------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        """The contents of run.json (OSError / ValueError when it is missing or damaged)."""
        info = json.loads((self.path / RUN_FILE).read_text())
        if not isinstance(info, dict):
            raise ValueError(f"{self.path / RUN_FILE} does not hold a JSON object")
        return info

    def read_info(self) -> dict[str, Any]:
        """run.json, a damaged or missing one a RunDirError naming the run and the fix."""
        try:
            return read_json_object(self.path / RUN_FILE, "run record")
        except MnistlabError as exc:
            raise RunDirError(f"{exc} (is {self.path} a run directory? list them with `mnistlab runs`)") from None

    @property
    def label(self) -> str:
        """The name the user gave the run (`--name`), else the folder's name."""
        with contextlib.suppress(OSError, ValueError):
            name = self.info.get("name")
            if isinstance(name, str) and name:
                return name
        return self.path.name

    @property
    def planned_epochs(self) -> int | None:
        """The epochs the run is to train in all: run.json's planned_epochs, else its config's epochs."""
        with contextlib.suppress(OSError, ValueError):
            planned = self.info.get("planned_epochs")
            if isinstance(planned, int):
                return planned
        with contextlib.suppress(MnistlabError):
            return planned_epochs_of(self.read_config())
        return None

    def _write_info(self, info: dict[str, Any]) -> None:
        write_json_atomic(self.file(RUN_FILE), info)

    def update_info(self, **fields: Any) -> dict[str, Any]:
        """Rewrite run.json with `fields` changed; return the new contents."""
        info = self.info
        info.update(fields)
        self._write_info(info)
        return info

    def set_status(self, status: RunStatus | str, **extra: Any) -> None:
        """Rewrite run.json with `status` (a RunStatus) and any `extra` fields."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")
        self.update_info(status=RunStatus(status), **extra)

    def mark_running(self, **extra: Any) -> None:
        """Say this process trains the run now (a resume): status running, this pid and host."""
        self.set_status(RunStatus.RUNNING, pid=os.getpid(), host=socket.gethostname(), **extra)

    def set_trial(self, **trial: Any) -> None:
        """Add `trial` (sweep, trial id, searched options, seed, where it ran...) to run.json's trial record."""
        info = self.info
        self._write_info({**info, "trial": {**(info.get("trial") or {}), **trial}})

    @property
    def trial(self) -> dict[str, Any]:
        """The sweep trial this run is ({} for a run trained on its own)."""
        with contextlib.suppress(OSError, ValueError):
            trial = self.info.get("trial")
            return dict(trial) if isinstance(trial, dict) else {}
        return {}

    def trainer_alive(self, info: Mapping[str, Any] | None = None) -> bool | None:
        """Whether the process run.json names (pid on host) still runs; None when that cannot be told here."""
        info = self.info if info is None else info
        pid, host = info.get("pid"), info.get("host")
        if not isinstance(pid, int) or isinstance(pid, bool) or (host is not None and host != socket.gethostname()):
            return None
        return pid_alive(pid)

    def close_if_dead(self) -> dict[str, Any] | None:
        """run.json, with a run left "running" by a process that is gone marked "interrupted" first.

        Returns None when run.json cannot be read. A read-only run keeps its file; the returned
        contents still say "interrupted".
        """
        try:
            info = self.info
        except (OSError, ValueError):
            return None
        if info.get("status") != RunStatus.RUNNING or self.trainer_alive(info) is not False:
            return info
        info.update(status=RunStatus.INTERRUPTED, finished=_now(),
                    reason=f"process {info['pid']} ended without recording how the run ended")
        with contextlib.suppress(OSError, ValueError, MnistlabError):  # read-only, or a link out of the run
            current = self.info  # written again from a fresh read: only the status may change here
            if current.get("status") == RunStatus.RUNNING and current.get("pid") == info["pid"]:
                self._write_info({**current, **{k: info[k] for k in ("status", "finished", "reason")}})
        return info

    def mark_interrupted_if_running(self) -> bool:
        """Record "interrupted" if run.json still says "running" (its process is gone); whether it did."""
        try:
            if self.info.get("status") != RunStatus.RUNNING:
                return False
            self.set_status(RunStatus.INTERRUPTED, finished=_now())
        except (OSError, ValueError, MnistlabError):
            return False
        return True

    # --- config, summary ------------------------------------------------------------------------------

    def read_config(self) -> dict[str, Any]:
        """config.json as a dict; ConfigError naming the file when it is missing or damaged."""
        return read_json_object(self.path / CONFIG_FILE, "run config")

    @property
    def config_path(self) -> Path:
        """config.json's path (`mnistlab <kind> train --config` takes it)."""
        return self.path / CONFIG_FILE

    def write_config(self, config: Mapping[str, Any]) -> None:
        """Replace config.json (a resume that trains to more epochs)."""
        write_json_atomic(self.file(CONFIG_FILE), dict(config))

    def finish(self, summary: dict[str, Any], status: RunStatus | str = RunStatus.COMPLETED) -> None:
        """Write summary.json and mark the run `status` (a RunStatus)."""
        write_json_atomic(self.file(SUMMARY_FILE), summary)
        self.set_status(status, finished=_now())

    def read_files(self) -> RunFiles:
        """Every record file that can be read (a run left running by a dead process closed first)."""
        problems: list[str] = []
        info = self.close_if_dead() if (self.path / RUN_FILE).is_file() else None
        info = _lenient_json(self.path / RUN_FILE, problems,
                             ": the kind, status and format of the run are unknown", info)
        config = _lenient_json(self.path / CONFIG_FILE, problems, ": the run cannot be repeated")
        environment = _lenient_json(self.path / ENVIRONMENT_FILE, problems, "")
        metrics = self.metrics()
        if not (self.path / METRICS_FILE).is_file():
            problems.append(f"{METRICS_FILE} is missing: no epoch was logged")
        elif self.metrics_cut_off():
            problems.append(f"the last row of {METRICS_FILE} is incomplete (the run stopped while writing it)")
        summary = _lenient_json(self.path / SUMMARY_FILE, problems, ": the run did not finish")
        return RunFiles(info, config, environment, summary, metrics, problems)

    # --- metrics.csv ----------------------------------------------------------------------------------

    def _metrics_text(self) -> str:
        try:
            return (self.path / METRICS_FILE).read_text(errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return ""

    def metrics(self) -> Metrics:
        """The logged epochs as columns, each a float array of shape (n_epochs,); {} before the first."""
        return parse_columns(self._metrics_text())

    def epoch_rows(self) -> list[EpochRow]:
        """The logged epochs as typed rows, in order (a row cut off mid-write is skipped)."""
        return parse_rows(self._metrics_text())

    def metrics_cut_off(self) -> bool:
        """Whether the metrics file ends without a line break: the writer stopped in the middle of a row."""
        path = self.path / METRICS_FILE
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                fh.seek(max(0, size - 1))
                return size > 0 and fh.read(1) != b"\n"
        except OSError:
            return False

    def log_epoch(self, row: Mapping[str, Any]) -> None:
        """Append one epoch's metrics (header written with the first row).

        Rows may differ in their keys: a missing value is left empty, and a key the header lacks
        rewrites the file (atomically) with the column added, so columns never shift.
        """
        row = dict(row)
        metrics = self.file(METRICS_FILE)
        header = _csv_header(metrics)
        if header is not None and not set(row) <= set(header):
            with metrics.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            header += [key for key in row if key not in header]
            self._rewrite_metrics(header, rows + [row])
            return
        with metrics.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header or list(row), restval="")
            if header is None:
                writer.writeheader()
            writer.writerow(row)

    def keep_epochs_up_to(self, epoch: int) -> list[EpochRow]:
        """Drop the rows logged after `epoch` (a resume from that epoch's checkpoint); return the kept rows."""
        metrics = self.file(METRICS_FILE)
        if not metrics.is_file():
            return []
        with metrics.open(newline="") as fh:
            reader = csv.DictReader(fh)
            header, cells = reader.fieldnames or [], list(reader)
        kept = [c for c in cells if (row := EpochRow.from_cells(c)) is not None and row.epoch <= epoch]
        if len(kept) != len(cells):
            self._rewrite_metrics(header, kept)
        return [row for row in map(EpochRow.from_cells, kept) if row is not None]

    def _rewrite_metrics(self, header: list[str], rows: list[Mapping[str, Any]]) -> None:
        with atomic_write(self.file(METRICS_FILE), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(rows)

    # --- models, checkpoints, figures -----------------------------------------------------------------

    def figure_path(self, name: str) -> Path:
        """Where to save the figure called `name` (e.g. "curves" -> curves.png)."""
        return self.file(f"{name}.png")

    def checkpoint_path(self, epoch: int, suffix: str) -> Path:
        """Where the checkpoint after `epoch` goes (`suffix`: "npz" for the MLP, "keras" for the CNN)."""
        return self.file(f"checkpoint-epoch{epoch}.{suffix}")

    def checkpoint_files(self) -> list[Path]:
        """Every checkpoint file in the run (any epoch, any kind)."""
        return sorted(self.path.glob("checkpoint-epoch*"))

    # --- ending a run ---------------------------------------------------------------------------------

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
            self._close_quietly(summary, RunStatus.INTERRUPTED)
            raise
        except TrainingDiverged:
            self._close_quietly(summary, RunStatus.DIVERGED)
            raise
        except OSError as exc:
            self._close_quietly(summary, RunStatus.FAILED)
            raise OutputError(f"cannot write the run directory {self.path} ({describe_os_error(exc)}); "
                              "free some space or pass --runs-dir a writable folder") from None
        except SystemExit:  # the host ends this process or thread (Ray stopping a trial): the host records why
            raise
        except BaseException as exc:
            summary.setdefault("error", f"{type(exc).__name__}: {exc}")
            self._close_quietly(summary, RunStatus.FAILED)
            raise

    def _close_quietly(self, summary: dict[str, Any], status: RunStatus) -> None:
        # Marking the end must not hide the error that ended the run (the disk may be full).
        with contextlib.suppress(OSError, ValueError):
            self.finish(summary, status)
            return
        with contextlib.suppress(OSError, ValueError):
            self.set_status(status)


Run = RunDir
"""The run type of issue 20's wording: the same class."""


def is_run_dir(path: str | os.PathLike) -> bool:
    """Whether `path` is a folder holding run.json (what the lab and the sweep call a run)."""
    return (Path(path) / RUN_FILE).is_file()


def holds_run_files(path: str | os.PathLike) -> bool:
    """Whether `path` holds any record file of a run (run.json, config.json, metrics, summary)."""
    return any((Path(path) / name).exists() for name in RUN_FILES)


def run_dir_of(model_path: str | os.PathLike) -> Path | None:
    """The run directory holding the model file `model_path` (or `model_path` itself, a run directory), or None."""
    path = Path(model_path)
    folder = path if path.is_dir() else path.parent
    return folder if is_run_dir(folder) else None


def find_runs(runs_dir: str | os.PathLike, label: str) -> list[RunDir]:
    """The runs under `runs_dir` created with the name `label`, oldest first (several may share one)."""
    runs_dir, safe = Path(runs_dir), safe_dirname(label)
    candidates = {*runs_dir.glob(f"*-{safe}"), *runs_dir.glob(f"*-{safe}-[0-9]*")}
    found = []
    for path in candidates:
        run = RunDir(path)
        with contextlib.suppress(OSError, ValueError):
            info = run.info
            if info.get("name") == label:
                found.append((str(info.get("started", "")), len(path.name), path.name, run))
    return [entry[-1] for entry in sorted(found, key=lambda e: e[:3])]


def prepare_runs_dir(runs_dir: str | os.PathLike) -> Path:
    """Create `runs_dir` if needed and sweep stale temporary files; OutputError when it cannot hold runs."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)  # the shared parent; each run's own folder is exclusive
        if not _writable(runs_dir):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise _unwritable(runs_dir, exc) from None
    remove_stale_temp_files(runs_dir, recursive=True)
    return runs_dir


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _csv_header(path: Path) -> list[str] | None:
    """The column names in the first line of a CSV file, or None when it does not exist or is empty."""
    try:
        with path.open(newline="") as fh:
            return next(csv.reader(fh), None)
    except FileNotFoundError:
        return None


def _lenient_json(path: Path, problems: list[str], missing_note: str,
                  known: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The JSON object in `path` (or `known`, already read), else None with a sentence in `problems`."""
    if known is not None:
        return known
    if not path.is_file():
        problems.append(f"{path.name} is missing{missing_note}")
        return None
    try:
        payload = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{path.name} is unreadable ({exc.__class__.__name__}: {exc})")
        return None
    if not isinstance(payload, dict):
        problems.append(f"{path.name} does not hold a JSON object")
        return None
    return payload


def _unwritable(runs_dir: Path, exc: OSError) -> OutputError:
    if isinstance(exc, FileExistsError):
        reason = "it exists and is not a folder"
    elif isinstance(exc, NotADirectoryError):
        reason = "part of that path is a file, not a folder"
    else:
        reason = describe_os_error(exc)
    return OutputError(f"cannot write runs to {runs_dir} ({reason}); pass --runs-dir a writable folder")
