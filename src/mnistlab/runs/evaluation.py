"""Score a trained model, MLP or CNN, from its run directory or its model file.

`evaluate_run` is what `mnistlab mlp eval` and `mnistlab cnn eval` do: accuracy, accuracy per
class and the confusion matrix on a dataset split, as one JSON-ready dict. The model's kind
(`mnistlab.runs.kinds`) loads it and scores it, with the preprocessing it was trained with.

>>> result = evaluate_run("runs/20250101-120000-mlp-mnist")  # doctest: +SKIP
>>> result["accuracy"], result["per_class_accuracy"]["7"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from mnistlab.data.catalog import check_split
from mnistlab.errors import ModelFileError
from mnistlab.runs.kinds import KINDS, ModelKind
from mnistlab.runs.kinds.base import run_dataset

__all__ = ["evaluate_run", "evaluation_lines", "model_file", "run_dataset"]


def model_file(run_dir_or_model: str | os.PathLike) -> tuple[Path, ModelKind]:
    """The model file of a run directory (or the model file itself) and the kind it belongs to."""
    path = Path(run_dir_or_model)
    names = " or ".join(kind.model_file for kind in KINDS.values())
    if path.is_dir():
        for kind in KINDS.values():
            if (path / kind.model_file).is_file():
                return path / kind.model_file, kind
        raise ModelFileError(f"{path} holds no {names}; pass a run directory of a finished training "
                             "(`mnistlab mlp train`, `mnistlab cnn train`) or a model file")
    for kind in KINDS.values():
        if path.suffix == Path(kind.model_file).suffix:
            return path, kind
    raise ModelFileError(f"{path} is not a model file ({names}); pass a model file or a run directory")


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
    dataset, scores, class_names = kind.evaluate(path, dataset=dataset, split=split, backend=backend)
    per_class = {name: (None if math.isnan(value) else float(value))
                 for name, value in zip(class_names, scores.per_class_accuracy)}
    return {"model": str(path), "kind": kind.name, "dataset": dataset, "split": split,
            "n_images": int(scores.confusion.sum()), "accuracy": scores.accuracy,
            "per_class_accuracy": per_class, "confusion_matrix": scores.confusion.tolist()}


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
