"""Continue a run from its latest checkpoint, in the same run directory (`mnistlab resume RUN_DIR`).

An interrupted, killed, failed, diverged, stopped or finished run continues where its checkpoint
ends: metrics.csv keeps the rows up to that epoch and gets the new ones appended; model, figures and
summary are written again at the end. The MLP continues bit for bit (weights, optimiser, random
generator, history); the CNN continues its weights and optimiser state, with a fresh shuffle stream.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

from mnistlab.errors import ConfigError
from mnistlab.fileio import atomic_write, pid_alive, read_json_object, remove_stale_temp_files, write_json_atomic
from mnistlab.runs.catalog import RunDirError, find_key, load_run
from mnistlab.runs.checkpoint import DEFAULT_EVERY, latest_checkpoint
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.rundir import RunDir
from mnistlab.runs.summary import RunSummary
from mnistlab.runs.training import BatchCallback, EpochCallback


def resume_run(run_dir: str | os.PathLike, *, epochs: int | None = None, on_epoch: EpochCallback | None = None,
               on_batch: BatchCallback | None = None, checkpoint_every: int = DEFAULT_EVERY) -> RunSummary:
    """Continue the run in `run_dir` from its checkpoint up to `epochs` in all (default: its config's).

    Returns the run's summary. RunDirError when there is nothing to continue.
    """
    run = RunDir(Path(run_dir))
    if not run.path.is_dir():
        raise RunDirError(f"no run directory at {run.path}; list the runs with `mnistlab runs`")
    info = read_json_object(run.path / "run.json", "run record")
    checkpoint = latest_checkpoint(run.path)
    if info.get("status") == "running" and isinstance(info.get("pid"), int) and pid_alive(info["pid"]) \
            and info["pid"] != os.getpid():
        raise RunDirError(f"{run.path} is being trained by process {info['pid']}; wait for it or stop it first")
    kind = get_kind(checkpoint.kind)
    config_file = run.path / "config.json"
    config = kind.config_from_dict(read_json_object(config_file, "run config"))
    target = kind.epochs_of(config) if epochs is None else epochs
    if not isinstance(target, int) or target <= checkpoint.epoch:
        raise RunDirError(f"{run.path} already holds {checkpoint.epoch} epoch(s); pass --epochs N with N > "
                          f"{checkpoint.epoch} to train further")
    try:
        config = kind.resumed_to(config, target)
    except ConfigError as exc:
        raise RunDirError(f"{run.path}: {exc}") from None

    def prepare() -> float:
        """Once the kind has loaded what it needs: trim metrics.csv, store the config, mark the run running."""
        prior_seconds = _keep_metrics_up_to(run, checkpoint.epoch)
        remove_stale_temp_files(run.path)
        write_json_atomic(config_file, config.to_dict())
        resumed = [*info.get("resumed", []), dt.datetime.now().isoformat(timespec="seconds")]
        run.set_status("running", pid=os.getpid(), resumed=resumed, resumed_from_epoch=checkpoint.epoch)
        return prior_seconds

    return kind.resume(run, config, checkpoint, prepare=prepare, on_epoch=on_epoch, on_batch=on_batch,
                       checkpoint_every=checkpoint_every)


def _keep_metrics_up_to(run: RunDir, epoch: int) -> float:
    """Drop metrics.csv rows after `epoch` (logged after the checkpoint); return the kept epochs' seconds."""
    metrics = run.file("metrics.csv")
    if not metrics.is_file():
        return 0.0
    with metrics.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames or [], list(reader)
    kept = [row for row in rows if row.get("epoch") and int(float(row["epoch"])) <= epoch]
    if len(kept) != len(rows):
        with atomic_write(metrics, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows(kept)
    return sum(float(row.get("epoch_seconds") or 0.0) for row in kept)


def resume_target(run_dir: str | os.PathLike, epochs: int | None = None) -> int:
    """The epochs a resume trains up to in all: `epochs`, else the run's config's (0 when unreadable,
    for a progress bar only: resume_run names the problem)."""
    if epochs is not None:
        return epochs
    try:
        planned = find_key(load_run(run_dir).config or {}, "epochs")
    except RunDirError:
        return 0
    return planned if isinstance(planned, int) else 0
