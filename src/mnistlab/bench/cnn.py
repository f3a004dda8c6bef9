"""`mnistlab bench cnn`: the default CNN for a fixed number of batches on each Keras backend and in plain PyTorch.

Every engine trains the seed's convnet (mnistlab.cnn.model.build_model's default; the
PyTorch loop builds the same layers) on the same MNIST images, same batch size, same SGD
with momentum, in its own worker process (a `jobs.CnnJob` through the one engine interface);
a few batches warm up (compilation) apart, then `n_batches` are timed. Seconds per epoch are
that rate times 60000 images. This replaces the former `python -m mnistlab.cnn.timing`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.bench.client import run_or_drop, start_workers
from mnistlab.bench.dataset import load_bench_data, save_bench_data
from mnistlab.bench.engines import CNN_ENGINES, get_engine
from mnistlab.bench.engines.base import BenchData
from mnistlab.bench.fields import BenchRow
from mnistlab.bench.jobs import CnnJob
from mnistlab.bench.report import machine_lines, table_lines
from mnistlab.env import environment_info
from mnistlab.errors import ConfigError

EPOCH_IMAGES = 60_000


@dataclass(frozen=True)
class CnnBenchConfig:
    """What `mnistlab bench cnn` measures."""

    engines: tuple[str, ...] = CNN_ENGINES
    batch_sizes: tuple[int, ...] = (64, 512)
    n_batches: int = 30
    threads: int = os.cpu_count() or 1
    repeats: int = 1
    dataset: str = "mnist"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.engines) - set(CNN_ENGINES))
        if unknown:
            raise ConfigError(f"unknown CNN engine(s) {', '.join(unknown)}; choose from {', '.join(CNN_ENGINES)}")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ConfigError(f"batch sizes must be positive integers, got {list(self.batch_sizes)}")
        if min(self.n_batches, self.threads, self.repeats) < 1:
            raise ConfigError(f"batches, threads and repeats must be at least 1, got "
                              f"{self.n_batches}, {self.threads} and {self.repeats}")


@dataclass
class CnnBenchResult:
    """Raw timings and notes of one `bench cnn` run."""

    config: CnnBenchConfig
    runs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class CnnBenchRow(BenchRow):
    """One (batch size, engine) of `bench cnn`: medians over repeats; a row of cnn.csv and of the JSON's "rows".

    seconds_per_epoch is seconds per batch times 60000 images; vs_fastest divides it by the
    fastest engine's at the same batch size.
    """

    engine: str
    threads: int
    batch_size: int
    batches: int
    seconds_per_batch: float
    seconds_per_epoch: float
    images_per_second: float
    warmup_seconds: float
    threads_measured: float
    repeats: int
    vs_fastest: float | None = None


def run_cnn_bench(config: CnnBenchConfig, data: BenchData | None = None,
                  progress: Callable[[str], None] = lambda msg: None) -> CnnBenchResult:
    """Time every available CNN engine at each batch size, interleaved, one worker per engine."""
    result = CnnBenchResult(config)
    engines = []
    for name in config.engines:
        ok, reason = get_engine(name).available()
        if ok:
            engines.append(name)
        else:
            result.notes.append(f"skipped {name}: {reason}")
    need = max(config.batch_sizes) * (config.n_batches + CnnJob.warmup_batches)
    if data is None:
        progress(f"loading {config.dataset} (pixels / 255)")
        data = load_bench_data(config.dataset, n_train=need, scaler="unit")
    with tempfile.TemporaryDirectory(prefix="mnistlab-bench-cnn-") as tmp:
        save_bench_data(data, Path(tmp))
        workers, notes = start_workers(engines, config.threads, Path(tmp))
        result.notes.extend(notes)
        try:
            for repeat in range(config.repeats):
                for batch_size in config.batch_sizes:
                    for name in list(workers):
                        run = run_or_drop(workers, name, CnnJob(batch_size=batch_size, n_batches=config.n_batches),
                                          result.notes)
                        if run is None:
                            continue
                        run.update(engine=name, batch_size=batch_size, repeat=repeat, threads=config.threads)
                        result.runs.append(run)
                        progress(f"{name:<21} batch {batch_size:>4}: {run['train_seconds']:.2f} s for "
                                 f"{config.n_batches} batches (+{run['warmup_seconds']:.2f} s warm-up)")
        finally:
            for worker in workers.values():
                worker.close()
    return result


def summarize_cnn(result: CnnBenchResult) -> list[CnnBenchRow]:
    """One row per (batch size, engine): seconds per batch and per 60000-image epoch, images/s."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for run in result.runs:
        groups.setdefault((run["batch_size"], run["engine"]), []).append(run)
    rows = []
    for (batch_size, engine), runs in groups.items():
        seconds = statistics.median(r["train_seconds"] for r in runs)
        per_batch = seconds / result.config.n_batches
        rows.append(CnnBenchRow(engine=engine, threads=runs[0]["threads"], batch_size=batch_size,
                                batches=result.config.n_batches, seconds_per_batch=per_batch,
                                seconds_per_epoch=per_batch * EPOCH_IMAGES / batch_size,
                                images_per_second=batch_size / per_batch,
                                warmup_seconds=statistics.median(r["warmup_seconds"] for r in runs),
                                threads_measured=statistics.median(r["cpu_wall_ratio"] for r in runs),
                                repeats=len(runs)))
    fastest: dict[int, float] = {}
    for row in rows:
        fastest[row.batch_size] = min(fastest.get(row.batch_size, float("inf")), row.seconds_per_epoch)
    for row in rows:
        row.vs_fastest = row.seconds_per_epoch / fastest[row.batch_size]
    rows.sort(key=lambda r: (r.batch_size, r.seconds_per_epoch))
    return rows


def cnn_document(result: CnnBenchResult, rows: list[CnnBenchRow], command: str) -> dict[str, Any]:
    """The JSON document of a `bench cnn` run: command, config, machine, rows, raw runs, notes."""
    return {"command": command, "config": asdict(result.config), "machine": environment_info(),
            "rows": [row.to_dict() for row in rows], "runs": result.runs, "notes": result.notes}


CNN_COLUMNS = (
    ("batch_size", "batch", "{}"), ("engine", "engine", "{}"), ("seconds_per_epoch", "s/epoch", "{:.1f}"),
    ("images_per_second", "images/s", "{:,.0f}"), ("seconds_per_batch", "s/batch", "{:.4f}"),
    ("warmup_seconds", "warm-up s", "{:.2f}"), ("threads_measured", "CPU/wall", "{:.2f}"),
    ("vs_fastest", "x fastest", "{:.2f}"), ("repeats", "n", "{}"),
)


def cnn_markdown(document: dict[str, Any], note: str = "") -> str:
    """The Markdown section `bench cnn --markdown` writes: command, machine, table, notes."""
    cfg = document["config"]
    lines = [f"### CNN{f' ({note})' if note else ''}", "",
             f"Command: `{document['command']}`: {cfg['n_batches']} timed batches per engine after "
             f"{CnnJob.warmup_batches} warm-up batches, {cfg['threads']} thread(s); seconds per epoch = seconds per "
             f"batch x 60000 / batch size.", ""]
    lines += [f"- {line}" for line in machine_lines(document["machine"])] + [""]
    lines += table_lines([CnnBenchRow.from_dict(row) for row in document["rows"]], CNN_COLUMNS, markdown=True)
    lines += [""] + [f"- {n}" for n in document["notes"]]
    return "\n".join(lines).rstrip() + "\n"
