"""`mnistlab bench cnn`: the default CNN for a fixed number of batches on each Keras backend and in plain PyTorch.

Every engine trains the seed's convnet (mnistlab.cnn.model.build_model's default; the
PyTorch loop builds the same layers) on the same MNIST images, same batch size, same SGD
with momentum, in its own worker process; a few batches warm up (compilation) apart, then
`n_batches` are timed. Seconds per epoch are that rate times 60000 images.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.bench.engines.base import BenchData, TrainOutcome, blas_threads, module_available
from mnistlab.errors import ConfigError

CNN_ENGINES = ("cnn-keras-jax", "cnn-keras-tensorflow", "cnn-keras-torch", "cnn-torch")
EPOCH_IMAGES = 60_000


@dataclass(frozen=True)
class CnnJob:
    """One timing: `warmup_batches` untimed, then `n_batches` timed, at `batch_size`."""

    batch_size: int = 64
    n_batches: int = 50
    warmup_batches: int = 3
    learning_rate: float = 0.05
    momentum: float = 0.9
    random_state: int = 0


class _CnnEngine:
    name = "cnn"

    def make_job(self, fields: dict[str, Any]) -> CnnJob:
        """A `CnnJob` from JSON fields."""
        return CnnJob(**fields)

    def _slices(self, data: BenchData, job: CnnJob) -> tuple[Any, Any, Any, Any]:
        import numpy as np

        n_warm, n_timed = job.batch_size * job.warmup_batches, job.batch_size * job.n_batches
        need = n_warm + n_timed
        if need > data.X_train.shape[0]:
            raise ConfigError(f"{job.n_batches}+{job.warmup_batches} batches of {job.batch_size} need {need} "
                              f"images, only {data.X_train.shape[0]} loaded; use fewer batches")
        images = data.X_train[:need].reshape(-1, 28, 28, 1)
        labels = data.y_train[:need].astype(np.int64)
        return images[:n_warm], labels[:n_warm], images[n_warm:], labels[n_warm:]


class KerasCnnEngine(_CnnEngine):
    """The default CNN of `mnistlab.cnn.model.build_model` on one Keras backend."""

    def __init__(self, backend: str) -> None:
        from mnistlab.bench.engines.keras_engine import KerasEngine

        self._dense = KerasEngine(backend)
        self.backend = backend
        self.name = f"cnn-keras-{backend}"

    def available(self) -> tuple[bool, str]:
        """Available when keras and the backend import."""
        return self._dense.available()

    def setup(self, threads: int) -> None:
        """Select the backend and bound its pools before keras loads."""
        self._dense.setup(threads)

    def threads_used(self) -> dict[str, Any]:
        """The backend's reported pool sizes."""
        return self._dense.threads_used()

    def train(self, data: BenchData, job: CnnJob) -> TrainOutcome:
        """Compile, fit the warm-up batches, then time `n_batches` batches of one `fit`."""
        import keras

        from mnistlab.cnn.config import CNNConfig
        from mnistlab.cnn.model import build_model

        keras.utils.set_random_seed(job.random_state)
        model = build_model(CNNConfig(backend=self.backend, seed=job.random_state), keras=keras)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=job.learning_rate, momentum=job.momentum),
                      loss="sparse_categorical_crossentropy")
        x_warm, y_warm, x, y = self._slices(data, job)
        start = time.perf_counter()
        model.fit(x_warm, y_warm, batch_size=job.batch_size, epochs=1, verbose=0, shuffle=False)
        warmup = time.perf_counter() - start
        start = time.perf_counter()
        model.fit(x, y, batch_size=job.batch_size, epochs=1, verbose=0, shuffle=False)
        return TrainOutcome([time.perf_counter() - start], None, measured_warmup=warmup)


class TorchCnnEngine(_CnnEngine):
    """The same convnet written directly in PyTorch (NCHW), same optimiser, no Keras in between."""

    name = "cnn-torch"

    def available(self) -> tuple[bool, str]:
        """Available when torch imports."""
        return module_available("torch", "cnn")

    def setup(self, threads: int) -> None:
        """Import torch and bound its intra-op pool."""
        import torch

        torch.set_num_threads(threads)

    def threads_used(self) -> dict[str, Any]:
        """torch's intra-op pool and BLAS."""
        import torch

        return {"torch_intra_op": torch.get_num_threads(), "blas": blas_threads()}

    def train(self, data: BenchData, job: CnnJob) -> TrainOutcome:
        """Warm up on a few batches, then time `n_batches` SGD steps."""
        import torch
        from torch import nn

        torch.manual_seed(job.random_state)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, 10),
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=job.learning_rate, momentum=job.momentum)
        loss_fn = nn.CrossEntropyLoss()
        x_warm, y_warm, x, y = self._slices(data, job)

        def steps(images: Any, labels: Any) -> float:
            images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
            labels = torch.from_numpy(labels)
            start = time.perf_counter()
            for i in range(0, len(labels), job.batch_size):
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(images[i:i + job.batch_size]), labels[i:i + job.batch_size]).backward()
                optimizer.step()
            return time.perf_counter() - start

        warmup = steps(x_warm, y_warm)
        return TrainOutcome([steps(x, y)], None, measured_warmup=warmup)


