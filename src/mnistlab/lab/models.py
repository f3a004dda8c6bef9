"""Trained models of runs, loaded once and kept in memory, ready to answer a drawing in milliseconds.

Loading, preprocessing and the forward passes are the model kind's own (`mnistlab.runs.kinds`):
an MLP run's preprocessing is refitted on the run's own training split exactly as `mnistlab mlp
eval` and training do, and its activations come from the library's forward pass; a CNN answers
through one feature extractor that returns every conv and pooling layer's maps together with the
class probabilities. A model is cached per run directory and model-file modification time, so a
rerun into the same directory or a re-saved model is picked up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.errors import MnistlabError, ModelFileError
from mnistlab.runs.kinds import KIND_NAMES, KINDS
from mnistlab.runs.kinds.cnn import CNNModel as LoadedCNN
from mnistlab.runs.kinds.mlp import MLPModel as LoadedMLP


@dataclass
class _Cached:
    """What both kinds share in the lab: the kind's loaded model, its dataset and test-set predictions."""

    loaded: Any
    _test_predictions: np.ndarray | None = field(default=None, repr=False)

    @property
    def dataset(self) -> str:
        return self.loaded.dataset

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes): the kind's predict_proba."""
        return KINDS[self.kind].predict_proba(self.loaded, images)

    def test_predictions(self, images: np.ndarray) -> np.ndarray:
        """Predicted class of every test image (computed once)."""
        if self._test_predictions is None:
            self._test_predictions = np.argmax(self.probabilities(images), axis=1)
        return self._test_predictions


@dataclass
class MLPModel(_Cached):
    """A run's MLP with its refitted preprocessing; images (n, 28, 28) uint8 in, arrays out."""

    kind = "mlp"

    @property
    def classifier(self) -> Any:
        return self.loaded.classifier

    def activations(self, images: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations after the input: [hidden_1, ..., hidden_k, probabilities], each (n, units)."""
        return list(KINDS[self.kind].activations(self.loaded, images).values())

    def first_layer_weights(self) -> np.ndarray | None:
        """Each hidden unit's input weights as a 28x28 picture (units, 28, 28), or None after PCA/k-means."""
        weights = self.classifier.coefs_[0]  # (784, units)
        return weights.T.reshape(-1, 28, 28) if weights.shape[0] == 784 else None


@dataclass
class CNNModel(_Cached):
    """A run's Keras CNN; `forward` gives the probabilities and every conv/pooling layer's maps at once."""

    kind = "cnn"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model(self) -> Any:
        return self.loaded.model

    @property
    def conv_layers(self) -> list[str]:
        return self.loaded.conv_layers

    def forward(self, images: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Class probabilities (n, 10) and every conv/pooling layer's maps (n, h, w, c) for `images`."""
        maps = KINDS[self.kind].activations(self.loaded, images)
        return maps.pop("output"), maps


_WRAPPERS = {LoadedMLP: MLPModel, LoadedCNN: CNNModel}
"""The lab's view of each kind's loaded model (keyed by the kind's model type, not its name)."""


def wrap(loaded: Any) -> MLPModel | CNNModel:
    """The lab's view of a kind's loaded model."""
    return _WRAPPERS[type(loaded)](loaded)


class ModelCache:
    """Loaded models keyed by (run directory, model file mtime); loading happens once per key."""

    def __init__(self) -> None:
        self._models: dict[Path, tuple[float, MLPModel | CNNModel]] = {}
        self._lock = threading.Lock()

    def get(self, run_dir: Path, kind: str, run_config: dict[str, Any] | None = None) -> MLPModel | CNNModel:
        """The model of the run at `run_dir` of kind `kind`; ModelFileError when it has none."""
        if kind not in KINDS:
            raise ModelFileError(f"{run_dir.name} is not a run of a known kind ({', '.join(KIND_NAMES)}); "
                                 "choose another run")
        path = run_dir / KINDS[kind].model_file
        if not path.is_file():
            raise ModelFileError(f"{run_dir.name} has no {path.name} yet (still training, or stopped before "
                                 "saving); choose a completed run")
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._models.get(run_dir)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            try:
                loaded = KINDS[kind].load_model(run_dir)
            except ModelFileError:
                raise
            except MnistlabError as exc:
                raise ModelFileError(f"{run_dir.name}: {exc}") from None
            model = wrap(loaded)
            self._models[run_dir] = (mtime, model)
            return model
