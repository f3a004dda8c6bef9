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
from typing import Any

from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.config import CNNConfig
from mnistlab.cnn.io import load_model as load_cnn
from mnistlab.fileio import atomic_write, pid_alive, read_json_object, remove_stale_temp_files, write_json_atomic
from mnistlab.mlp.run import MLPRunConfig, prepare_data
from mnistlab.runs.catalog import RunDirError
from mnistlab.runs.checkpoint import DEFAULT_EVERY, latest_checkpoint, load_mlp_state
from mnistlab.runs.rundir import RunDir
from mnistlab.runs.training import BatchCallback, EpochCallback, cnn_session, mlp_session


def resume_run(run_dir: str | os.PathLike, *, epochs: int | None = None, on_epoch: EpochCallback | None = None,
               on_batch: BatchCallback | None = None, checkpoint_every: int = DEFAULT_EVERY) -> dict[str, Any]:
    """Continue the run in `run_dir` from its checkpoint up to `epochs` in all (default: its config's).

    Returns the summary, as `train_mlp_run` does. RunDirError when there is nothing to continue.
    """
    run = RunDir(Path(run_dir))
    if not run.path.is_dir():
        raise RunDirError(f"no run directory at {run.path}; list the runs with `mnistlab runs`")
    info = read_json_object(run.path / "run.json", "run record")
    checkpoint = latest_checkpoint(run.path)
    if info.get("status") == "running" and isinstance(info.get("pid"), int) and pid_alive(info["pid"]) \
            and info["pid"] != os.getpid():
        raise RunDirError(f"{run.path} is being trained by process {info['pid']}; wait for it or stop it first")
    config_file = run.path / "config.json"
    values = read_json_object(config_file, "run config")
    if checkpoint.kind == "mlp":
        config = MLPRunConfig.from_dict(values)
        target = config.mlp.epochs if epochs is None else epochs
        config.mlp.epochs = target
    else:
        config = CNNConfig.from_dict(values)
        target = config.epochs if epochs is None else epochs
        if config.schedule in ("cosine", "onecycle") and target != config.epochs:
            raise RunDirError(f"{run.path} uses the {config.schedule} schedule laid out for {config.epochs} epochs, "
                              f"which the saved optimiser keeps; resume to {config.epochs} epochs or train a new run")
        config = config.replace(epochs=target)
    if not isinstance(target, int) or target <= checkpoint.epoch:
        raise RunDirError(f"{run.path} already holds {checkpoint.epoch} epoch(s); pass --epochs N with N > "
                          f"{checkpoint.epoch} to train further")
    config.validate()
    if checkpoint.kind == "mlp":
        data = prepare_data(config)
        state = load_mlp_state(checkpoint)
    else:
        keras = import_keras(config.backend, device=config.device, threads=config.threads,
                             gpu_memory_fraction=config.gpu_memory_fraction)
        model = load_cnn(checkpoint.path, backend=keras.backend.backend(), compile=True)
    prior_seconds = _keep_metrics_up_to(run, checkpoint.epoch)
    remove_stale_temp_files(run.path)
    write_json_atomic(config_file, config.to_dict())
    resumed = [*info.get("resumed", []), dt.datetime.now().isoformat(timespec="seconds")]
    run.set_status("running", pid=os.getpid(), resumed=resumed, resumed_from_epoch=checkpoint.epoch)
    if checkpoint.kind == "mlp":
        return mlp_session(run, config, data, on_epoch=on_epoch, on_batch=on_batch,
                           checkpoint_every=checkpoint_every, state=state, done=checkpoint.epoch,
                           prior_seconds=prior_seconds)
    return cnn_session(run, config, on_epoch=on_epoch, on_batch=on_batch, checkpoint_every=checkpoint_every,
                       model=model, done=checkpoint.epoch, prior_seconds=prior_seconds)


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
