"""Read and write IDX files (the MNIST file format), plain or gzip-compressed.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values. MNIST-like files store uint8 values:
images as (N, rows, cols) with magic 0x00000803, labels as (N,) with magic 0x00000801.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from mnistlab.errors import DataError
from mnistlab.fileio import write_bytes_atomic

UBYTE = 0x08
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
GZIP_MAGIC = b"\x1f\x8b"
FIX = "run `mnistlab data fetch` or pass --data-dir a directory with the standard IDX files"


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The contents of `path`, decompressed if it is gzip (detected from its first bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; {FIX}") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is a corrupt or truncated gzip file ({exc}); {FIX}") from None


def parse_idx(data: bytes, ndim: int, source: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes holding uint8 values with `ndim` dimensions into an array.

    Parameters
    ----------
    data : bytes
        The whole (decompressed) file.
    ndim : int
        Expected number of dimensions: 3 for images (N, rows, cols), 1 for labels (N,).
    source : str
        File name used in error messages.

    Returns
    -------
    numpy.ndarray of uint8 with `ndim` dimensions (a writable copy).
    """
    kind = "image" if ndim == 3 else "label"
    expected_magic = (UBYTE << 8) | ndim
    if len(data) < 4:
        raise DataError(f"{source} is too short to be an IDX {kind} file ({len(data)} bytes); {FIX}")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        raise DataError(
            f"{source} is not an IDX {kind} file (magic number 0x{magic:08x}, expected "
            f"0x{expected_magic:08x}); {FIX}"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{source} is truncated inside its IDX header; {FIX}")
    dims = struct.unpack(f">{ndim}I", data[4:header_size])
    n_values = int(np.prod(dims, dtype=np.int64))
    n_bytes = len(data) - header_size
    if n_bytes != n_values:
        problem = "truncated" if n_bytes < n_values else "longer than its header says"
        raise DataError(
            f"{source} is {problem}: header gives shape {dims} ({n_values} bytes) but "
            f"{n_bytes} bytes follow; {FIX}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims).copy()


def read_idx(path: str | os.PathLike[str], ndim: int) -> np.ndarray:
    """Read an IDX file (plain or gzip) of uint8 values with `ndim` dimensions.

    Examples
    --------
    >>> labels = read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 1)
    >>> labels.shape
    (10000,)
    """
    return parse_idx(read_file_bytes(path), ndim, source=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array (1 to 3 dimensions) as IDX bytes."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"IDX encoding supports uint8 only, got {array.dtype}")
    header = struct.pack(">I", (UBYTE << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file; gzip it when `compress` is True (default: path ends in .gz)."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    write_bytes_atomic(path, data)
    return path
