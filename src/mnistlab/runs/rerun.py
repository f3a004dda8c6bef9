"""Repeat a recorded run: its kind and stored config.json, as a new run beside the old one.

`mnistlab rerun RUN_DIR` and a notebook alike: `plan_rerun` reads the run and resolves its config
through the kind (so the options given on top mean what they mean to `<kind> train`), and
`rerun_run` trains it. The new run is named `<name>-rerun` after the old run's label.

>>> rerun_run("runs/20250101-120000-mlp-mnist", {"epochs": 3})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnistlab.runs.catalog import RunDirError, RunRecord, load_run
from mnistlab.runs.kinds import KINDS, ModelKind, get_kind
from mnistlab.runs.summary import RunSummary
from mnistlab.runs.training import BatchCallback, EpochCallback


@dataclass
class RerunPlan:
    """What a rerun trains: the kind, the resolved config, where the new run goes and its label."""

    kind: ModelKind
    config: Any
    runs_dir: Path
    name: str | None
    config_file: Path

    @property
    def command(self) -> str:
        """The `mnistlab` command that trains the same thing (shown to the user)."""
        return f"mnistlab {self.kind.name} train --config {self.config_file} --runs-dir {self.runs_dir}" + \
            (f" --name {self.name}" if self.name else "")


def plan_rerun(run_dir: str | os.PathLike, overrides: dict[str, Any] | None = None, *,
               runs_dir: str | os.PathLike | None = None, name: str | None = None,
               preset: str | None = None) -> RerunPlan:
    """The rerun of `run_dir`: its config.json with `overrides` applied (option names as for `<kind> train`).

    `runs_dir` defaults to the folder holding `run_dir`, `name` to "<the run's label>-rerun".
    RunDirError when the run names no known kind or has no readable config.json.
    """
    record = load_run(run_dir)
    kind = run_kind(record)
    config_file = record.path / "config.json"
    model_kind = get_kind(kind)
    config = model_kind.resolve_config(preset=preset, config_file=config_file, overrides=overrides)
    label = record.info.get("name")
    return RerunPlan(model_kind, config, Path(runs_dir) if runs_dir is not None else record.path.parent,
                     name if name is not None else (f"{label}-rerun" if label else None), config_file)


def run_kind(run: str | os.PathLike | RunRecord) -> str:
    """The kind of a run that can be rerun; RunDirError when the run names no known kind or config.json is
    unreadable."""
    record = run if isinstance(run, RunRecord) else load_run(run)
    if record.kind not in KINDS:
        raise RunDirError(f"{record.path} cannot be rerun: its record names no known model kind ({record.kind!r}); "
                          f"expected one of {', '.join(KINDS)}")
    if record.config is None:
        raise RunDirError(f"{record.path} cannot be rerun: config.json is missing or unreadable; "
                          f"train again with `mnistlab {record.kind} train`")
    return record.kind


def rerun_run(run_dir: str | os.PathLike, overrides: dict[str, Any] | None = None, *,
              runs_dir: str | os.PathLike | None = None, name: str | None = None,
              on_epoch: EpochCallback | None = None, on_batch: BatchCallback | None = None,
              checkpoint_every: int = 1) -> RunSummary:
    """Train `run_dir`'s config again (with `overrides`) as a new run; return its summary."""
    plan = plan_rerun(run_dir, overrides, runs_dir=runs_dir, name=name)
    config = plan.kind.prepare(plan.config)
    return plan.kind.train(config, runs_dir=plan.runs_dir, name=plan.name, on_epoch=on_epoch, on_batch=on_batch,
                           checkpoint_every=checkpoint_every)
