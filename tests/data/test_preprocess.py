"""The preprocessing pipeline: float32 out, fitted on the training split only, shapes with PCA and k-means."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from mnistlab.data import load
from mnistlab.data.preprocess import PreprocessConfig, build_preprocessor
from mnistlab.errors import ConfigError


@pytest.fixture
def slices(use_real_cache):
    """Small slices of real MNIST: 600 training and 200 test images."""
    train, test = load("mnist", "train"), load("mnist", "test")
    return train.images[:600], test.images[:200]


@pytest.mark.parametrize("scaler", ["standard", "minmax", "normalizer", "unit", "none"])
def test_every_scaler_gives_float32_of_the_right_shape(slices, scaler):
    train, test = slices
    pre = build_preprocessor(PreprocessConfig(scaler=scaler))
    out_train, out_test = pre.fit_transform(train), pre.transform(test)
    assert out_train.dtype == np.float32 and out_test.dtype == np.float32
    assert out_train.shape == (600, 784) and out_test.shape == (200, 784)
    assert np.isfinite(out_train).all() and np.isfinite(out_test).all()


def test_scalers_do_what_they_say(slices):
    train, _ = slices
    unit = build_preprocessor(PreprocessConfig(scaler="unit")).fit_transform(train)
    np.testing.assert_allclose(unit, train.reshape(600, -1) / 255.0, rtol=1e-6)
    standard = build_preprocessor(PreprocessConfig(scaler="standard")).fit_transform(train)
    used = train.reshape(600, -1).std(axis=0) > 0
    np.testing.assert_allclose(standard[:, used].mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(standard[:, used].std(axis=0), 1.0, rtol=1e-3)
    normalized = build_preprocessor(PreprocessConfig(scaler="normalizer")).fit_transform(train)
    np.testing.assert_allclose(np.linalg.norm(normalized, axis=1), 1.0, rtol=1e-5)
    minmax = build_preprocessor(PreprocessConfig(scaler="minmax")).fit_transform(train)
    assert minmax.min() == 0.0 and minmax.max() == 1.0


def test_fitted_on_training_split_only(slices):
    train, test = slices
    pre = build_preprocessor(PreprocessConfig(scaler="standard")).fit(train)
    scaler = pre.named_steps["scale"]
    np.testing.assert_allclose(scaler.mean_, train.reshape(600, -1).mean(axis=0), rtol=1e-5, atol=1e-4)
    expected = (test.reshape(200, -1) - scaler.mean_) / scaler.scale_
    np.testing.assert_allclose(pre.transform(test), expected, rtol=1e-4, atol=1e-4)
    # The test split is scaled with the training statistics, so its mean is not exactly zero.
    assert np.abs(pre.transform(test).mean(axis=0)).max() > 0.05


def test_flat_and_square_images_give_the_same_features(slices):
    train, test = slices
    pre = build_preprocessor(PreprocessConfig(scaler="standard", pca_components=20)).fit(train.reshape(600, 784))
    np.testing.assert_array_equal(pre.transform(test), pre.transform(test.reshape(200, 784)))


def test_pca_and_kmeans_shapes(slices):
    train, test = slices
    pre = build_preprocessor(PreprocessConfig(scaler="standard", pca_components=30, kmeans_clusters=12))
    out = pre.fit_transform(train)
    assert out.shape == (600, 42) and out.dtype == np.float32
    assert pre.transform(test).shape == (200, 42)
    distances = out[:, 30:]
    assert (distances >= 0).all()
    # Each sample's nearest centroid is its k-means cluster.
    kmeans = pre.named_steps["clusters"].transformer_list[1][1]
    np.testing.assert_array_equal(distances.argmin(axis=1), kmeans.predict(out[:, :30]))


def test_pca_variance_fraction(slices):
    train, _ = slices
    pre = build_preprocessor(PreprocessConfig(scaler="unit", pca_components=0.8))
    out = pre.fit_transform(train)
    pca = pre.named_steps["pca"]
    assert out.shape[1] == pca.n_components_ < 784
    assert pca.explained_variance_ratio_.sum() >= 0.8


def test_same_seed_same_features_and_pipeline_pickles(slices):
    train, test = slices
    config = PreprocessConfig(scaler="unit", kmeans_clusters=8, random_state=5)
    first = build_preprocessor(config).fit(train)
    second = clone(first).fit(train)
    np.testing.assert_array_equal(first.transform(test), second.transform(test))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.transform(test), first.transform(test))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scaler": "robust"}, "unknown scaler 'robust'"),
        ({"pca_components": 0}, "pca_components=0"),
        ({"pca_components": 1.0}, "pca_components=1.0"),
        ({"kmeans_clusters": 1}, "kmeans_clusters=1"),
        ({"kmeans_clusters": 4.5}, "kmeans_clusters=4.5"),
    ],
)
def test_bad_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        PreprocessConfig(**kwargs)


def test_rejects_a_single_image_vector():
    with pytest.raises(ConfigError, match=r"expected images \(N, 28, 28\)"):
        build_preprocessor().fit(np.zeros(784, dtype=np.uint8))
