"""`mnistlab bench tta`: training seconds until a target test accuracy, per task, engine and thread count.

Time to accuracy is what DAWNBench and MLPerf rank: every engine trains one and the same
`Recipe`, scores the test set after every epoch (timed apart, reported on its own), and the
figure is the training seconds summed up to the first epoch at or above the task's target.
Per task and thread count, one worker process per engine (threads bounded before the framework
loads, `bench.client`), seeds as rounds and engines interleaved within a round, medians over
seeds. An engine that cannot state the recipe is reported with its reason, never given another.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mnistlab.bench.client import run_or_drop, start_workers
from mnistlab.bench.dataset import load_bench_data, save_bench_data
from mnistlab.bench.engines import ENGINES, get_engine
from mnistlab.bench.fields import BenchRow
from mnistlab.bench.jobs import TtaJob
from mnistlab.bench.recipes import DEFAULT_TASKS, RECIPES, Recipe, Task, get_recipe, get_task
from mnistlab.errors import ConfigError


@dataclass(frozen=True)
class TtaConfig:
    """What `bench tta` measures; `quick()` is the smoke-test version.

    recipes : recipe names replacing a task's default, each for the tasks of its model (mlp or cnn).
    max_epochs : overrides every recipe's epoch budget (its schedule is stretched to it too).
    full_curves : keep training after the target to draw the whole accuracy curve.
    """

    tasks: tuple[str, ...] = DEFAULT_TASKS
    engines: tuple[str, ...] = ENGINES
    recipes: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2)
    threads: tuple[int, ...] = tuple(sorted({1, os.cpu_count() or 1}))
    n_train: int | None = None
    n_test: int | None = None
    max_epochs: int | None = None
    full_curves: bool = False

    @classmethod
    def quick(cls, **overrides: Any) -> TtaConfig:
        """2000 training and 1000 test images, one seed, all cores, 2 epochs: every engine end to end."""
        base = cls(seeds=(0,), threads=(os.cpu_count() or 1,), n_train=2000, n_test=1000, max_epochs=2)
        return replace(base, **overrides)

    def __post_init__(self) -> None:
        for name in self.tasks:
            get_task(name)
        models = {get_recipe(get_task(name).recipe).model for name in self.tasks}
        for name in self.recipes:
            if get_recipe(name).model not in models:
                raise ConfigError(f"recipe {name} trains a {get_recipe(name).model}, but no {get_recipe(name).model} "
                                  f"task is selected; add one with --tasks or drop the recipe")
        unknown = sorted(set(self.engines) - set(ENGINES))
        if unknown:
            raise ConfigError(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
        if not self.tasks or not self.engines or not self.seeds:
            raise ConfigError("bench tta needs at least one task, engine and seed")
        if not self.threads or min(self.threads) < 1:
            raise ConfigError(f"every thread count must be a positive integer, got {list(self.threads)}")
        if min(self.seeds) < 0:
            raise ConfigError(f"seeds must be non-negative integers, got {list(self.seeds)}")
        if self.max_epochs is not None and self.max_epochs < 1:
            raise ConfigError(f"max_epochs must be at least 1, got {self.max_epochs}")

    def recipe_for(self, task: Task) -> Recipe:
        """The recipe `task` runs: a chosen one of the task's model, else the task's default; epochs capped."""
        model = get_recipe(task.recipe).model
        chosen = [RECIPES[name] for name in self.recipes if RECIPES[name].model == model]
        recipe = chosen[-1] if chosen else get_recipe(task.recipe)
        if self.max_epochs is not None:
            warmup = min(recipe.warmup_epochs, self.max_epochs / 2) if recipe.schedule == "onecycle" else recipe.warmup_epochs
            recipe = replace(recipe, max_epochs=self.max_epochs, warmup_epochs=warmup)
        return recipe


@dataclass(frozen=True)
class CannotExpress:
    """An engine that cannot state a task's recipe, and why (it is reported, never given another recipe)."""

    task: str
    engine: str
    recipe: str
    reason: str


