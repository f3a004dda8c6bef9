"""Small datasets the data tests generate, written as standard IDX files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnistlab.data.cache import default_cache_dir
from mnistlab.data.idx import write_idx

# The user's real cache, resolved at collection, before any test changes the environment.
REAL_CACHE_DIR = default_cache_dir()


def make_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images (n, 28, 28) and labels (n,) covering all ten classes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    return images, labels


def write_idx_dir(directory: Path, data: dict, *, gz: bool = True, stems=None) -> Path:
    """Write `data` ({split: (images, labels)}) as standard IDX files into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    stems = stems or {"train": "train", "test": "t10k"}
    ext = ".gz" if gz else ""
    for split, (images, labels) in data.items():
        write_idx(directory / f"{stems[split]}-images-idx3-ubyte{ext}", images)
        write_idx(directory / f"{stems[split]}-labels-idx1-ubyte{ext}", labels)
    return directory
