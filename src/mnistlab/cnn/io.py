"""Save and load CNN models in Keras' native `.keras` format, never leaving half a file behind."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from mnistlab.cnn.backend import import_keras
from mnistlab.errors import ModelFileError
from mnistlab.fileio import atomic_path


def save_model(model: Any, path: str | os.PathLike) -> Path:
    """Write `model` to `path` (must end in .keras) through a temporary file and an atomic rename.

    An interruption (Ctrl-C, a full disk) leaves any previous file at `path` untouched.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"a CNN model file must end in .keras, got {path.name}; e.g. {path.with_suffix('.keras')}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, ext=".keras") as tmp:  # Keras insists on the .keras suffix
        model.save(tmp)
    return path


def load_model(path: str | os.PathLike, *, backend: str | None = None, compile: bool = False) -> Any:
    """Load a `.keras` model with Keras' safe mode (no arbitrary code from the file).

    Raises ModelFileError when the file is missing or is not a Keras model archive.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; pass the model.keras of a CNN run")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a Keras model file (.keras archives are zip files); "
                             f"pass the model.keras written by `mnistlab cnn train`")
    keras = import_keras(backend)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=compile)  # compile: optimiser state too
    except Exception as exc:  # Keras raises ValueError, KeyError, OSError... for damaged archives
        raise ModelFileError(f"{path} could not be read as a Keras model ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); retrain or re-save it") from None
