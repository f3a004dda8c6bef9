"""The MLP benchmark: engines × batch sizes × thread counts, interleaved, repeated, summarised.

Per thread count, one worker process per engine starts (thread limits fixed before its
framework loads) and stays up; the sweep then goes round by round (one round = every batch
size × every engine, engines interleaved), so slow drifts of a shared machine hit all
engines alike. Further rounds run while the time budget allows, up to `repeats`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mnistlab.bench.client import Worker, run_or_drop, start_workers
from mnistlab.bench.dataset import load_bench_data, save_bench_data
from mnistlab.bench.engines import MLP_ENGINES, get_engine
from mnistlab.bench.engines.base import BenchData
from mnistlab.bench.fields import BenchRow
from mnistlab.bench.jobs import TrainJob
from mnistlab.bench.flops import dense_train_flops
from mnistlab.cpu import gemm_gflops
from mnistlab.errors import BackendError, ConfigError

DEFAULT_BATCH_SIZES = (100, 500, 2000, 10000, 20000, 60000)


@dataclass(frozen=True)
class SweepConfig:
    """What `mnistlab bench mlp` measures; `quick()` is the two-minute version.

    The net, its optimiser and the epochs default to `TrainJob`'s, the seed's net.
    """

    engines: tuple[str, ...] = MLP_ENGINES
    batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    threads: tuple[int, ...] = tuple(sorted({1, os.cpu_count() or 1}))
    epochs: int = TrainJob.epochs
    repeats: int = 3
    budget_seconds: float = 25 * 60.0
    dataset: str = "mnist"
    n_train: int | None = None
    hidden: tuple[int, ...] = TrainJob.hidden
    activation: str = TrainJob.activation
    learning_rate: float = TrainJob.learning_rate
    momentum: float = TrainJob.momentum
    random_state: int = TrainJob.random_state
    targets: bool = True
    gemm_size: int = 2048

    @classmethod
    def quick(cls, **overrides: Any) -> SweepConfig:
        """Two batch sizes, all cores, 3 epochs, one round: a smoke run of every engine."""
        base = cls(batch_sizes=(500, 20000), threads=(os.cpu_count() or 1,), epochs=3, repeats=1,
                   budget_seconds=90.0)
        return replace(base, **overrides)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.engines) - set(MLP_ENGINES))
        if unknown:
            raise ConfigError(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(MLP_ENGINES)}")
        for label, values in (("batch size", self.batch_sizes), ("thread count", self.threads)):
            if not values or min(values) < 1:
                raise ConfigError(f"every {label} must be a positive integer, got {list(values)}")
        if self.epochs < 1 or self.repeats < 1:
            raise ConfigError(f"epochs and repeats must be at least 1, got {self.epochs} and {self.repeats}")

    def job(self, batch_size: int) -> TrainJob:
        """The training job every engine runs at `batch_size`."""
        return TrainJob(hidden=self.hidden, activation=self.activation, epochs=self.epochs, batch_size=batch_size,
                        learning_rate=self.learning_rate, momentum=self.momentum, random_state=self.random_state)


@dataclass
class SweepResult:
    """Everything one sweep measured: raw runs, the machine's GEMM rates, skip notes, targets."""

    config: SweepConfig
    runs: list[dict[str, Any]] = field(default_factory=list)
    gemm_gflops: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    targets: dict[str, Any] = field(default_factory=dict)
    n_train: int = 0
    layer_sizes: tuple[int, ...] = ()
    wall_seconds: float = 0.0


@dataclass
class MlpBenchRow(BenchRow):
    """One (threads, batch size, engine) of `bench mlp`: medians over repeats; a row of mlp.csv and the JSON's "rows".

    train_seconds excludes the warm-up; gflops is GEMM FLOPs over train seconds and gemm_share its
    fraction of the machine's GEMM rate; threads_measured is CPU seconds over wall seconds;
    vs_mnistlab divides train_seconds by mnistlab's at the same threads and batch size.
    """

    engine: str
    threads: int
    batch_size: int
    repeats: int
    train_seconds: float
    warmup_seconds: float
    seconds_per_epoch: float
    samples_per_second: float
    gflops: float
    gemm_share: float
    test_accuracy: float
    threads_measured: float
    pool_threads: dict[str, Any]
    peak_rss_bytes: int
    vs_mnistlab: float | None = None


