"""The local dataset cache: where it lives, and atomic reads and writes of verified splits.

Layout: `<cache>/<name>/<split>.npz`, an uncompressed NumPy archive holding `images` uint8
(N, 28, 28) and `labels` uint8 (N,). A file is written to a temporary name in the same
directory and renamed into place only after it was verified, so the cache never holds a
half-written or unverified split.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from mnistlab.errors import DataError
from mnistlab.fileio import describe_os_error, remove_stale_temp_files, save_npz_atomic

ENV_VAR = "MNISTLAB_DATA_DIR"
WRITABLE_FIX = f"set {ENV_VAR} to a writable directory"


class CacheWriteError(DataError):
    """The cache directory cannot be created or written."""


def default_cache_dir() -> Path:
    """The cache directory: $MNISTLAB_DATA_DIR, else $XDG_CACHE_HOME/mnistlab, else ~/.cache/mnistlab."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "mnistlab"
    return Path.home() / ".cache" / "mnistlab"


def split_path(cache_dir: Path, name: str, split: str) -> Path:
    """Path of the cached archive of one split."""
    return cache_dir / name / f"{split}.npz"


def read_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read (images, labels) from a cached archive; DataError if it is unreadable."""
    try:
        # Opened here so the file is closed even when NumPy rejects its contents.
        with open(path, "rb") as stream, np.load(stream, allow_pickle=False) as archive:
            return archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cache file {path} is unreadable ({exc}); delete it and run `mnistlab data fetch`") from None


def write_split(path: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Atomically write (images, labels) to `path`: a temporary file in the same directory, then rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheWriteError(f"cannot write the dataset cache at {path.parent} ({describe_os_error(exc)}); "
                              f"{WRITABLE_FIX}") from None
    remove_stale_temp_files(path.parent)
    try:
        return save_npz_atomic(path, images=images, labels=labels)
    except OSError as exc:
        raise CacheWriteError(f"cannot write the dataset cache file {path} ({describe_os_error(exc)}); "
                              f"{WRITABLE_FIX}") from None
