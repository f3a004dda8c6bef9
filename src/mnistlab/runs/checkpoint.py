"""Checkpoints of a run: the training state at an epoch's end, so `mnistlab resume` can continue it.

Layout inside a run directory::

    checkpoint-epoch<N>.npz     MLP: the whole training state (weights, optimiser, RNG, history...)
    checkpoint-epoch<N>.keras   CNN: the Keras model with its optimiser state

The newest state file is written atomically (a complete file or none), then older ones are deleted:
a kill at any moment leaves the highest-numbered file complete, and that is the latest checkpoint.
No separate pointer file: it would be a second write per epoch, and the names already say it all.
MLP checkpoints skip the fsyncs (they survive a killed process, not necessarily a power cut), which
keeps their cost near 1% of a seed-MLP epoch (benchmarks/checkpoint_cost.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.cnn.io import save_model as save_cnn_model
from mnistlab.errors import ModelFileError
from mnistlab.fileio import save_npz_atomic
from mnistlab.runs.rundir import RunDir, RunDirError

_STATE_FILE = re.compile(r"checkpoint-epoch(\d+)\.(npz|keras)")
_KINDS = {"npz": "mlp", "keras": "cnn"}
DEFAULT_EVERY = 1
_STATE_JSON = "__state_json__"


@dataclass
class Checkpoint:
    """The latest checkpoint of a run: its kind ("mlp" | "cnn"), the epochs it holds, its state file."""

    kind: str
    epoch: int
    path: Path


def flatten_state(state: Any) -> dict[str, np.ndarray]:
    """A nested state (dicts, lists, arrays, numbers, None, strings) as .npz arrays plus one JSON skeleton.

    Arrays are stored as themselves (bit-exact); everything else, big Python integers of RNG states
    included, goes into the JSON skeleton, where each array is a {"__array__": key} placeholder.
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = value
            return {"__array__": key}
        if isinstance(value, dict):
            return {"__dict__": [[str(k), walk(v)] for k, v in value.items()]}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value

    skeleton = walk(state)
    return {**arrays, _STATE_JSON: np.array(json.dumps(skeleton))}


def unflatten_state(files: dict[str, np.ndarray]) -> Any:
    """The nested state `flatten_state` stored."""
    def walk(value: Any) -> Any:
        if isinstance(value, dict) and "__array__" in value:
            return files[value["__array__"]]
        if isinstance(value, dict) and "__dict__" in value:
            return {k: walk(v) for k, v in value["__dict__"]}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(json.loads(str(files[_STATE_JSON])))


def _drop_older(run: RunDir, latest: Path) -> None:
    """Delete the state files older than `latest`, now that it is complete."""
    for old in run.checkpoint_files():
        if old.name != latest.name and old.is_file():
            old.unlink(missing_ok=True)


def save_mlp_checkpoint(run: RunDir, state: dict[str, Any], epoch: int) -> Path:
    """Write the MLP training `state` (an MLPClassifier.state_dict()) as the checkpoint at `epoch`."""
    path = run.checkpoint_path(epoch, "npz")
    save_npz_atomic(path, durable=False, **flatten_state(state))  # an fsync per epoch would cost ~2% (docs/runs.md)
    _drop_older(run, path)
    return path


def save_cnn_checkpoint(run: RunDir, model: Any, epoch: int) -> Path:
    """Write the Keras `model` (weights and optimiser state) as the checkpoint at `epoch`."""
    path = save_cnn_model(model, run.checkpoint_path(epoch, "keras"))
    _drop_older(run, path)
    return path


def latest_checkpoint(run_dir: str | Path) -> Checkpoint:
    """The highest-numbered complete state file of the run; RunDirError when there is none."""
    run = RunDir(Path(run_dir))
    found = [(int(m.group(1)), m.group(2), path) for path in run.checkpoint_files()
             if (m := _STATE_FILE.fullmatch(path.name)) and path.is_file()]
    if not found or max(found)[0] < 1:
        raise RunDirError(f"{run.path} has no checkpoint (recorded before checkpoints existed, or stopped before "
                          f"its first epoch ended); train it again with `mnistlab rerun {run.path}`")
    epoch, suffix, path = max(found)
    return Checkpoint(_KINDS[suffix], epoch, run.file(path.name))


def load_mlp_state(checkpoint: Checkpoint) -> dict[str, Any]:
    """The MLP state dict of `checkpoint` (arrays bit-exact)."""
    try:
        with np.load(checkpoint.path, allow_pickle=False) as data:
            return unflatten_state(dict(data.items()))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"checkpoint {checkpoint.path} is damaged ({exc}); train the run again "
                             "with `mnistlab rerun`") from None


class Checkpointer:
    """Writes a checkpoint every `every` epochs and, on interruption, one of the last finished epoch.

    `save(run, what, epoch)` writes one state file (`save_mlp_checkpoint`, `save_cnn_checkpoint`);
    `capture()` returns what to save (an MLP state dict or a Keras model); it is called at epoch ends
    only, so a checkpoint always holds a whole number of epochs. With `remember`, the state of an
    epoch not due is kept in memory (a cheap copy for the MLP) and saved if training is interrupted.
    """

    def __init__(self, run: RunDir, save: Callable[[RunDir, Any, int], Path], every: int = DEFAULT_EVERY, *,
                 remember: bool = False) -> None:
        if not isinstance(every, int) or isinstance(every, bool) or every < 0:
            raise ValueError(f"checkpoint_every={every!r} must be an integer >= 0 (0: only on interruption)")
        self.run, self.save, self.every, self.remember = run, save, every, remember
        self.saved_epoch = 0
        self._pending: tuple[int, Any] | None = None

    def epoch_done(self, epoch: int, capture: Callable[[], Any]) -> None:
        """After epoch `epoch`: save now if it is due, else remember the state for an interruption."""
        if self.every and epoch % self.every == 0:
            self._save(epoch, capture())
            self._pending = None
        elif self.remember:
            self._pending = (epoch, capture())  # a copy: cheap next to an epoch, and exact at the epoch's end

    def interrupted(self, capture_model: Callable[[], Any] | None = None, epoch: int | None = None) -> None:
        """Save the last finished epoch not yet saved (MLP: the remembered state; CNN: the model)."""
        if self._pending is not None and self._pending[0] > self.saved_epoch:
            self._save(*self._pending)
        elif capture_model is not None and epoch is not None and epoch > self.saved_epoch:
            self._save(epoch, capture_model())

    def _save(self, epoch: int, what: Any) -> None:
        if what is None:  # nothing to save yet (no model built)
            return
        self.save(self.run, what, epoch)
        self.saved_epoch = epoch