@dataclass
class TtaRow(BenchRow):
    """One (task, threads, engine) of `bench tta`: medians over seeds; a row of tta.csv and of the JSON's "rows".

    tta_seconds is None when fewer than half the seeds reached the target (reached says how many
    did); vs_mnistlab divides it by mnistlab's on the same task and threads.
    """

    task: str
    threads: int
    engine: str
    recipe: str
    target: float
    tta_seconds: float | None
    reached: int
    seeds: int
    epochs_to_target: float | None
    seconds_per_epoch: float
    first_epoch_seconds: float
    eval_seconds_per_epoch: float
    best_accuracy: float
    threads_measured: float
    pool_threads: dict[str, Any]
    vs_mnistlab: float | None = None


@dataclass
class TtaResult:
    """Everything one `bench tta` run measured: raw runs, what could not run and why, the recipes used."""

    config: TtaConfig
    runs: list[dict[str, Any]] = field(default_factory=list)
    cannot_express: list[CannotExpress] = field(default_factory=list)
    recipes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def run_tta(config: TtaConfig, progress: Callable[[str], None] = lambda msg: None) -> TtaResult:
    """Train every task's recipe on every engine that can state it, per thread count and seed, interleaved."""
    start = time.perf_counter()
    result = TtaResult(config)
    for task_name in config.tasks:
        task = get_task(task_name)
        recipe = config.recipe_for(task)
        result.recipes[task.name] = {"target": task.target, "dataset": task.dataset, **recipe.to_dict()}
        job = TtaJob(recipe=recipe, target=task.target, stop_at_target=not config.full_curves)
        engines = []
        for name in config.engines:
            engine = get_engine(name)
            ok, reason = engine.available()
            why = engine.cannot_express(job)
            if not ok:
                result.notes.append(f"skipped {name}: {reason}")
            elif why:
                result.cannot_express.append(CannotExpress(task.name, name, recipe.name, why))
            else:
                engines.append(name)
        progress(f"{task.name}: loading {task.dataset} ({recipe.preprocessing} scaling) for recipe {recipe.name}")
        data = load_bench_data(task.dataset, config.n_train, scaler=recipe.preprocessing, n_test=config.n_test)
        with tempfile.TemporaryDirectory(prefix="mnistlab-bench-tta-") as tmp:
            save_bench_data(data, Path(tmp))
            for threads in config.threads:
                _run_phase(config, task, job, engines, threads, Path(tmp), result, progress)
    result.wall_seconds = time.perf_counter() - start
    return result


def _run_phase(config: TtaConfig, task: Task, job: TtaJob, engines: list[str], threads: int, data_dir: Path,
               result: TtaResult, progress: Callable[[str], None]) -> None:
    progress(f"{task.name}: starting {len(engines)} engine worker(s) on {threads} thread(s)")
    workers, notes = start_workers(engines, threads, data_dir)
    result.notes.extend(notes)
    try:
        for seed in config.seeds:
            for name in list(workers):
                run = run_or_drop(workers, name, replace(job, random_state=seed), result.notes)
                if run is None:
                    continue
                run.update(task=task.name, engine=name, threads=threads, seed=seed, recipe=job.recipe.name,
                           target=task.target, tta_seconds=time_to_target(run, task.target))
                result.runs.append(run)
                reached = f"{run['tta_seconds']:.2f} s" if run["tta_seconds"] is not None else "not reached"
                progress(f"[{task.name}, {threads} thr, seed {seed}] {name:<17} {task.target:.1%}: {reached}; "
                         f"best {max(run['epoch_accuracy']):.4f} after {len(run['epoch_accuracy'])} epoch(s)")
    finally:
        for worker in workers.values():
            worker.close()


