"""Reading run directories back: one run (whatever state it is in) or every run under a runs directory.

A run is read leniently: each file that is missing, unreadable or from another format becomes a
sentence in `RunRecord.problems`, so the report can show what exists and say what is missing.
Only a directory that holds nothing of a run is refused (`RunDirError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.runs.kinds import KIND_NAMES, KINDS as _KIND_REGISTRY
from mnistlab.runs.metrics import Metrics, last_value
from mnistlab.runs.rundir import (FORMAT_VERSION, RUN_FILE, RUN_FILES, RunDir, RunDirError, RunStatus,
                                  holds_run_files, planned_epochs_of)

MODEL_FILES = tuple(kind.model_file for kind in _KIND_REGISTRY.values())
"""The model file each registered kind leaves in a finished run (model.npz, model.keras)."""
KINDS = KIND_NAMES
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"
__all__ = ["RUN_FILES", "MODEL_FILES", "KINDS", "RunDirError", "RunRecord", "find_key", "list_runs", "load_run"]


@dataclass
class RunRecord:
    """Everything readable in one run directory, plus a list of what is missing or wrong."""

    path: Path
    info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    metrics: Metrics = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The directory's name (unique within a runs directory)."""
        return self.path.name

    @property
    def label(self) -> str:
        """The name the user gave the run (`--name`, any text), else the directory's name."""
        label = self.info.get("name")
        return label if isinstance(label, str) and label else self.name

    @property
    def planned_epochs(self) -> int | None:
        """The epochs the run is to train in all (its record's planned_epochs, else its config's)."""
        planned = self.info.get("planned_epochs")
        return planned if isinstance(planned, int) else planned_epochs_of(self.config)

    @property
    def trial(self) -> dict[str, Any]:
        """The sweep trial this run is ({} for a run trained on its own)."""
        trial = self.info.get("trial")
        return trial if isinstance(trial, dict) else {}

    @property
    def kind(self) -> str | None:
        """"mlp" or "cnn" (from the run's record), or None when unknown."""
        kind = self.info.get("kind")
        return str(kind) if kind is not None else None

    @property
    def status(self) -> str:
        """"running", "completed", "stopped", "interrupted", "failed", "diverged", or "unknown"."""
        return str(self.info.get("status", "unknown"))

    def get(self, key: str) -> Any:
        """`key` from summary.json, else the last logged value of its metrics, else config.json, else None."""
        if self.summary and self.summary.get(key) is not None:
            return self.summary[key]
        value = last_value(self.metrics, key)
        if value is not None:
            return value
        return find_key(self.config or {}, key)

    @property
    def n_epochs(self) -> int | None:
        """Epochs trained: the summary's count, else the number of metrics rows."""
        epochs = self.summary.get("epochs") if self.summary else None
        if isinstance(epochs, int):
            return epochs
        return max((len(v) for v in self.metrics.values()), default=0) or None

    def row(self) -> dict[str, Any]:
        """The run's line in `mnistlab runs`: name, label, model, dataset, epochs, test accuracy, time, status."""
        seconds = self.get("train_seconds")
        accuracy = self.get("test_accuracy")
        return {"name": self.name, "label": self.label, "model": self.get("model") or self.kind, "dataset": self.get("dataset"),
                "epochs": self.n_epochs,
                "test_accuracy": float(accuracy) if isinstance(accuracy, (int, float)) else None,
                "train_seconds": float(seconds) if isinstance(seconds, (int, float)) else None,
                "started": self.info.get("started"), "status": self.status, "path": str(self.path)}


def find_key(tree: dict[str, Any], key: str) -> Any:
    """The value of `key` at the top of a nested dict, else in its sub-dicts (depth first), else None."""
    if key in tree:
        return tree[key]
    for value in tree.values():
        if isinstance(value, dict):
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def is_complete_png(path: Path) -> bool:
    """Whether `path` starts with the PNG signature and ends with the IEND chunk (not cut short)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            fh.seek(max(0, path.stat().st_size - 16))
            tail = fh.read()
    except OSError:
        return False
    return head == PNG_SIGNATURE and PNG_END in tail


def _check_format(info: dict[str, Any], problems: list[str]) -> None:
    version = info.get("format_version")
    if version is None:
        problems.append(f"{RUN_FILE} has no format_version (an older format): showing what can be read")
    elif version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        problems.append(f"format_version {version!r} is {'newer than' if newer else 'not'} the one this "
                        f"mnistlab reads ({FORMAT_VERSION})"
                        + ("; upgrade mnistlab" if newer else "") + ": showing what can be read")
    kind = info.get("kind")
    if kind not in KINDS:
        problems.append(f"{RUN_FILE} names an unknown model kind {kind!r} (expected one of {', '.join(KINDS)})")


def _check_status(record: RunRecord) -> None:
    status = record.info.get("status")
    epochs = max((len(v) for v in record.metrics.values()), default=0)
    if status == RunStatus.RUNNING:
        record.problems.append(f"status is 'running': the run is still training or was killed without "
                               f"a record ({epochs} epochs logged so far)")
    elif status in (RunStatus.INTERRUPTED, RunStatus.FAILED, RunStatus.DIVERGED):
        record.problems.append(f"the run {status} after {epochs} logged epochs: results are partial")
    elif status not in (RunStatus.COMPLETED, RunStatus.STOPPED) and record.info:
        record.problems.append(f"{RUN_FILE} has an unknown status {status!r}")


def load_run(path: str | os.PathLike) -> RunRecord:
    """Read the run directory at `path` leniently; raise `RunDirError` only if it is not a run at all.

    Examples
    --------
    >>> import tempfile
    >>> from mnistlab.runs import RunDir
    >>> run = RunDir.create(tempfile.mkdtemp(), "demo", "mlp", {"epochs": 1})
    >>> record = load_run(run.path)
    >>> record.kind, record.status
    ('mlp', 'running')
    """
    path = Path(path)
    if not path.exists():
        raise RunDirError(f"{path} does not exist; pass a run directory (list them with `mnistlab runs`)")
    if not path.is_dir():
        raise RunDirError(f"{path} is a file, not a run directory; "
                          f"pass the directory that holds {RUN_FILE} (list them with `mnistlab runs`)")
    if not holds_run_files(path):
        raise RunDirError(f"{path} is not a run directory (no {', '.join(RUN_FILES[:3])}); "
                          "pass a directory written by `mnistlab mlp train` or `mnistlab cnn train` "
                          "(list them with `mnistlab runs`)")
    files = RunDir(path).read_files()  # a run left running by a dead process is closed as interrupted
    problems = files.problems
    if files.info is not None:
        _check_format(files.info, problems)
    record = RunRecord(path=path, info=files.info or {}, config=files.config, environment=files.environment,
                       summary=files.summary, metrics=files.metrics, problems=problems)
    _check_status(record)
    if not any((path / name).exists() for name in MODEL_FILES):
        problems.append(f"no saved model ({' or '.join(MODEL_FILES)})")
    for png in sorted(path.glob("*.png")):
        if is_complete_png(png):
            record.figures.append(png)
        else:
            problems.append(f"{png.name} is damaged (not a complete PNG file)")
    return record


def list_runs(runs_dir: str | os.PathLike) -> list[RunRecord]:
    """Every run directly under `runs_dir`, oldest first (directories that are not runs are skipped)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise RunDirError(f"no runs directory {runs_dir}; train a model first (`mnistlab mlp train`) "
                          "or pass --runs-dir DIR")
    records = []
    for child in sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            records.append(load_run(child))
        except RunDirError:
            continue
    return sorted(records, key=lambda r: (str(r.info.get("started", "")), r.name))
