"""Preprocessing as the seed's MyANN offers it, built from scikit-learn transformers.

The pipeline: flatten (N, 28, 28) -> (N, 784) float32; scale ("unit": divide by 255 into [0, 1];
"standard": StandardScaler over the whole training set; "minmax": MinMaxScaler; "normalizer":
per-sample L2 Normalizer; "none"); optionally PCA; optionally append MiniBatchKMeans cluster
features (the distance of each sample to each of `kmeans_clusters` centroids; the seed found
40 to 70 clusters helped its MLP). Fit it on the training split only, then transform every split.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.errors import ConfigError

if TYPE_CHECKING:  # scikit-learn takes about a second to import: it loads when a pipeline is built, not before
    from sklearn.base import TransformerMixin
    from sklearn.pipeline import Pipeline

SCALERS = ("standard", "minmax", "normalizer", "unit", "none")


@dataclass(frozen=True)
class PreprocessConfig:
    """How images become feature vectors.

    Attributes
    ----------
    scaler : {"standard", "minmax", "normalizer", "unit", "none"}
        "unit" divides by 255 (pixels in [0, 1]); "standard" and "minmax" are fitted over the
        training set; "normalizer" scales each sample to unit L2 norm; "none" keeps 0..255.
    pca_components : int or float, optional
        Keep this many principal components (an int), or enough to explain this fraction of
        the variance (a float in (0, 1)).
    kmeans_clusters : int, optional
        Append the distances to this many MiniBatchKMeans centroids as extra features.
    random_state : int
        Seed of PCA's randomized solver and of k-means.
    """

    scaler: str = "standard"
    pca_components: int | float | None = None
    kmeans_clusters: int | None = None
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.scaler not in SCALERS:
            raise ConfigError(f"unknown scaler {self.scaler!r}: choose one of {', '.join(SCALERS)}")
        pca = self.pca_components
        if pca is not None:
            is_count = isinstance(pca, numbers.Integral) and not isinstance(pca, bool) and pca >= 1
            is_fraction = isinstance(pca, float) and 0.0 < pca < 1.0
            if not (is_count or is_fraction):
                raise ConfigError(f"pca_components={pca!r} must be a count >= 1 or a variance fraction in (0, 1)")
        clusters = self.kmeans_clusters
        is_integer = isinstance(clusters, numbers.Integral) and not isinstance(clusters, bool)
        if clusters is not None and not (is_integer and clusters >= 2):
            raise ConfigError(f"kmeans_clusters={clusters!r} must be an integer >= 2 (the seed used 40 to 70)")


def flatten_float32(images: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) or features (N, F) -> float32 (N, F)."""
    images = np.asarray(images)
    if images.ndim < 2:
        raise ConfigError(f"expected images (N, 28, 28) or features (N, F), got shape {images.shape}")
    return images.reshape(len(images), -1).astype(np.float32, copy=False)


def scale_unit(features: np.ndarray) -> np.ndarray:
    """Pixel values 0..255 -> [0, 1], float32."""
    return (np.asarray(features, dtype=np.float32) / np.float32(255.0)).astype(np.float32, copy=False)


def to_float32(features: np.ndarray) -> np.ndarray:
    """Cast features to float32 (scikit-learn transformers may return float64)."""
    return np.asarray(features, dtype=np.float32)


def _scaler(name: str) -> TransformerMixin | str:
    from sklearn import preprocessing  # scikit-learn loads when a pipeline is built (see TYPE_CHECKING above)

    if name == "standard":
        return preprocessing.StandardScaler()
    if name == "minmax":
        return preprocessing.MinMaxScaler()
    if name == "normalizer":
        return preprocessing.Normalizer(norm="l2")
    if name == "unit":
        return preprocessing.FunctionTransformer(scale_unit, feature_names_out="one-to-one")
    return "passthrough"


def build_preprocessor(config: PreprocessConfig | None = None) -> Pipeline:
    """An unfitted scikit-learn pipeline: images (N, 28, 28) or (N, 784) -> float32 (N, F).

    F is 784, or `pca_components` (or the count PCA keeps for a fraction), plus
    `kmeans_clusters` when set.

    Examples
    --------
    >>> from mnistlab.data import load
    >>> from mnistlab.data.preprocess import PreprocessConfig, build_preprocessor
    >>> train, test = load("mnist", "train"), load("mnist", "test")
    >>> pre = build_preprocessor(PreprocessConfig(scaler="standard", kmeans_clusters=50))
    >>> X_train = pre.fit_transform(train.images)   # fit on the training split only
    >>> X_test = pre.transform(test.images)
    >>> X_train.shape, X_test.dtype
    ((60000, 834), dtype('float32'))
    """
    from sklearn import cluster, decomposition, pipeline, preprocessing  # loaded here, not on import (as above)

    config = config if config is not None else PreprocessConfig()
    steps: list[tuple[str, object]] = [
        ("flatten", preprocessing.FunctionTransformer(flatten_float32, feature_names_out="one-to-one")),
        ("scale", _scaler(config.scaler)),
    ]
    if config.pca_components is not None:
        steps.append(("pca", decomposition.PCA(n_components=config.pca_components, random_state=config.random_state)))
    if config.kmeans_clusters is not None:
        kmeans = cluster.MiniBatchKMeans(n_clusters=config.kmeans_clusters, n_init=3,
                                         random_state=config.random_state)
        steps.append(("clusters", pipeline.FeatureUnion([("features", "passthrough"), ("distances", kmeans)])))
    steps.append(("float32", preprocessing.FunctionTransformer(to_float32, feature_names_out="one-to-one")))
    return pipeline.Pipeline(steps)
