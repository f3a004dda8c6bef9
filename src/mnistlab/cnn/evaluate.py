"""Score a trained CNN: predictions, accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mnistlab.cnn.model import to_model_input
from mnistlab.errors import ConfigError


def predict_proba(model: Any, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (n, n_classes) for uint8 or [0, 1] float images (n, 28, 28[, 1])."""
    x = to_model_input(images)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def predict(model: Any, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Predicted class indices (n,) for images (n, 28, 28[, 1])."""
    return predict_proba(model, images, batch_size).argmax(axis=1)


@dataclass
class Evaluation:
    """Accuracy, per-class accuracy (n_classes,) and confusion matrix (true, predicted)."""

    accuracy: float
    per_class_accuracy: np.ndarray
    confusion: np.ndarray
    y_pred: np.ndarray

    def to_dict(self, class_names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """JSON-ready: accuracy, per_class_accuracy as {class name: value}, confusion_matrix rows."""
        names = class_names or tuple(str(i) for i in range(len(self.per_class_accuracy)))
        return {"accuracy": self.accuracy,
                "per_class_accuracy": {n: float(a) for n, a in zip(names, self.per_class_accuracy)},
                "confusion_matrix": self.confusion.tolist()}


def score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> Evaluation:
    """Scores from true and predicted labels (n,); a class absent from y_true gets NaN accuracy."""
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ConfigError(f"y_true and y_pred must be equal-length non-empty 1-D arrays, got "
                          f"{y_true.shape} and {y_pred.shape}")
    from sklearn.metrics import confusion_matrix  # ~1 s to import: only when a model is scored, not for `runs`

    confusion = confusion_matrix(y_true, y_pred, labels=range(n_classes))
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(support > 0, np.diag(confusion) / np.maximum(support, 1), np.nan)
    return Evaluation(accuracy=float(np.mean(y_true == y_pred)), per_class_accuracy=per_class,
                      confusion=confusion, y_pred=y_pred)


def evaluate(model: Any, images: np.ndarray, labels: np.ndarray, batch_size: int = 512) -> Evaluation:
    """Predict `images` (n, 28, 28) and score against `labels` (n,)."""
    n_classes = int(model.output_shape[-1])
    return score(labels, predict(model, images, batch_size), n_classes)
