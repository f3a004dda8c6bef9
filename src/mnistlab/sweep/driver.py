"""Run a sweep on Ray Tune: embedded Ray on this machine by default, or an existing cluster.

`run_sweep(spec)` creates `<runs_dir>/<date-time>-<name>/` (sweep.json, results.csv, Tune's state in
tune/, one run directory per trial) and returns the summary; `resume_sweep(sweep_dir)` continues one
that was interrupted (Ctrl-C, or the driver killed) or that has failed trials (a full disk): Tune
restores its state, finished trials are not trained again, runs the old driver left "running" are
marked "interrupted", and unfinished or failed trials continue their runs from their checkpoints.
A trial whose worker dies is started again by Tune (TRIAL_RETRIES) and continues the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError, MnistlabError
from mnistlab.fileio import make_unique_dir
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.rundir import is_run_dir
from mnistlab.sweep.results import SweepSummary, SweepTable, TrialRow, close_run, is_sweep_dir, read_sweep
from mnistlab.sweep.search import num_samples, param_space, scheduler, search_algorithm
from mnistlab.sweep.options import read_base
from mnistlab.sweep.spec import SweepSpec
from mnistlab.sweep.trial import TrialPlan, run_trial

TUNE_DIR = "tune"
# Ray's session files live here; a short path keeps its Unix socket names under the OS limit.
RAY_TEMP_DIR = f"/tmp/mnistlab-ray-{os.getuid()}"
TRIAL_RETRIES = 2
"""How many times Tune starts a trial again after its worker died or it raised (a killed process, a full
disk); each new attempt continues the trial's run from its last checkpoint (`sweep.trial.earlier_attempt`).
A trial that diverged is not retried: it ends, its run says "diverged"."""
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


class SweepError(MnistlabError):
    """A sweep cannot start or resume (no Ray, a bad address, not a sweep directory)."""


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that bound a trial's BLAS and framework pools to `threads`."""
    return {**{var: str(threads) for var in _THREAD_VARS}, "TF_NUM_INTEROP_THREADS": "1"}


@contextlib.contextmanager
def ray_session(address: str | None, env: dict[str, str]) -> Iterator[None]:
    """Ray for the sweep: a quiet local instance sized to the machine (address None), or a cluster."""
    try:
        import ray  # heavy: the [sweep] extra
    except ImportError:
        raise SweepError("Ray is not installed; install the sweep extra: pip install 'mnistlab[sweep]'") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    if ray.is_initialized():
        raise SweepError("Ray is already running in this process; call run_sweep outside ray.init()")
    options: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False}
    if address is None:
        options.update(num_cpus=os.cpu_count() or 1, include_dashboard=False, _temp_dir=RAY_TEMP_DIR,
                       logging_level=logging.ERROR)
    elif not address.startswith("ray://"):
        options.update(logging_level=logging.ERROR)
    try:
        ray.init(address=address, **options)
    except ConnectionError as exc:
        raise SweepError(f"cannot reach a Ray cluster at {address} ({str(exc).splitlines()[0]}); start one with "
                         "`ray start --head`, set RAY_AUTH_MODE=token if it uses token authentication (docs/sweep.md), "
                         "or leave out --address for a local Ray") from None
    try:
        yield
    finally:
        ray.shutdown()


def _trainable(spec: SweepSpec, sweep_dir: Path) -> Any:
    from ray import tune

    plan = TrialPlan(model=spec.model, dataset=spec.dataset, preset=spec.preset, base=read_base(spec.model, spec.base),
                     fixed=dict(spec.fixed),
                     seeds=list(spec.seeds), threads_per_trial=spec.threads_per_trial,
                     sweep_dir=str(sweep_dir.resolve()), extra_env=thread_env(spec.threads_per_trial))
    return tune.with_resources(tune.with_parameters(run_trial, plan=plan), {"cpu": spec.threads_per_trial})


def _max_epochs(spec: SweepSpec) -> int:
    values = spec.fixed.get("epochs")
    if values is None and isinstance(spec.space.get("epochs"), list):
        values = max(spec.space["epochs"])
    if values is None:
        values = get_kind(spec.model).epochs_of(spec.trial_config({}, spec.seeds[0]))
    return int(values)


def _tuner(spec: SweepSpec, sweep_dir: Path, recorder: Any) -> Any:
    from ray import tune

    tune_config = tune.TuneConfig(metric=spec.metric, mode=spec.mode, search_alg=search_algorithm(spec),
                                  scheduler=scheduler(spec, _max_epochs(spec)), num_samples=num_samples(spec),
                                  max_concurrent_trials=spec.max_concurrent,
                                  trial_dirname_creator=lambda trial: trial.trial_id)
    run_config = tune.RunConfig(name=TUNE_DIR, storage_path=str(sweep_dir.resolve()), callbacks=[recorder],
                                verbose=0, failure_config=tune.FailureConfig(max_failures=TRIAL_RETRIES))
    return tune.Tuner(_trainable(spec, sweep_dir), param_space=param_space(spec), tune_config=tune_config,
                      run_config=run_config)


