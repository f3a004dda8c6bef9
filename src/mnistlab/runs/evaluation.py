"""Score a trained model, MLP or CNN, from its run directory or its model file.

`evaluate_run` is what `mnistlab mlp eval` and `mnistlab cnn eval` do: accuracy, accuracy per
class and the confusion matrix on a dataset split, as one JSON-ready dict.

>>> result = evaluate_run("runs/20250101-120000-mlp-mnist")  # doctest: +SKIP
>>> result["accuracy"], result["per_class_accuracy"]["7"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.cnn.evaluate import Evaluation, score
from mnistlab.cnn.evaluate import evaluate as evaluate_cnn
from mnistlab.cnn.io import load_model as load_cnn
from mnistlab.data import load
from mnistlab.data.catalog import DATASET_NAMES, check_split
from mnistlab.errors import ConfigError, MnistlabError, ModelFileError
from mnistlab.fileio import read_json_object
from mnistlab.mlp.estimator import MLPClassifier
from mnistlab.mlp.run import MLPRunConfig, prepare_data

MODEL_FILES = {"mlp": "model.npz", "cnn": "model.keras"}
"""The model file each kind of run leaves in its run directory."""


def model_file(run_dir_or_model: str | os.PathLike) -> tuple[Path, str]:
    """The model file and its kind ("mlp" or "cnn") of a run directory or a model file."""
    path = Path(run_dir_or_model)
    if path.is_dir():
        for kind, name in MODEL_FILES.items():
            if (path / name).is_file():
                return path / name, kind
        raise ModelFileError(f"{path} holds no model.npz or model.keras; pass a run directory of "
                             "`mnistlab mlp train` or `mnistlab cnn train`, or a model file")
    kinds = {Path(name).suffix: kind for kind, name in MODEL_FILES.items()}
    if path.suffix not in kinds:
        raise ModelFileError(f"{path} is neither an MLP model (.npz) nor a CNN model (.keras); "
                             "pass a model file or a run directory")
    return path, kinds[path.suffix]


def run_dataset(model_path: Path) -> str | None:
    """The dataset named in the config.json beside `model_path` (its run directory), or None."""
    config = model_path.parent / "config.json"
    if not config.is_file():
        return None
    dataset = read_json_object(config, "run config").get("dataset")  # a damaged one is an error, not a guess
    return dataset if dataset in DATASET_NAMES else None


def evaluate_run(run_dir_or_model: str | os.PathLike, *, dataset: str | None = None, split: str = "test",
                 backend: str | None = None) -> dict[str, Any]:
    """Accuracy, per-class accuracy and confusion matrix of a trained MLP or CNN on `dataset`'s `split`.

    `dataset` defaults to the one the model was trained on (model metadata or the run's config.json).
    `backend` picks the Keras backend a CNN is loaded with. Per-class accuracy is None for a class
    absent from the split. Keys: model, kind, dataset, split, n_images, accuracy,
    per_class_accuracy ({class name: value}), confusion_matrix (rows: true class).
    """
    check_split(split, ("test", "train"))
    path, kind = model_file(run_dir_or_model)
    if kind == "mlp":
        dataset, scores, class_names = _evaluate_mlp(path, dataset, split)
    else:
        dataset, scores, class_names = _evaluate_cnn(path, dataset, split, backend)
    per_class = {name: (None if math.isnan(value) else float(value))
                 for name, value in zip(class_names, scores.per_class_accuracy)}
    return {"model": str(path), "kind": kind, "dataset": dataset, "split": split,
            "n_images": int(scores.confusion.sum()), "accuracy": scores.accuracy,
            "per_class_accuracy": per_class, "confusion_matrix": scores.confusion.tolist()}


def _evaluate_mlp(path: Path, dataset: str | None, split: str) -> tuple[str, Evaluation, tuple[str, ...]]:
    """Refit the stored preprocessing on the training split, as in training, and score the MLP."""
    clf = MLPClassifier.load(path)
    meta = dict(clf.metadata_)
    dataset = dataset or meta.get("dataset")
    if dataset is None:
        raise ConfigError(f"{path} does not say which dataset it was trained on; "
                          f"pass --dataset {'|'.join(DATASET_NAMES)}")
    run_config = MLPRunConfig(dataset=dataset, scaler=meta.get("scaler", "standard"),
                              pca_components=meta.get("pca_components"),
                              kmeans_clusters=meta.get("kmeans_clusters"), train_size=meta.get("train_size"),
                              mlp=clf.config)
    X_train, y_train, X_test, y_test, test_set, _ = prepare_data(run_config)
    X, y = (X_test, y_test) if split == "test" else (X_train, y_train)
    if X.shape[1] != clf.n_features_in_:
        raise ConfigError(f"{path} expects {clf.n_features_in_} features but {dataset} gives {X.shape[1]}; "
                          "check the model's preprocessing")
    y_pred = np.asarray(clf.predict(X))
    return dataset, score(y, y_pred, len(test_set.class_names)), test_set.class_names


def _evaluate_cnn(path: Path, dataset: str | None, split: str,
                  backend: str | None) -> tuple[str, Evaluation, tuple[str, ...]]:
    dataset = dataset or run_dataset(path)
    if dataset is None:
        raise ConfigError("the dataset is required when the model is a file outside a run directory; "
                          "e.g. --dataset mnist")
    model = load_cnn(path, backend=backend)
    data = load(dataset, split)
    try:
        return dataset, evaluate_cnn(model, data.images, data.labels), data.class_names
    except ValueError as exc:
        raise MnistlabError(f"{path} does not take 28x28 images ({str(exc).splitlines()[0]})") from None


def evaluation_lines(result: dict[str, Any], *, confusion: bool = True) -> list[str]:
    """An `evaluate_run` result as text: accuracy, one line per class, then the confusion matrix."""
    per_class = result["per_class_accuracy"]
    width = max(len(name) for name in per_class)
    lines = [f"{result['dataset']} {result['split']}: accuracy {result['accuracy']:.2%} on {result['n_images']} images"]
    lines += [f"  {name:<{width}}  " + (f"{accuracy:.2%}" if accuracy is not None else "-")
              for name, accuracy in per_class.items()]
    if confusion:
        lines.append("confusion matrix (rows: true class, columns: predicted):")
        lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in result["confusion_matrix"]]
    return lines
