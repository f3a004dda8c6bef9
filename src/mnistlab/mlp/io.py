"""Save and load a fitted MLPClassifier as .npz: weights, biases, config, classes, history.

Written through a temporary file in the same directory and `os.replace`, so a crash never
leaves half a model; read with `allow_pickle=False`, so a model file cannot run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mnistlab.errors import ModelFileError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.history import History
from mnistlab.mlp.network import Params

FORMAT = "mnistlab-mlp"
FORMAT_VERSION = 1


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    if int(files["format_version"]) > FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format {int(files['format_version'])}, newer than this mnistlab "
                             f"reads ({FORMAT_VERSION}); upgrade mnistlab")
    cfg = MLPConfig.from_dict(json.loads(str(files["config_json"])))
    n_layers = int(files["n_layers"])
    params = Params([files[f"weights_{l}"] for l in range(n_layers)], [files[f"biases_{l}"] for l in range(n_layers)])
    history = History.from_arrays({k.removeprefix("history__"): v for k, v in files.items()
                                   if k.startswith("history__")})
    metadata = json.loads(str(files["metadata_json"])) if "metadata_json" in files else {}
    kind = str(files["targets_kind"]) if "targets_kind" in files else None
    return SavedModel(config=cfg, classes=files["classes"], n_features=int(files["n_features_in"]),
                      epochs_done=int(files["epochs_done"]), params=params, history=history, metadata=metadata,
                      targets_kind=kind)
