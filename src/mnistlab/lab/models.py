"""Trained models of runs, loaded once and kept in memory, ready to answer a drawing in milliseconds.

A model is cached per run directory and model-file modification time, so a rerun into the same
directory or a re-saved model is picked up. An MLP run's preprocessing (scaler, PCA, k-means) is
refitted once on the run's own training split, as `mnistlab mlp eval` does. The CNN is called
directly (`model(x, training=False)`) through one feature extractor that returns every conv and
pooling layer's maps together with the class probabilities, in a single forward pass.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.model import to_model_input
from mnistlab.data import load
from mnistlab.data.preprocess import PreprocessConfig, build_preprocessor
from mnistlab.errors import ModelFileError
from mnistlab.insight.extract import layer_kind, layers_of_kind, model_input
from mnistlab.insight.extract import load_cnn as load_keras_cnn
from mnistlab.mlp.activations import ACTIVATIONS
from mnistlab.mlp.estimator import MLPClassifier

MODEL_FILES = {"mlp": "model.npz", "cnn": "model.keras"}


@dataclass
class MLPModel:
    """A run's MLP and its refitted preprocessing; images (n, 28, 28) uint8 in, arrays out."""

    classifier: Any
    preprocessor: Any
    dataset: str
    _test_predictions: np.ndarray | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return "mlp"

    def features(self, images: np.ndarray) -> np.ndarray:
        """Preprocessed inputs, float32 (n, n_features)."""
        return np.ascontiguousarray(self.preprocessor.transform(images), dtype=np.float32)

    def activations(self, images: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations after the input: [hidden_1, ..., hidden_k, probabilities], each (n, units)."""
        cfg = self.classifier.config
        layers, last = [], len(self.classifier.coefs_) - 1
        a = self.features(images)
        for index, (weights, biases) in enumerate(zip(self.classifier.coefs_, self.classifier.intercepts_)):
            z = (a @ weights + biases).astype(np.float32)  # (n, fan_out)
            if index < last:
                ACTIVATIONS[cfg.activation](z, cfg.leaky_slope)
            else:
                ACTIVATIONS[cfg.output](z)
            layers.append(z)
            a = z
        out = layers[-1]
        layers[-1] = out / np.maximum(out.sum(axis=1, keepdims=True), np.finfo(np.float32).tiny)
        return layers

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes)."""
        return self.classifier.predict_proba(self.features(images))

    def first_layer_weights(self) -> np.ndarray | None:
        """Each hidden unit's input weights as a 28x28 picture (units, 28, 28), or None after PCA/k-means."""
        weights = self.classifier.coefs_[0]  # (784, units)
        return weights.T.reshape(-1, 28, 28) if weights.shape[0] == 784 else None

    def test_predictions(self, images: np.ndarray) -> np.ndarray:
        """Predicted class of every test image (computed once)."""
        if self._test_predictions is None:
            self._test_predictions = np.argmax(self.probabilities(images), axis=1)
        return self._test_predictions


@dataclass
class CNNModel:
    """A run's Keras CNN with a feature extractor over its conv/pooling layers and its output."""

    model: Any
    extractor: Any
    map_layers: list[str]
    conv_layers: list[str]
    dataset: str
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _test_predictions: np.ndarray | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return "cnn"

    def forward(self, images: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Class probabilities (n, 10) and every conv/pooling layer's maps (n, h, w, c) for `images`."""
        keras = import_keras()
        outputs = self.extractor(to_model_input(images), training=False)
        arrays = [np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32) for out in outputs]
        return arrays[-1], dict(zip(self.map_layers, arrays[:-1]))

    def probabilities(self, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Class probabilities (n, 10), in batches through the model itself."""
        keras = import_keras()
        chunks = [keras.ops.convert_to_numpy(self.model(to_model_input(images[i:i + batch_size]), training=False))
                  for i in range(0, len(images), batch_size)]
        return np.concatenate(chunks).astype(np.float32)

    def test_predictions(self, images: np.ndarray) -> np.ndarray:
        """Predicted class of every test image (computed once)."""
        if self._test_predictions is None:
            self._test_predictions = np.argmax(self.probabilities(images), axis=1)
        return self._test_predictions


def load_mlp(run_dir: Path, run_config: dict[str, Any] | None) -> MLPModel:
    """Load run_dir/model.npz (no pickles) and refit its preprocessing on its training split."""
    classifier = MLPClassifier.load(run_dir / MODEL_FILES["mlp"])  # .npz read without pickles
    meta = {**(run_config or {}), **{k: v for k, v in classifier.metadata_.items() if v is not None}}
    dataset = meta.get("dataset", "mnist")
    pre = build_preprocessor(PreprocessConfig(scaler=meta.get("scaler", "standard"),
                                              pca_components=meta.get("pca_components"),
                                              kmeans_clusters=meta.get("kmeans_clusters"),
                                              random_state=meta.get("random_state") or 0))
    images = load(dataset, "train").images
    if meta.get("train_size"):
        images = images[:meta["train_size"]]
    pre.fit(images)
    if pre.transform(images[:1]).shape[1] != classifier.n_features_in_:
        raise ModelFileError(f"{run_dir.name}: the model expects {classifier.n_features_in_} features but its "
                             "refitted preprocessing gives another count; retrain the run")
    return MLPModel(classifier, pre, dataset)


def load_cnn(run_dir: Path, run_config: dict[str, Any] | None) -> CNNModel:
    """Load run_dir/model.keras in Keras' safe mode and build its feature extractor."""
    keras = import_keras()
    model = load_keras_cnn(run_dir / MODEL_FILES["cnn"])
    map_layers = layers_of_kind(model, ("conv", "pool"))
    extractor = keras.Model(inputs=model_input(model), outputs=[layer.output for layer in map_layers] + [model.output])
    conv = [layer.name for layer in map_layers if layer_kind(layer) == "conv"]
    dataset = (run_config or {}).get("dataset", "mnist")
    return CNNModel(model, extractor, [layer.name for layer in map_layers], conv, dataset)


class ModelCache:
    """Loaded models keyed by (run directory, model file mtime); loading happens once per key."""

    def __init__(self) -> None:
        self._models: dict[Path, tuple[float, MLPModel | CNNModel]] = {}
        self._lock = threading.Lock()

    def get(self, run_dir: Path, kind: str, run_config: dict[str, Any] | None = None) -> MLPModel | CNNModel:
        """The model of the run at `run_dir` ("mlp" or "cnn"); ModelFileError when it has none."""
        if kind not in MODEL_FILES:
            raise ModelFileError(f"{run_dir.name} is not an mlp or cnn run; choose another run")
        path = run_dir / MODEL_FILES[kind]
        if not path.is_file():
            raise ModelFileError(f"{run_dir.name} has no {path.name} yet (still training, or stopped before "
                                 "saving); choose a completed run")
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._models.get(run_dir)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            model = load_mlp(run_dir, run_config) if kind == "mlp" else load_cnn(run_dir, run_config)
            self._models[run_dir] = (mtime, model)
            return model
