"""Continue a run from its latest checkpoint, in the same run directory (`mnistlab resume RUN_DIR`).

An interrupted, killed, failed, diverged, stopped or finished run continues where its checkpoint
ends: the metrics keep the rows up to that epoch and gets the new ones appended; model, figures and
summary are written again at the end. The MLP continues bit for bit (weights, optimiser, random
generator, history); the CNN continues its weights and optimiser state, with a fresh shuffle stream.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from mnistlab.errors import ConfigError
from mnistlab.fileio import remove_stale_temp_files
from mnistlab.runs.checkpoint import DEFAULT_EVERY, latest_checkpoint
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.rundir import RunDir, RunDirError, RunStatus
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
    info = run.read_info()
    checkpoint = latest_checkpoint(run.path)
    if info.get("status") == RunStatus.RUNNING and run.trainer_alive(info) and info.get("pid") != os.getpid():
        raise RunDirError(f"{run.path} is being trained by process {info['pid']}; wait for it or stop it first")
    kind = get_kind(checkpoint.kind)
    config = kind.config_from_dict(run.read_config())
    target = kind.epochs_of(config) if epochs is None else epochs
    # Killed after its last checkpoint but before model and summary were written: finish it, 0 epochs more.
    unfinished = target == checkpoint.epoch and info.get("status") in ("running", "interrupted", "failed")
    if not isinstance(target, int) or (target <= checkpoint.epoch and not unfinished):
        raise RunDirError(f"{run.path} already holds {checkpoint.epoch} epoch(s); pass --epochs N with N > "
                          f"{checkpoint.epoch} to train further")
    try:
        config = kind.resumed_to(config, target)
    except ConfigError as exc:
        raise RunDirError(f"{run.path}: {exc}") from None

    def prepare() -> float:
        """Once the kind has loaded what it needs: trim the metrics, store the config, mark the run running."""
        kept = run.keep_epochs_up_to(checkpoint.epoch)  # rows logged after the checkpoint are trained again
        remove_stale_temp_files(run.path)
        run.write_config(config.to_dict())
        resumed = [*info.get("resumed", []), dt.datetime.now().isoformat(timespec="seconds")]
        run.mark_running(resumed=resumed, resumed_from_epoch=checkpoint.epoch, planned_epochs=target)
        return sum(row.get("epoch_seconds") or 0.0 for row in kept)

    return kind.resume(run, config, checkpoint, prepare=prepare, on_epoch=on_epoch, on_batch=on_batch,
                       checkpoint_every=checkpoint_every)


def resume_target(run_dir: str | os.PathLike, epochs: int | None = None) -> int:
    """The epochs a resume trains up to in all: `epochs`, else the run's plan (0 when unknown: a progress bar's
    total only; resume_run names the problem)."""
    return epochs if epochs is not None else (RunDir(Path(run_dir)).planned_epochs or 0)
