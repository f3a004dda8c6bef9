"""One trial of a sweep, as it runs inside a Ray worker: an ordinary run directory, reported per epoch.

The trial bounds its thread pools, builds its config from the plan, and trains through the
run-level library function; every epoch's metrics go to Tune (`tune.report`), so a scheduler such
as ASHA can stop it. The run directory is `<sweep_dir>/<date-time>-trial-<trial id>/`, and its
record's `trial` (`RunDir.trial`) holds the sweep, trial id, searched options, seed, node and process:
enough for the driver to mark a run that Ray stopped, and for a resumed sweep to replay a finished
trial instead of training it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_info

from mnistlab.errors import MnistlabError, TrainingDiverged
from mnistlab.runs.checkpoint import latest_checkpoint
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.resume import resume_run
from mnistlab.runs.rundir import RunDir, RunStatus, find_runs, is_run_dir
from mnistlab.sweep.options import trial_config
from mnistlab.sweep.results import close_run
from mnistlab.sweep.search import seed_and_params
from mnistlab.threads import configure_threads

@dataclass
class TrialPlan:
    """What every trial of one sweep shares; small and picklable (it travels to each worker)."""

    model: str
    dataset: str
    preset: str | None
    base: dict[str, Any] | None  # a run's config.json, read once by the driver (workers may not see the file)
    fixed: dict[str, Any]
    seeds: list[int]
    threads_per_trial: int
    sweep_dir: str
    extra_env: dict[str, str] = field(default_factory=dict)


def trial_key(params: dict[str, Any], seed: int) -> str:
    """A stable identity of (options, seed): the same point and seed always give the same key."""
    return json.dumps({"params": params, "seed": seed}, sort_keys=True, default=str)


def find_run_dir(sweep_dir: str | os.PathLike, trial_id: str) -> Path | None:
    """The run directory that trial `trial_id` created in `sweep_dir`, or None (not created yet)."""
    matches = find_runs(sweep_dir, f"trial-{trial_id}")
    return matches[-1].path if matches else None


def earlier_attempt(sweep_dir: str | os.PathLike, trial_id: str) -> Path | None:
    """The run of an earlier attempt of this trial that can continue from its checkpoint, or None.

    Tune starts a trial again when its worker died or it raised (FailureConfig), and a resumed sweep
    restarts its unfinished and errored trials; the new attempt continues that run in place
    (`resume_run`: bit for bit for the MLP). An attempt without a checkpoint is closed as interrupted
    and the trial trains afresh.
    """
    run_dir = find_run_dir(sweep_dir, trial_id)
    if run_dir is None:
        return None
    try:
        status = RunDir(run_dir).info.get("status")
        latest_checkpoint(run_dir)
    except (OSError, ValueError, MnistlabError):
        close_run(run_dir, "interrupted")
        return None
    return run_dir if status in (RunStatus.RUNNING, RunStatus.INTERRUPTED, RunStatus.FAILED) else None


def completed_run(sweep_dir: str | os.PathLike, key: str) -> Path | None:
    """A completed run of the trial with `key` in `sweep_dir` (a resumed sweep does not train it again)."""
    for path in sorted(Path(sweep_dir).iterdir()):
        if not is_run_dir(path):
            continue
        run = RunDir(path)
        try:
            if run.trial.get("key") == key and run.info.get("status") == RunStatus.COMPLETED:
                return path
        except (OSError, ValueError):
            continue
    return None


def train_model(model: str, config: Any, *, runs_dir: str, name: str, on_epoch: Callable[[dict], bool | None],
                on_batch: Callable[[int, int], None] | None = None,
                trial: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train `config` as a run directory under `runs_dir` (its record holding `trial`) and return its summary."""
    return get_kind(model).train(config, runs_dir=runs_dir, name=name, on_epoch=on_epoch, on_batch=on_batch,
                                 trial=trial)


def _numbers(row: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _replay(run_dir: Path, report: Callable[[dict], None]) -> None:
    """Report a finished run's recorded epochs again (a resumed sweep whose state missed its end)."""
    run = RunDir(run_dir)
    marker = run.trial
    # Where it trained, not where it is replayed.
    where = {k: marker[k] for k in ("hostname", "pid", "node_id", "blas_threads") if k in marker}
    for row in run.epoch_rows():
        report({**{k: float(v) for k, v in row.numbers().items()}, **where, "run_dir": str(run_dir), "replayed": 1})


def run_trial(config: dict[str, Any], plan: TrialPlan) -> None:
    """Tune's function trainable: train one point of the space with one seed, reporting every epoch."""
    from ray import tune  # heavy: this runs inside a Ray worker

    os.environ.update(plan.extra_env)
    configure_threads(plan.threads_per_trial)
    seed, params = seed_and_params(config, plan.seeds)
    key = trial_key(params, seed)
    trial_id = tune.get_context().get_trial_id()
    where = {"hostname": socket.gethostname(), "pid": os.getpid(), "node_id": _node_id(),
             "blas_threads": _blas_threads()}
    done = completed_run(plan.sweep_dir, key)
    if done is not None:
        _replay(done, tune.report)
        return
    cfg = trial_config(plan.model, preset=plan.preset, base=plan.base, dataset=plan.dataset,
                       threads=plan.threads_per_trial, seed=seed, options={**plan.fixed, **params})
    name = f"trial-{trial_id}"
    state: dict[str, Any] = {}

    def on_batch(done: int, total: int) -> None:
        state.setdefault("clocks", (time.process_time(), time.perf_counter()))  # when training starts

    def on_epoch(row: dict) -> bool | None:
        cpu, wall = time.process_time(), time.perf_counter()
        cpu0, wall0 = state.get("clocks", (cpu, wall))
        # CPU seconds of this process (all its threads) and wall seconds since the previous epoch ended,
        # evaluation included: their ratio shows whether the trial's threads got their cores.
        row = {**row, "epoch_cpu_seconds": cpu - cpu0, "epoch_wall_seconds": wall - wall0}
        state["clocks"] = (cpu, wall)
        if "run_dir" not in state:
            state["run_dir"] = find_run_dir(plan.sweep_dir, trial_id)
        try:
            tune.report({**_numbers(row), **where, "run_dir": str(state["run_dir"])})
        except SystemExit:  # Tune stops this trial (e.g. ASHA): end the run as "stopped", not "failed"
            return True
        return None

    trial = {"sweep": Path(plan.sweep_dir).name, "trial_id": trial_id, "key": key, "params": params, "seed": seed,
             **where}
    previous = earlier_attempt(plan.sweep_dir, trial_id)
    try:
        if previous is not None:
            resume_run(previous, on_epoch=on_epoch, on_batch=on_batch)
        else:
            train_model(plan.model, cfg, runs_dir=plan.sweep_dir, name=name, on_epoch=on_epoch, on_batch=on_batch,
                        trial=trial)
    except TrainingDiverged:
        return  # the run says "diverged" and why; training it again would diverge again: no retry
    except MnistlabError as exc:  # a full disk...: the run says why in one line; Tune retries, then records it
        run_dir = find_run_dir(plan.sweep_dir, trial_id)
        if run_dir is not None:
            with contextlib.suppress(OSError, ValueError):
                RunDir(run_dir).set_status("failed", error=str(exc))
        raise


def _blas_threads() -> int:
    """The largest thread pool (BLAS, OpenMP) this process has now: what bounds a trial's cores."""
    return max((pool["num_threads"] for pool in threadpool_info()), default=1)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()