def get_cnn_engine(name: str) -> Any:
    """The CNN engine called `name` (one of CNN_ENGINES)."""
    if name == "cnn-torch":
        return TorchCnnEngine()
    if name in CNN_ENGINES:
        return KerasCnnEngine(name.removeprefix("cnn-keras-"))
    raise ConfigError(f"unknown CNN engine {name!r}; choose from {', '.join(CNN_ENGINES)}")


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
        for name in self.engines:
            get_cnn_engine(name)
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


def run_cnn_bench(config: CnnBenchConfig, data: BenchData | None = None,
                  progress: Callable[[str], None] = lambda msg: None) -> CnnBenchResult:
    """Time every available CNN engine at each batch size, interleaved, one worker per engine."""
    from mnistlab.bench.client import run_or_drop, start_workers
    from mnistlab.bench.dataset import load_bench_data, save_bench_data

    result = CnnBenchResult(config)
    engines = []
    for name in config.engines:
        ok, reason = get_cnn_engine(name).available()
        if ok:
            engines.append(name)
        else:
            result.notes.append(f"skipped {name}: {reason}")
    need = max(config.batch_sizes) * (config.n_batches + 3)
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


def summarize_cnn(result: CnnBenchResult) -> list[dict[str, Any]]:
    """One row per (batch size, engine): seconds per batch and per 60000-image epoch, images/s."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for run in result.runs:
        groups.setdefault((run["batch_size"], run["engine"]), []).append(run)
    rows = []
    for (batch_size, engine), runs in groups.items():
        seconds = statistics.median(r["train_seconds"] for r in runs)
        per_batch = seconds / result.config.n_batches
        rows.append({"engine": engine.removeprefix("cnn-"), "threads": runs[0]["threads"], "batch_size": batch_size,
                     "batches": result.config.n_batches, "seconds_per_batch": per_batch,
                     "seconds_per_epoch": per_batch * EPOCH_IMAGES / batch_size,
                     "images_per_second": batch_size / per_batch,
                     "warmup_seconds": statistics.median(r["warmup_seconds"] for r in runs),
                     "threads_measured": statistics.median(r["cpu_wall_ratio"] for r in runs), "repeats": len(runs)})
    fastest = {}
    for row in rows:
        fastest[row["batch_size"]] = min(fastest.get(row["batch_size"], float("inf")), row["seconds_per_epoch"])
    for row in rows:
        row["vs_fastest"] = row["seconds_per_epoch"] / fastest[row["batch_size"]]
    rows.sort(key=lambda r: (r["batch_size"], r["seconds_per_epoch"]))
    return rows


CNN_COLUMNS = (
    ("batch_size", "batch", "{}"), ("engine", "engine", "{}"), ("seconds_per_epoch", "s/epoch", "{:.1f}"),
    ("images_per_second", "images/s", "{:,.0f}"), ("seconds_per_batch", "s/batch", "{:.4f}"),
    ("warmup_seconds", "warm-up s", "{:.2f}"), ("threads_measured", "CPU/wall", "{:.2f}"),
    ("vs_fastest", "x fastest", "{:.2f}"), ("repeats", "n", "{}"),
)


def cnn_markdown(document: dict[str, Any], note: str = "") -> str:
    """The Markdown section `bench cnn --markdown` writes: command, machine, table, notes."""
    from mnistlab.bench.report import machine_lines, table_lines

    cfg = document["config"]
    lines = [f"### CNN{f' ({note})' if note else ''}", "",
             f"Command: `{document['command']}`: {cfg['n_batches']} timed batches per engine after 3 warm-up "
             f"batches, {cfg['threads']} thread(s); seconds per epoch = seconds per batch x 60000 / batch size.", ""]
    lines += [f"- {line}" for line in machine_lines(document["machine"])] + [""]
    lines += table_lines(document["rows"], CNN_COLUMNS, markdown=True)
    lines += [""] + [f"- {n}" for n in document["notes"]]
    return "\n".join(lines).rstrip() + "\n"
