"""The OIP gallery of a CNN layer, computed on request in the background and kept in the run directory.

Computing every map's OIP takes seconds to minutes, so a request starts a job in a thread and the
page polls its progress. The maps are done in small batches (progress is the share of maps done);
the result is written to `<run>/lab_oip_<layer>.npz` (`lab_oip_<layer>_epoch<N>.npz` for the model
at epoch N; atomically, no pickles), so it is computed once per run, layer and epoch and survives
restarts of the lab.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
from mnistlab.fileio import save_npz_atomic
from mnistlab.insight.extract import get_layer, n_units
from mnistlab.insight.oip import OIPConfig, compute_oips
from mnistlab.lab.encode import encode_stack
from mnistlab.lab.models import CNNModel

BATCH = 16


def oip_file(run_dir: Path, layer: str, epoch: int | None = None) -> Path:
    """Where the OIPs of `layer` (of the final model, or of the model at `epoch`) are kept in the run directory."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", layer):
        raise ConfigError(f"layer={layer!r} is not a layer name; use one of the run's conv layers, e.g. conv1")
    return run_dir / (f"lab_oip_{layer}.npz" if epoch is None else f"lab_oip_{layer}_epoch{int(epoch)}.npz")


def read_gallery(path: Path) -> dict[str, Any] | None:
    """The stored OIPs at `path` as page data, or None when there are none."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {"status": "done", "maps": data["maps"].tolist(), "activation": np.round(data["activation"], 4).tolist(),
                "converged": data["converged"].tolist(), "images": encode_stack(data["images"], scale=1.0)}


def compute_gallery(model: CNNModel, layer: str, path: Path, progress: Any, steps: int = 60) -> None:
    """OIPs of every map of `layer`, BATCH maps at a time, reporting `progress(done, total)`; saved to `path`."""
    total = n_units(get_layer(model.model, layer))
    config = OIPConfig(steps=steps)
    parts = []
    for start in range(0, total, BATCH):
        with model.lock:
            parts.append(compute_oips(model.model, layer, list(range(start, min(start + BATCH, total))), config))
        progress(min(start + BATCH, total), total)
    save_npz_atomic(path, maps=np.concatenate([p.maps for p in parts]),
                    images=np.concatenate([p.images for p in parts]),
                    activation=np.concatenate([p.activation for p in parts]),
                    converged=np.concatenate([p.converged for p in parts]))


@dataclass
class OIPJobs:
    """Running and finished OIP jobs, one per (run, layer)."""

    steps: int = 60
    _jobs: dict[Path, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, path: Path) -> dict[str, Any]:
        """{"status": "none" | "running" | "failed" | "done", ...} for the gallery stored at `path`."""
        with self._lock:
            job = self._jobs.get(path)
            if job is not None and job["status"] in ("running", "failed"):
                return dict(job)
        return read_gallery(path) or {"status": "none"}

    def start(self, model: CNNModel, layer: str, path: Path) -> dict[str, Any]:
        """Start computing the gallery unless it exists or is being computed; return its status."""
        get_layer(model.model, layer)  # ConfigError for an unknown layer, before any thread starts
        with self._lock:
            job = self._jobs.get(path)
            busy = path.is_file() or (job is not None and job["status"] == "running")
            if not busy:
                job = self._jobs[path] = {"status": "running", "done": 0, "total": 0, "layer": layer}
        if busy:
            return self.status(path)

        def progress(done: int, total: int) -> None:
            job.update(done=done, total=total)

        def work() -> None:
            try:
                compute_gallery(model, layer, path, progress, self.steps)
                job["status"] = "done"
            except Exception as exc:  # shown on the page instead of being lost in a thread
                job.update(status="failed", error=f"{type(exc).__name__}: {exc}")

        threading.Thread(target=work, name=f"oip-{layer}", daemon=True).start()
        return dict(job)
