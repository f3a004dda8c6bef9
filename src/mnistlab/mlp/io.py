"""Save and load a fitted MLPClassifier as .npz: weights, biases, config, classes, history.

Written through a temporary file in the same directory and `os.replace`, so a crash never
leaves half a model; read with `allow_pickle=False`, so a model file cannot run code.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.fileio import save_npz_atomic
from mnistlab.mlp.config import MLPConfig, validate_config
from mnistlab.mlp.history import History
from mnistlab.mlp.network import Params

FORMAT = "mnistlab-mlp"
FORMAT_VERSION = 1
REQUIRED = ("format_version", "config_json", "classes", "n_features_in", "epochs_done", "n_layers")


def save_model(model, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write fitted `model` (an MLPClassifier) to `path` atomically; return the path.

    `metadata` is any JSON-ready dict stored beside the weights (the CLI keeps the dataset and
    preprocessing there); `MLPClassifier.load` returns it as `model.metadata_`.
    """
    check_is_fitted(model, "coefs_")
    path = Path(path)
    classes = np.asarray(model.classes_)
    classes_kind = "str" if classes.dtype.kind in "OUS" else "num"
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "config_json": np.array(json.dumps(model.config.to_dict())),
        "classes": classes.astype(str) if classes_kind == "str" else classes,
        "classes_kind": np.array(classes_kind),
        "n_features_in": np.array(model.n_features_in_),
        "targets_kind": np.array(model._targets.kind),
        "epochs_done": np.array(len(model.history_)),
        "n_layers": np.array(len(model.coefs_)),
        "metadata_json": np.array(json.dumps(metadata or {})),
    }
    for l, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"weights_{l}"] = W
        arrays[f"biases_{l}"] = b
    for name, values in model.history_.as_arrays().items():
        arrays[f"history__{name}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_npz_atomic(path, **arrays)


@dataclass
class SavedModel:
    """What a model file holds: the config, classes, learned parameters, history and metadata."""

    config: MLPConfig
    classes: np.ndarray
    n_features: int
    epochs_done: int
    params: Params
    history: History
    metadata: dict
    targets_kind: str | None = None
    """"binary", "multiclass" or "multilabel"; None in files older than that distinction."""


def read_model(path: str | os.PathLike) -> SavedModel:
    """Read a model file written by `save_model` (`MLPClassifier.load` builds the estimator from it).

    Raises ModelFileError if `path` is missing or is not an mnistlab MLP model file.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}; train one with `mnistlab mlp train` or MLPClassifier.save")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = dict(data.items())
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{path} is not a readable .npz model file ({exc}); re-save the model") from exc
    if files.get("format") is None or str(files["format"]) != FORMAT:
        raise ModelFileError(f"{path} is not an mnistlab MLP model (no '{FORMAT}' marker); "
                             "use a model.npz written by `mnistlab mlp train`")
    try:
        saved = _checked_contents(files)
    except (ValueError, TypeError, KeyError, ConfigError) as exc:  # ConfigError: a broken config_json
        raise ModelFileError(f"{path} is damaged: {exc}; retrain the model or use an intact copy") from None
    return saved


def _scalar_int(files: dict[str, np.ndarray], key: str, low: int) -> int:
    value = files[key]
    if value.shape != () or value.dtype.kind not in "iu" or int(value) < low:
        raise ValueError(f"{key} is {value!r}, not an integer >= {low}")
    return int(value)


def _json_field(files: dict[str, np.ndarray], key: str) -> dict:
    try:
        value = json.loads(str(files[key]))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{key} is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{key} holds a JSON {type(value).__name__}, not an object")
    return value


def _checked_contents(files: dict[str, np.ndarray]) -> SavedModel:
    """The SavedModel in `files`, after checking every array is there and agrees with the others."""
    missing = [k for k in REQUIRED if k not in files]
    if missing:
        raise ValueError(f"array(s) {', '.join(missing)} missing")
    version = _scalar_int(files, "format_version", 1)
    if version > FORMAT_VERSION:
        raise ModelFileError(f"model format {version} is newer than this mnistlab reads ({FORMAT_VERSION}); "
                             "upgrade mnistlab")
    cfg = MLPConfig.from_dict(_json_field(files, "config_json"))
    validate_config(cfg)
    n_layers = _scalar_int(files, "n_layers", 1)
    n_features = _scalar_int(files, "n_features_in", 1)
    epochs_done = _scalar_int(files, "epochs_done", 0)
    kind = str(files["targets_kind"]) if "targets_kind" in files else None
    classes = files["classes"]
    if classes.ndim != 1 or len(classes) < (1 if kind == "multilabel" else 2) or len(np.unique(classes)) != len(classes):
        raise ValueError(f"classes must list distinct labels (at least 2), got {classes.tolist()!r}")
    if n_layers != len(cfg.hidden_sizes) + 1:
        raise ValueError(f"n_layers is {n_layers} but the config has {len(cfg.hidden_sizes)} hidden layer(s)")
    n_outputs = 1 if kind == "binary" else len(classes)  # binary: one logistic unit (mlp/targets.py)
    sizes = [n_features, *cfg.hidden_sizes, n_outputs]
    weights, biases = [], []
    for l in range(n_layers):
        for key, shape in ((f"weights_{l}", (sizes[l], sizes[l + 1])), (f"biases_{l}", (sizes[l + 1],))):
            if key not in files:
                raise ValueError(f"array {key} missing")
            array = files[key]
            if array.shape != shape or array.dtype.kind != "f":
                raise ValueError(f"{key} has shape {array.shape} ({array.dtype}), expected {shape} floats")
            if not np.isfinite(array).all():
                raise ValueError(f"{key} holds NaN or infinite values")
            (weights if key.startswith("w") else biases).append(array)
    history = History.from_arrays({k.removeprefix("history__"): v for k, v in files.items()
                                   if k.startswith("history__")})
    metadata = _json_field(files, "metadata_json") if "metadata_json" in files else {}
    return SavedModel(config=cfg, classes=classes, n_features=n_features, epochs_done=epochs_done,
                      params=Params(weights, biases), history=history, metadata=metadata, targets_kind=kind)
