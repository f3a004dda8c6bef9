"""Reading run directories back: one run (whatever state it is in) or every run under a runs directory.

A run is read leniently: each file that is missing, unreadable or from another format becomes a
sentence in `RunRecord.problems`, so the report can show what exists and say what is missing.
Only a directory that holds nothing of a run is refused (`RunDirError`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.errors import MnistlabError
from mnistlab.runs.metrics import Metrics, last_row_cut_off, last_value, read_metrics
from mnistlab.runs.rundir import FORMAT_VERSION

RUN_FILES = ("run.json", "config.json", "metrics.csv", "summary.json")
MODEL_FILES = ("model.npz", "model.keras")
KINDS = ("mlp", "cnn")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"


class RunDirError(MnistlabError):
    """A path is not a run directory, or a run cannot be used for what was asked."""


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
    def kind(self) -> str | None:
        """"mlp" or "cnn" (from run.json), or None when unknown."""
        kind = self.info.get("kind")
        return str(kind) if kind is not None else None

    @property
    def status(self) -> str:
        """"running", "completed", "stopped", "interrupted", "failed", "diverged", or "unknown"."""
        return str(self.info.get("status", "unknown"))

    def get(self, key: str) -> Any:
        """`key` from summary.json, else the last logged value in metrics.csv, else config.json, else None."""
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
        """The run's line in `mnistlab runs`: name, model, dataset, epochs, test accuracy, time, status."""
        seconds = self.get("train_seconds")
        accuracy = self.get("test_accuracy")
        return {"name": self.name, "model": self.get("model") or self.kind, "dataset": self.get("dataset"),
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


def _read_json(path: Path, problems: list[str], missing_note: str) -> dict[str, Any] | None:
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
        problems.append("run.json has no format_version (an older format): showing what can be read")
    elif version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        problems.append(f"format_version {version!r} is {'newer than' if newer else 'not'} the one this "
                        f"mnistlab reads ({FORMAT_VERSION})"
                        + ("; upgrade mnistlab" if newer else "") + ": showing what can be read")
    kind = info.get("kind")
    if kind not in KINDS:
        problems.append(f"run.json names an unknown model kind {kind!r} (expected one of {', '.join(KINDS)})")


def _check_status(record: RunRecord) -> None:
    status = record.info.get("status")
    epochs = max((len(v) for v in record.metrics.values()), default=0)
    if status == "running":
        record.problems.append(f"status is 'running': the run is still training or was killed without "
                               f"a record ({epochs} epochs logged so far)")
    elif status in ("interrupted", "failed", "diverged"):
        record.problems.append(f"the run {status} after {epochs} logged epochs: results are partial")
    elif status not in ("completed", "stopped") and record.info:
        record.problems.append(f"run.json has an unknown status {status!r}")


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
                          "pass the directory that holds run.json (list them with `mnistlab runs`)")
    if not any((path / name).exists() for name in RUN_FILES):
        raise RunDirError(f"{path} is not a run directory (no run.json, config.json or metrics.csv); "
                          "pass a directory written by `mnistlab mlp train` or `mnistlab cnn train` "
                          "(list them with `mnistlab runs`)")
    problems: list[str] = []
    info = _read_json(path / "run.json", problems, ": the kind, status and format of the run are unknown")
    if info is not None:
        _check_format(info, problems)
    record = RunRecord(path=path, info=info or {}, problems=problems)
    record.config = _read_json(path / "config.json", problems, ": the run cannot be repeated")
    record.environment = _read_json(path / "environment.json", problems, "")
    record.metrics = read_metrics(path / "metrics.csv")
    if not (path / "metrics.csv").is_file():
        problems.append("metrics.csv is missing: no epoch was logged")
    elif last_row_cut_off(path / "metrics.csv"):
        problems.append("the last row of metrics.csv is incomplete (the run stopped while writing it)")
    _check_status(record)
    record.summary = _read_json(path / "summary.json", problems, ": the run did not finish")
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
