"""Activation patterns of the last conv layer, and how well they classify (seed articles V and VI).

The seed's point: a class is recognised by a *pattern* of many maps firing together, not by one
"feature" map. We measure that three ways on the test set:

1. the mean activation of each map per class (a classes x maps heat map);
2. the trained dense head's accuracy (the CNN's own MLP part reading those activations);
3. a plain scikit-learn classifier (standardise + logistic regression) fitted on the pooled
   activations of the training set; if it is nearly as good as the head, the pooled map
   activations alone carry the class;
4. and the simplest classifier of all: assign each image to the class whose mean pattern is
   closest (nearest centroid).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
from mnistlab.insight.extract import LayerRef, get_layer, last_conv_layer, predict_layers

POOLINGS = ("mean", "max", "flatten")


def pool_activations(activations: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """Reduce conv activations (n, h, w, c) to features (n, c) ("mean"/"max") or (n, h*w*c) ("flatten")."""
    if pooling == "mean":
        return activations.mean(axis=(1, 2))
    if pooling == "max":
        return activations.max(axis=(1, 2))
    if pooling == "flatten":
        return activations.reshape(len(activations), -1)
    raise ConfigError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")


def class_mean_patterns(features: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of `features` (n, c) over the images of each class: (n_classes, c); NaN-free (empty class -> 0)."""
    patterns = np.zeros((n_classes, features.shape[1]), dtype=np.float64)
    for k in range(n_classes):
        members = features[labels == k]
        if len(members):
            patterns[k] = members.mean(axis=0)
    return patterns


def nearest_centroid_accuracy(features: np.ndarray, labels: np.ndarray, patterns: np.ndarray) -> float:
    """Accuracy of assigning each row of `features` (n, c) to the class pattern (k, c) closest in L2."""
    distances = ((features[:, None, :] - patterns[None, :, :]) ** 2).sum(axis=2)  # (n, k)
    return float((distances.argmin(axis=1) == labels).mean())


def probe_accuracy(train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray,
                   test_labels: np.ndarray, random_state: int = 0) -> float:
    """Test accuracy of StandardScaler + LogisticRegression fitted on (train_features, train_labels)."""
    from sklearn import linear_model, pipeline, preprocessing  # ~1 s to import: only a probe pays it, not `runs`

    probe = pipeline.make_pipeline(preprocessing.StandardScaler(),
                                   linear_model.LogisticRegression(max_iter=1000, random_state=random_state))
    probe.fit(train_features, train_labels)
    return float(probe.score(test_features, test_labels))


def head_accuracy(model: Any, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> float:
    """Test accuracy of the whole trained CNN (conv part + its dense head) on `images` (n, 28, 28)."""
    (scores,) = predict_layers(model, [model.layers[-1].name], images, batch_size=batch_size)
    return float((scores.argmax(axis=1) == labels).mean())


@dataclass
class PatternReport:
    """Activation patterns of one conv layer and the accuracies of three ways of reading them."""

    layer: str
    pooling: str
    class_names: tuple[str, ...]
    class_patterns: np.ndarray  # (n_classes, n_maps) mean activation per class and map
    head_accuracy: float
    probe_accuracy: float
    centroid_accuracy: float
    n_train: int
    n_test: int

    def summary(self) -> dict[str, Any]:
        """JSON-ready dict (the heat map as nested lists)."""
        out = asdict(self)
        out["class_patterns"] = np.round(self.class_patterns, 5).tolist()
        out["class_names"] = list(self.class_names)
        out["n_maps"] = int(self.class_patterns.shape[1])
        return out


def activation_patterns(model: Any, train_images: np.ndarray, train_labels: np.ndarray,
                        test_images: np.ndarray, test_labels: np.ndarray, *,
                        layer: LayerRef | None = None, pooling: str = "mean",
                        class_names: tuple[str, ...] | None = None, random_state: int = 0) -> PatternReport:
    """Measure the activation patterns of a conv layer (default: the last) and how well they classify.

    Parameters
    ----------
    model : keras.Model
        A trained CNN.
    train_images, test_images : ndarray, shape (n, 28, 28)
        uint8 images; the probe is fitted on train and everything is scored on test.
    train_labels, test_labels : ndarray, shape (n,)
        Integer class labels.
    layer : str or int, optional
        The conv layer to read; default the last Conv2D layer.
    pooling : {"mean", "max", "flatten"}
        How a map becomes the probe's features ("mean": one number per map).

    Returns
    -------
    PatternReport
    """
    target = last_conv_layer(model) if layer is None else get_layer(model, layer)
    if len(target.output.shape) != 4:
        raise ConfigError(f"layer {target.name!r} has no maps (output {tuple(target.output.shape)}); choose a conv layer")
    pool_activations(np.zeros((1, 1, 1, 1)), pooling)  # validates `pooling` before any heavy work
    n_classes = int(max(train_labels.max(), test_labels.max())) + 1
    (test_acts,) = predict_layers(model, [target.name], test_images)  # (n_test, h, w, c)
    (train_acts,) = predict_layers(model, [target.name], train_images)
    map_means = pool_activations(test_acts, "mean")  # (n_test, c)
    patterns = class_mean_patterns(map_means, test_labels, n_classes)
    train_features = pool_activations(train_acts, pooling)
    test_features = pool_activations(test_acts, pooling)
    centroids = class_mean_patterns(train_features, train_labels, n_classes)
    return PatternReport(
        layer=target.name,
        pooling=pooling,
        class_names=tuple(class_names) if class_names else tuple(str(k) for k in range(n_classes)),
        class_patterns=patterns,
        head_accuracy=head_accuracy(model, test_images, test_labels),
        probe_accuracy=probe_accuracy(train_features, train_labels, test_features, test_labels, random_state),
        centroid_accuracy=nearest_centroid_accuracy(test_features, test_labels, centroids),
        n_train=len(train_images),
        n_test=len(test_images),
    )

