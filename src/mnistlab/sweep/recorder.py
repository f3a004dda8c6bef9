"""The driver's Tune callback: keeps the sweep's table and the trials' run directories up to date.

This module subclasses Ray Tune's `Callback`, so it imports Ray at the top; only the driver imports
it, after Ray has started (the core install and `import mnistlab.sweep` stay free of Ray).

Tune pickles its callbacks with the experiment, and `Tuner.restore` brings back those copies, not
the objects a resumed driver holds. So the driver declares the table and listener it drives with
`live_sweep(...)`, and a recorder takes them in `setup()`, the public hook Tune calls when the
experiment starts: no reaching into the tuner's private parts. One process drives one sweep at a
time (`ray_session` refuses a second Ray), hence one slot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ray.tune import Callback

from mnistlab.sweep.results import SweepTable, TrialRow, close_run, run_error
from mnistlab.sweep.search import seed_and_params

SweepListener = Callable[[str, TrialRow, SweepTable], None]
"""Called with (event, row, table); event is "start", "epoch", "restart" (Tune starts it again) or "end"."""

_live: dict[str, object] = {}
"""The table and listener of the sweep this process drives now (set by `live_sweep`)."""


@contextlib.contextmanager
def live_sweep(table: SweepTable, listener: SweepListener | None) -> Iterator[None]:
    """While Tune runs, recorders (new or restored from Tune's state) record into `table` and tell `listener`."""
    _live.update(table=table, listener=listener)
    try:
        yield
    finally:
        _live.clear()


class SweepRecorder(Callback):
    """Records every trial event in the table, closes the run directories Ray ended, tells the listener."""

    def __init__(self, table: SweepTable, seeds: list[int], listener: SweepListener | None = None) -> None:
        self.table = table
        self.seeds = list(seeds)
        self.listener = listener

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment state; the live table and listener stay behind.
        return {**self.__dict__, "table": None, "listener": None}

    def setup(self, **info: Any) -> None:
        """Tune starts (or restarts) the experiment: record into the driver's live table, tell its listener."""
        if "table" in _live:
            self.table, self.listener = _live["table"], _live["listener"]

    def _emit(self, event: str, row: TrialRow) -> None:
        if self.listener is not None:
            self.listener(event, row, self.table)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        seed, params = seed_and_params(trial.config, self.seeds)
        row = self.table.update(trial.trial_id, status="running", seed=seed, params=params)
        self.table.save()
        self._emit("start", row)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        row = self.table.record_epoch(trial.trial_id, result)
        self.table.save()
        self._emit("epoch", row)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._finish(trial, "stopped")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._finish(trial, "failed")

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        """Its worker died or it raised; Tune starts it again, and it continues its run's checkpoint."""
        row = self.table.update(trial.trial_id, restarts=(self.table.update(trial.trial_id).restarts or 0) + 1)
        self.table.save()
        self._emit("restart", row)

    def _finish(self, trial: Any, if_running: str) -> None:
        """A run still "running" when its trial ended was stopped by Tune (or failed): say so in its record."""
        row = self.table.update(trial.trial_id)
        run_dir = (trial.last_result or {}).get("run_dir") or row.run_dir
        status = close_run(run_dir, if_running) if run_dir else "unknown"
        self.table.update(trial.trial_id, status=if_running if status == "unknown" else status)
        error = run_error(run_dir) if run_dir and status != "completed" else None
        if not error and row.status == "failed" and getattr(trial, "error_file", None):
            # A worker that died (SIGKILL, out of memory) leaves no reason in its run; Tune keeps its account.
            error = f"no reason recorded by its run; Ray's account is in {trial.error_file}"
        if error:
            self.table.update(trial.trial_id, error=error)
        self.table.save()
        self._emit("end", row)