def available_engines(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The engines of `names` that can run here, and a one-line note for each that cannot."""
    ready, notes = [], []
    for name in names:
        ok, reason = get_engine(name).available()
        if ok:
            ready.append(name)
        else:
            notes.append(f"skipped {name}: {reason}")
    return ready, notes


def run_sweep(config: SweepConfig, data: BenchData | None = None,
              progress: Callable[[str], None] = lambda msg: None) -> SweepResult:
    """Measure every available engine at every batch size and thread count of `config`.

    `data` defaults to `config.dataset`, standard-scaled; `progress` receives one line per run.
    """
    start = time.perf_counter()
    engines, notes = available_engines(config.engines)
    result = SweepResult(config=config, notes=notes)
    if data is None:
        progress(f"loading {config.dataset} (StandardScaler)")
        data = load_bench_data(config.dataset, config.n_train, config.random_state)
    result.n_train = int(data.X_train.shape[0])
    result.layer_sizes = (int(data.X_train.shape[1]), *config.hidden, data.n_classes)
    for threads in config.threads:
        result.gemm_gflops[threads] = gemm_gflops(config.gemm_size, threads=threads)
        progress(f"float32 GEMM {config.gemm_size}^3 on {threads} thread(s): {result.gemm_gflops[threads]:.1f} GFLOP/s")
    with tempfile.TemporaryDirectory(prefix="mnistlab-bench-") as tmp:
        save_bench_data(data, Path(tmp))
        for index, threads in enumerate(config.threads):
            phase_budget = (config.budget_seconds - (time.perf_counter() - start)) / (len(config.threads) - index)
            _run_phase(config, engines, threads, Path(tmp), phase_budget, result, progress)
    if config.targets and "mnistlab" in engines:
        result.targets = measure_targets(config, progress=progress)
    result.wall_seconds = time.perf_counter() - start
    return result


def _run_phase(config: SweepConfig, engines: list[str], threads: int, data_dir: Path, budget: float,
               result: SweepResult, progress: Callable[[str], None]) -> None:
    progress(f"starting {len(engines)} engine worker(s) on {threads} thread(s)")
    phase_start = time.perf_counter()
    workers, notes = start_workers(engines, threads, data_dir)
    result.notes.extend(notes)
    try:
        round_seconds = 0.0
        for repeat in range(config.repeats):
            spent = time.perf_counter() - phase_start
            if repeat > 0 and spent + round_seconds > budget:
                result.notes.append(f"{threads} thread(s): {repeat} of {config.repeats} repeats fit the time budget")
                break
            round_start = time.perf_counter()
            for batch_size in config.batch_sizes:
                for name in list(workers):
                    run = run_or_drop(workers, name, config.job(batch_size), result.notes)
                    if run is None:
                        continue
                    run.update(engine=name, threads=threads, batch_size=batch_size, repeat=repeat)
                    result.runs.append(run)
                    progress(f"[{threads} thr, round {repeat + 1}] {name:<17} batch {batch_size:>6}: "
                             f"{run['train_seconds']:7.2f} s (+{run['warmup_seconds']:.2f} s warm-up), "
                             f"test accuracy {run['test_accuracy']:.4f}")
            round_seconds = time.perf_counter() - round_start
    finally:
        for worker in workers.values():
            worker.close()


def measure_targets(config: SweepConfig, progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """mnistlab's targets 3 and 4 in a fresh worker: per-epoch evaluation overhead and peak memory.

    The worker loads and scales the dataset itself, as a user's run does, so its peak RSS
    is the whole run's, at batch size 500 (the seed's) on all cores.
    """
    threads = max(config.threads)
    progress(f"targets: seed run (batch 500) with and without per-epoch train+test evaluation, {threads} thread(s)")
    job = {**asdict(config.job(500)), "task": "targets", "repeats": config.repeats}
    with Worker("mnistlab", threads, dataset=config.dataset, n_train=config.n_train) as worker:
        try:
            out = worker.run(job)
        except BackendError as exc:
            return {"error": str(exc)}
    overhead = out["eval_train_seconds"] / out["train_seconds"] - 1.0
    return {
        "threads": threads,
        "train_seconds": out["train_seconds"],
        "train_with_eval_seconds": out["eval_train_seconds"],
        "eval_overhead": overhead,
        "eval_overhead_ok": overhead <= 0.10,
        "peak_rss_bytes": out["peak_rss_bytes"],
        "peak_rss_ok": out["peak_rss_bytes"] < 2**30,
        "test_accuracy": out["test_accuracy"],
    }


def summarize(result: SweepResult) -> list[MlpBenchRow]:
    """One row per (threads, batch size, engine): medians over repeats and the derived rates (`MlpBenchRow`)."""
    config = result.config
    groups: dict[tuple[int, int, str], list[dict[str, Any]]] = {}
    for run in result.runs:
        groups.setdefault((run["threads"], run["batch_size"], run["engine"]), []).append(run)
    rows = []
    for (threads, batch_size, engine), runs in groups.items():
        seconds = statistics.median(r["train_seconds"] for r in runs)
        flops = dense_train_flops(result.layer_sizes, config.activation)
        samples = result.n_train * config.epochs
        gflops = flops.gemm * samples / seconds / 1e9 if seconds > 0 else float("nan")
        rows.append(MlpBenchRow(
            engine=engine, threads=threads, batch_size=batch_size, repeats=len(runs),
            train_seconds=seconds, warmup_seconds=statistics.median(r["warmup_seconds"] for r in runs),
            seconds_per_epoch=seconds / config.epochs, samples_per_second=samples / seconds,
            gflops=gflops, gemm_share=gflops / result.gemm_gflops[threads],
            test_accuracy=statistics.median(r["test_accuracy"] for r in runs),
            threads_measured=statistics.median(r["cpu_wall_ratio"] for r in runs),
            pool_threads=runs[-1]["pool_threads"], peak_rss_bytes=max(r["peak_rss_bytes"] for r in runs)))
    reference = {(r.threads, r.batch_size): r.train_seconds for r in rows if r.engine == "mnistlab"}
    for row in rows:
        ref = reference.get((row.threads, row.batch_size))
        row.vs_mnistlab = row.train_seconds / ref if ref else None
    order = {name: i for i, name in enumerate(MLP_ENGINES)}
    rows.sort(key=lambda r: (r.threads, r.batch_size, order.get(r.engine, 99)))
    return rows
