"""A sweep directory read back: sweep.json, one typed row per trial, and the trials' run directories.

`mnistlab sweep` (the `sweep` package) writes the directory; this module only reads it, one
layer down, so that everything that looks at runs (`mnistlab runs`, `cnn compare SWEEP_DIR`, the
report) can list a sweep's trials without importing the sweep driver. Layout:

    SWEEP_DIR/sweep.json       {"spec", "status", "summary": {"counts", ...}, "trials": [TrialRow, ...]}
    SWEEP_DIR/results.csv      the same rows as a table
    SWEEP_DIR/<run>/           one run directory per trial (TrialRow.run_dir)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError

SWEEP_FILE = "sweep.json"
_ALWAYS_WRITTEN = frozenset({"final", "best"})  # a row's other None values are left out of sweep.json


@dataclass(slots=True)
class TrialRow:
    """One trial of a sweep: its status, the metric it reached, and where it ran.

    `final` and `best` are the sweep's metric at the last epoch and at its best epoch (None until
    an epoch is reported); `params` are the trial's point of the search space and `seed` its seed.
    The sweep's driver (`sweep.results.SweepTable`) fills a row in place as the trial reports.
    """

    trial: str
    status: str = "pending"
    epochs: int = 0
    final: float | None = None
    best: float | None = None
    seconds: float = 0.0
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    hostname: str | None = None
    pid: int | None = None
    node_id: str | None = None
    blas_threads: int | None = None
    cpu_epochs: list[list[float]] | None = None
    """[CPU seconds, wall seconds] of each steady epoch (the second on), as JSON keeps pairs."""
    cpu_seconds_per_epoch: float | None = None
    wall_seconds_per_epoch: float | None = None
    restarts: int | None = None
    """How many times Tune started the trial again (None: never)."""
    error: str | None = None
    """The one-line error of a failed trial's run."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys of sweep.json this reader does not know (written by a newer mnistlab), kept as they were."""

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrialRow:
        """A row of sweep.json's "trials"; unknown keys go to `extra`."""
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in values.items() if k in known},
                   extra={k: v for k, v in values.items() if k not in known})

    def to_dict(self) -> dict[str, Any]:
        """The row as sweep.json keeps it: what the trial has not reported (None) is left out, but
        `final` and `best` are always there (null before the first epoch), and `extra` is kept."""
        values = asdict(self)
        extra = values.pop("extra")
        return {**{k: v for k, v in values.items() if v is not None or k in _ALWAYS_WRITTEN}, **extra}


@dataclass
class SweepRecord:
    """What sweep.json says of a sweep: its spec, status, trial counts per status and its trials."""

    path: Path
    spec: dict[str, Any]
    status: str
    counts: dict[str, int]
    trials: list[TrialRow]
    started: str | None = None
    seconds: float = 0.0

    def completed_runs(self) -> list[Path]:
        """The run directories of the completed trials, in trial order (e.g. one per seed)."""
        rows = sorted(self.trials, key=lambda row: row.trial)
        return [Path(row.run_dir) for row in rows if row.status == "completed" and row.run_dir]


def read_sweep(sweep_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The contents of SWEEP_DIR/sweep.json, or None when the directory is not a sweep."""
    try:
        return json.loads((Path(sweep_dir) / SWEEP_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_sweep_dir(path: str | os.PathLike) -> bool:
    """True when `path` holds a sweep.json (written by `mnistlab sweep`)."""
    return (Path(path) / SWEEP_FILE).is_file()


def load_sweep(sweep_dir: str | os.PathLike) -> SweepRecord | None:
    """The sweep in `sweep_dir` as a SweepRecord, or None when it has no readable sweep.json."""
    state = read_sweep(sweep_dir)
    if not isinstance(state, dict):
        return None
    return SweepRecord(path=Path(sweep_dir), spec=state.get("spec") or {}, status=state.get("status", "?"),
                       counts=(state.get("summary") or {}).get("counts", {}),
                       trials=[TrialRow.from_dict(row) for row in state.get("trials", [])],
                       started=state.get("started"), seconds=float(state.get("seconds") or 0.0))


def list_sweeps(runs_dir: str | os.PathLike) -> list[SweepRecord]:
    """The sweep directories directly under `runs_dir`, by name (their trials are runs one level down)."""
    paths = sorted(p for p in Path(runs_dir).iterdir() if p.is_dir()) if Path(runs_dir).is_dir() else []
    return [record for record in map(load_sweep, paths) if record is not None]


def expand_sweeps(models: tuple[str | os.PathLike, ...] | list[str | os.PathLike]) -> list[Path]:
    """Models to compare: one sweep directory stands for its completed trials' runs.

    Raises ConfigError when fewer than two models remain (a compare needs a pair).
    """
    paths = [Path(m) for m in models]
    if len(paths) == 1 and is_sweep_dir(paths[0]):
        record = load_sweep(paths[0])
        paths = record.completed_runs() if record is not None else []
        if len(paths) < 2:
            raise ConfigError(f"{models[0]} has fewer than two completed trials; let the sweep finish "
                              f"(mnistlab sweep --resume {models[0]})")
    if len(paths) < 2:
        raise ConfigError("compare needs two or more models (or run directories), or one sweep directory")
    return paths