def _new_sweep_dir(runs_dir: str | os.PathLike, name: str) -> Path:
    """A new folder for the sweep (`-2`, `-3`... when another sweep of that name started in the same second)."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)  # the shared parent; the sweep's own folder is exclusive
    return make_unique_dir(runs_dir, name)


def _fit(tuner: Any, table: SweepTable, n_trials: int) -> SweepSummary:
    """Run the trials; afterwards mark every trial (and run) that did not finish as interrupted.

    The sweep is complete when all `n_trials` trials ended (Ctrl-C leaves some never started).
    """
    start = time.perf_counter()
    try:
        tuner.fit()
    finally:
        table.seconds += time.perf_counter() - start
        unfinished = _close_unfinished(table)
        ended = sum(row.status != "interrupted" for row in table.rows.values())
        table.status = "interrupted" if unfinished or ended < n_trials else "completed"
        table.save()
    return table.summary()


def run_sweep(spec: SweepSpec, *, runs_dir: str | os.PathLike = "runs", address: str | None = None,
              on_event: Any = None) -> SweepSummary:
    """Train every trial of `spec` on Ray Tune and return the summary (best trial, counts, seconds).

    `on_event(event, row, table)` is called in this process as trials start, report an epoch and end.
    `address`: None for a local Ray started and stopped here, "auto" or "ray://host:port" for a cluster.
    """
    spec.validate()
    sweep_dir = _new_sweep_dir(runs_dir, spec.name)
    table = SweepTable(sweep_dir, spec.to_dict())
    table.save()
    with ray_session(address, thread_env(spec.threads_per_trial)):
        from mnistlab.sweep.recorder import SweepRecorder, live_sweep

        with live_sweep(table, on_event):
            return _fit(_tuner(spec, sweep_dir, SweepRecorder(table, spec.seeds, on_event)), table,
                        spec.n_points * len(spec.seeds))


def resume_sweep(sweep_dir: str | os.PathLike, *, address: str | None = None,
                 on_event: Any = None) -> SweepSummary:
    """Continue the sweep in `sweep_dir` where it stopped; finished trials are not trained again."""
    sweep_dir = Path(sweep_dir)
    state = read_sweep(sweep_dir) if is_sweep_dir(sweep_dir) else None
    if state is None:
        raise ConfigError(f"{sweep_dir} is not a sweep directory (no readable sweep.json); "
                          "pass a directory made by `mnistlab sweep SPEC.toml`")
    spec = SweepSpec.from_dict({k: v for k, v in state["spec"].items() if k != "name"}, name=state["spec"]["name"])
    table = SweepTable.load(sweep_dir)
    _close_unfinished(table)  # what the old driver left running restarts (or replays its finished run)
    _close_orphans(sweep_dir)
    table.status = "running"
    table.save()
    with ray_session(address, thread_env(spec.threads_per_trial)):
        from ray import tune

        from mnistlab.sweep.recorder import SweepRecorder, live_sweep

        tune_path = sweep_dir.resolve() / TUNE_DIR
        if not tune.Tuner.can_restore(tune_path):
            tuner = _tuner(spec, sweep_dir, SweepRecorder(table, spec.seeds, on_event))
        else:
            tuner = tune.Tuner.restore(str(tune_path), trainable=_trainable(spec, sweep_dir),
                                       resume_unfinished=True, resume_errored=True, restart_errored=False)
        with live_sweep(table, on_event):  # the restored recorder takes this table and listener in setup()
            return _fit(tuner, table, spec.n_points * len(spec.seeds))


def _close_unfinished(table: SweepTable) -> list[TrialRow]:
    """Rows Tune left pending or running: their runs marked "interrupted" unless they finished."""
    unfinished = [row for row in table.rows.values() if row.status in ("pending", "running")]
    for row in unfinished:
        status = close_run(row.run_dir, "interrupted") if row.run_dir else "unknown"
        row.status = "interrupted" if status in ("unknown", "running") else status
    return [row for row in unfinished if row.status == "interrupted"]


def _close_orphans(sweep_dir: Path) -> None:
    """Mark runs that a killed driver's trials left "running" as interrupted."""
    for path in sorted(sweep_dir.iterdir()):
        if is_run_dir(path):
            close_run(path, "interrupted")
