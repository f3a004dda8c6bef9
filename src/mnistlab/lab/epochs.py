"""Models as they were at an epoch of their run, for the run page's epoch slider.

A run keeps every epoch's weights (`mnistlab.runs.snapshots`); the run's kind rebuilds the model
at an epoch from its final model and those weights (`ModelKind.model_at_epoch`), and says which
views are truly the epoch's (`epoch_views`: the MLP keeps its first layer only). Dragging the
slider asks for one epoch after another, so the last few models built are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mnistlab.errors import ModelFileError
from mnistlab.lab.models import CNNModel, MLPModel, ModelCache, wrap
from mnistlab.lab.params import NotFound
from mnistlab.runs.kinds import KINDS
from mnistlab.runs.snapshots import snapshot_epochs

KEEP = 6


def epochs_of(run_dir: Path, kind: str) -> dict[str, Any]:
    """The epochs whose weights the run kept and the views the slider can show for its kind."""
    views = KINDS[kind].epoch_views if kind in KINDS else ()
    return {"epochs": snapshot_epochs(run_dir), "views": list(views)}


class EpochModels:
    """The model of (run, epoch), built from the run's cached final model; the last `keep` kept."""

    def __init__(self, models: ModelCache, keep: int = KEEP) -> None:
        self.models, self.keep = models, keep
        self._built: OrderedDict[tuple[Path, int, int], MLPModel | CNNModel] = OrderedDict()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def get(self, run_dir: Path, kind: str, config: dict[str, Any] | None, epoch: int,
            view: str) -> MLPModel | CNNModel:
        """The run's model at `epoch` for `view`; NotFound for an epoch it did not keep, ModelFileError for a view
        its kind does not keep per epoch."""
        if view not in epochs_of(run_dir, kind)["views"]:
            raise ModelFileError(f"{run_dir.name} is a {kind} run; its epochs show "
                                 f"{', '.join(epochs_of(run_dir, kind)['views']) or 'nothing'}, not {view}")
        kept = snapshot_epochs(run_dir)
        if epoch not in kept:
            where = f"epochs {kept[0]}..{kept[-1]}" if kept else "no epochs (recorded before weights were kept per epoch)"
            raise NotFound(f"{run_dir.name} has no weights of epoch {epoch}; it keeps {where}")
        final = self.models.get(run_dir, kind, config)
        key = (run_dir, epoch, id(final))  # a new final model (a rerun into the directory) builds afresh
        # One build at a time: the slider's views ask for the same epoch together, and building Keras
        # models in two threads at once is not safe (Python 3.11 parses their code concurrently).
        with self._build_lock:
            with self._lock:
                if key in self._built:
                    self._built.move_to_end(key)
                    return self._built[key]
            with getattr(final, "lock", threading.Lock()):  # a CNN's Keras model is not shared across threads
                model = wrap(KINDS[kind].model_at_epoch(final.loaded, run_dir, epoch))
            with self._lock:
                self._built[key] = model
                while len(self._built) > self.keep:
                    self._built.popitem(last=False)
        return model