def time_to_target(run: dict[str, Any], target: float) -> float | None:
    """Training seconds summed up to the first epoch whose test accuracy is at or above `target` (None: never)."""
    seconds = 0.0
    for epoch_seconds, accuracy in zip(run["epoch_seconds"], run["epoch_accuracy"]):
        seconds += epoch_seconds
        if accuracy >= target:
            return seconds
    return None


def summarize_tta(result: TtaResult) -> list[TtaRow]:
    """One row per (task, threads, engine): median time to target over seeds and what went with it.

    tta_seconds is the median over seeds with "never" counted as infinite, so it exists only when
    most seeds reached the target; reached says how many did. epochs_to_target, seconds_per_epoch,
    eval_seconds_per_epoch and best_accuracy are medians too; vs_mnistlab divides by mnistlab's.
    """
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run in result.runs:
        groups.setdefault((run["task"], run["threads"], run["engine"]), []).append(run)
    rows = []
    for (task, threads, engine), runs in groups.items():
        tta = statistics.median(r["tta_seconds"] if r["tta_seconds"] is not None else math.inf for r in runs)
        epochs = [_epochs_to_target(r) for r in runs]
        rows.append(TtaRow(
            task=task, threads=threads, engine=engine, recipe=runs[0]["recipe"], target=runs[0]["target"],
            tta_seconds=tta if math.isfinite(tta) else None,
            reached=sum(r["tta_seconds"] is not None for r in runs), seeds=len(runs),
            epochs_to_target=statistics.median(e for e in epochs if e is not None) if any(epochs) else None,
            seconds_per_epoch=statistics.median(s for r in runs for s in r["epoch_seconds"]),
            first_epoch_seconds=statistics.median(r["epoch_seconds"][0] for r in runs),
            eval_seconds_per_epoch=statistics.median(s for r in runs for s in r["eval_seconds"]),
            best_accuracy=statistics.median(max(r["epoch_accuracy"]) for r in runs),
            threads_measured=statistics.median(r["cpu_wall_ratio"] for r in runs),
            pool_threads=runs[-1]["pool_threads"]))
    reference = {(r.task, r.threads): r.tta_seconds for r in rows if r.engine == "mnistlab"}
    for row in rows:
        ref = reference.get((row.task, row.threads))
        row.vs_mnistlab = row.tta_seconds / ref if ref and row.tta_seconds is not None else None
    order = {name: i for i, name in enumerate(ENGINES)}
    tasks = {name: i for i, name in enumerate(result.config.tasks)}
    rows.sort(key=lambda r: (tasks.get(r.task, 99), r.threads, r.tta_seconds is None, r.tta_seconds or 0.0,
                             order.get(r.engine, 99)))
    return rows


def _epochs_to_target(run: dict[str, Any]) -> int | None:
    for epoch, accuracy in enumerate(run["epoch_accuracy"], start=1):
        if accuracy >= run["target"]:
            return epoch
    return None


def first_to_target_lines(rows: list[TtaRow]) -> list[str]:
    """Issue 16's target 2, per task and thread count: does mnistlab reach the target before every other engine?"""
    lines = []
    for task, threads in dict.fromkeys((r.task, r.threads) for r in rows):
        group = [r for r in rows if (r.task, r.threads) == (task, threads)]
        mine = next((r for r in group if r.engine == "mnistlab"), None)
        others = [r for r in group if r.engine != "mnistlab"]
        if mine is None or not others:
            continue
        faster = [r for r in others if r.tta_seconds is not None
                  and (mine.tta_seconds is None or r.tta_seconds <= mine.tta_seconds)]
        verdict = "PASS" if mine.tta_seconds is not None and not faster else "FAIL"
        detail = "; ".join(f"{r.engine} {r.tta_seconds:.1f} s" for r in faster)
        mine_text = f"{mine.tta_seconds:.1f} s" if mine.tta_seconds is not None else "not reached"
        lines.append(f"{task}, {threads} thread(s): mnistlab first to {mine.target:.1%}: {verdict} "
                     f"(mnistlab {mine_text}{'; ahead: ' + detail if detail else ''})")
    return lines
