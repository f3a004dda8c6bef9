"""Every epoch's weights of a run, the initial ones (epoch 0) included: the model as it was at each epoch.

Layout inside a run directory::

    weights/epoch-<N>.npz     the weights after epoch N (0: before the first batch)

Checkpoints (checkpoint.py) keep only the latest whole training state, for resuming; these keep
every epoch, but only what the lab's epoch slider shows, so they stay small (docs/runs.md gives
the figures):

- the MLP: its first layer only, ``first_layer`` (784 or n_features, units), as float16. The
  pictures of a hidden unit's weights need three significant digits at most, and the first layer
  of the default preset costs 0.8 MB per epoch this way (2.1 MB for all its layers in float32);
- the CNN: every weight array of the Keras model (``w000``, ``w001``, ... in `get_weights` order),
  float32, so the model at epoch N computes maps and OIPs exactly as it did then.

Files are written like checkpoints (atomically, without fsync: they survive a killed process).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import ModelFileError
from mnistlab.fileio import ensure_inside, save_npz_atomic
from mnistlab.runs.rundir import RunDir

WEIGHTS_DIR = "weights"
_SNAPSHOT = re.compile(r"epoch-(\d+)\.npz")


def snapshot_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    """Where the weights after `epoch` are kept in the run directory."""
    run_dir = Path(run_dir)
    return ensure_inside(run_dir / WEIGHTS_DIR / f"epoch-{int(epoch)}.npz", run_dir)


def save_snapshot(run: RunDir, epoch: int, arrays: dict[str, np.ndarray]) -> Path:
    """Write `arrays` as the weights after `epoch` (0: the initial weights)."""
    path = snapshot_path(run.path, epoch)
    path.parent.mkdir(exist_ok=True)
    return save_npz_atomic(path, durable=False, **arrays)  # as checkpoints: an fsync per epoch buys nothing here


def snapshot_epochs(run_dir: str | os.PathLike) -> list[int]:
    """The epochs whose weights the run kept, ascending (empty for runs recorded before snapshots)."""
    folder = Path(run_dir) / WEIGHTS_DIR
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for path in folder.iterdir() if (m := _SNAPSHOT.fullmatch(path.name)))


def load_snapshot(run_dir: str | os.PathLike, epoch: int) -> dict[str, np.ndarray]:
    """The arrays kept for `epoch`; ModelFileError naming the epochs there are when it has none."""
    path = snapshot_path(run_dir, epoch)
    if not path.is_file():
        kept = snapshot_epochs(run_dir)
        where = f"epochs {kept[0]}..{kept[-1]}" if kept else "no epochs (recorded before weights were kept per epoch)"
        raise ModelFileError(f"{Path(run_dir).name} has no weights of epoch {epoch}; it keeps {where}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is damaged ({exc}); train the run again with `mnistlab rerun`") from None


def first_layer_snapshot(weights: list[np.ndarray]) -> dict[str, np.ndarray]:
    """An MLP's snapshot: its first layer's weights (n_features, units) as float16.

    Weights beyond float16's range (a diverging run's) are clipped to it rather than cast to inf.
    """
    limit = float(np.finfo(np.float16).max)
    return {"first_layer": np.clip(weights[0], -limit, limit).astype(np.float16)}


def keras_snapshot(model: Any) -> dict[str, np.ndarray]:
    """A Keras model's snapshot: every weight array, float32, in `get_weights` order."""
    return {f"w{i:03d}": np.asarray(w, dtype=np.float32) for i, w in enumerate(model.get_weights())}


def keras_weights(snapshot: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The weight list `keras_snapshot` stored, ready for `model.set_weights`."""
    return [snapshot[name] for name in sorted(snapshot)]


def disk_bytes(run_dir: str | os.PathLike) -> int:
    """The bytes the run's per-epoch weights take on disk."""
    folder = Path(run_dir) / WEIGHTS_DIR
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
