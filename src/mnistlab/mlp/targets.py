"""How labels become output units and back: multiclass, binary and multilabel targets, class weights.

- "multiclass": one unit per class, one-hot targets, the configured output and loss;
- "binary" (two classes): one logistic unit whose output is P(classes[1]), as scikit-learn does;
- "multilabel" (a 2-D 0/1 indicator y): one independent logistic unit per label.
For the last two the output is always a sigmoid, and cross-entropy means the logistic loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target

from mnistlab.errors import ConfigError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.metrics import one_hot
from mnistlab.mlp.network import NetSpec


@dataclass
class Targets:
    """The kind of target ("multiclass", "binary", "multilabel") and the classes (labels) seen."""

    kind: str
    classes: np.ndarray

    @classmethod
    def from_labels(cls, y: np.ndarray, classes: np.ndarray | None = None) -> Targets:
        """Infer the kind from y (n,) labels or (n, labels) indicator; `classes` overrides those seen."""
        if y.ndim == 2:
            if type_of_target(y) != "multilabel-indicator":
                raise ValueError("a 2-D y must be a multilabel indicator of 0s and 1s (one column per label); "
                                 "for one label per sample give a 1-D y")
            return cls("multilabel", np.arange(y.shape[1]))
        classes = np.unique(y) if classes is None else np.unique(classes)
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({classes.tolist()}); a classifier needs samples of "
                             "at least two classes")
        return cls("binary" if len(classes) == 2 else "multiclass", classes)

    @property
    def n_outputs(self) -> int:
        """Output units: 1 for two classes, else one per class or label."""
        return 1 if self.kind == "binary" else len(self.classes)

    def spec(self, cfg: MLPConfig) -> NetSpec:
        """The layers' NetSpec: binary and multilabel outputs are logistic units."""
        if self.kind == "multiclass":
            return NetSpec(activation=cfg.activation, output=cfg.output, loss=cfg.loss, slope=cfg.leaky_slope)
        loss = "mse" if cfg.loss == "mse" else "logloss"
        return NetSpec(activation=cfg.activation, output="sigmoid", loss=loss, slope=cfg.leaky_slope)

    def index(self, y: np.ndarray, what: str = "y") -> np.ndarray:
        """Class index (n,) of each label; ValueError naming labels not seen at fit time."""
        idx = np.clip(np.searchsorted(self.classes, y), 0, len(self.classes) - 1)
        unseen = self.classes[idx] != y
        if np.any(unseen):
            raise ValueError(f"{what} contains label(s) {np.unique(y[unseen])[:10].tolist()} not seen at fit time "
                             f"(known classes: {self.classes.tolist()[:20]}); refit with all classes")
        return idx

    def encode(self, y: np.ndarray, dtype: np.dtype, what: str = "y") -> tuple[np.ndarray, np.ndarray | None]:
        """(Y (n, n_outputs) float targets, y_index (n,) or None for multilabel)."""
        if self.kind == "multilabel":
            if y.ndim != 2 or y.shape[1] != len(self.classes):
                raise ValueError(f"{what} must be a multilabel indicator with {len(self.classes)} columns, "
                                 f"as at fit time")
            return np.ascontiguousarray(y, dtype=dtype), None
        y_index = self.index(y, what)
        if self.kind == "binary":
            return y_index.astype(dtype)[:, None], y_index
        return one_hot(y_index, len(self.classes), dtype), y_index

    def proba(self, outputs: np.ndarray) -> np.ndarray:
        """Probabilities from network outputs: (n, 2) for binary, rows summing to 1 for multiclass."""
        if self.kind == "binary":
            return np.hstack([1 - outputs, outputs])
        if self.kind == "multiclass":
            outputs /= np.maximum(outputs.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        return outputs

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Predicted labels (n,), or the 0/1 indicator (n, labels) for multilabel."""
        if self.kind == "multilabel":
            return (outputs > 0.5).astype(np.int64)
        if self.kind == "binary":
            return self.classes[(outputs[:, 0] > 0.5).astype(np.int64)]
        return self.classes[outputs.argmax(axis=1)]


def row_weights(targets: Targets, y_index: np.ndarray | None, class_weight, sample_weight: np.ndarray | None,
                dtype: np.dtype) -> np.ndarray | None:
    """Per-row loss weights: sample_weight times the class's weight; None when neither is given."""
    if class_weight is None:
        return None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
    if y_index is None:
        raise ConfigError("class_weight is not supported for multilabel targets; give sample_weight instead")
    if isinstance(class_weight, dict):
        unknown = [k for k in class_weight if k not in set(targets.classes.tolist())]
        if unknown:
            raise ConfigError(f"class_weight names label(s) {unknown[:10]} that are not in y; "
                              f"known classes: {targets.classes.tolist()[:20]}")
    per_class = compute_class_weight(class_weight, classes=targets.classes, y=targets.classes[y_index])
    weights = per_class[y_index]
    if sample_weight is not None:
        weights = weights * sample_weight
    return np.asarray(weights, dtype=dtype)
