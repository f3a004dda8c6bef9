"""IDX reading and writing: round trips, and one clear error per kind of broken file."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from mnistlab.data.idx import encode_idx, parse_idx, read_idx, write_idx
from mnistlab.errors import DataError


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7, 28, 28), (7,)])
def test_round_trip_plain_and_gzip(tmp_path, suffix, shape):
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    path = write_idx(tmp_path / f"data{suffix}", array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    result = read_idx(path, len(shape))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, array)


def test_header_layout_matches_the_idx_format():
    data = encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))
    assert struct.unpack(">IIII", data[:16]) == (0x00000803, 3, 28, 28)
    assert len(data) == 16 + 3 * 28 * 28


def test_gzip_is_detected_by_content_not_name(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-without-gz-suffix"
    path.write_bytes(gzip.compress(encode_idx(labels)))
    np.testing.assert_array_equal(read_idx(path, 1), labels)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short"),
        (struct.pack(">I", 0x00000801) + struct.pack(">I", 5) + bytes(5), "magic number 0x00000801, expected 0x00000803"),
        (struct.pack(">II", 0x00000803, 2), "truncated inside its IDX header"),
        (struct.pack(">IIII", 0x00000803, 2, 28, 28) + bytes(100), "truncated"),
        (struct.pack(">IIII", 0x00000803, 1, 28, 28) + bytes(28 * 28 + 3), "longer than its header says"),
        (struct.pack(">IIII", 0x00000c03, 1, 28, 28) + bytes(28 * 28), "magic number 0x00000c03"),
    ],
)
def test_broken_idx_gives_one_line_naming_file_and_fix(data, message):
    with pytest.raises(DataError, match=message) as info:
        parse_idx(data, 3, source="some/train-images-idx3-ubyte")
    text = str(info.value)
    assert "\n" not in text
    assert "some/train-images-idx3-ubyte" in text
    assert "mnistlab data fetch" in text and "--data-dir" in text


def test_truncated_gzip(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(np.arange(1000, dtype=np.uint8) % 10))[:-30])
    with pytest.raises(DataError, match="corrupt or truncated gzip") as info:
        read_idx(path, 1)
    assert str(path) in str(info.value)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    good = gzip.compress(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8)))
    path.write_bytes(good[:10] + b"\xff" * 20 + good[30:])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(path, 3)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read .*nothing-here"):
        read_idx(tmp_path / "nothing-here", 1)


def test_real_fashion_labels_read(tmp_path):
    from mnistlab.data.sources import DEBIAN_FASHION_DIR

    path = DEBIAN_FASHION_DIR / "t10k-labels-idx1-ubyte.gz"
    if not path.is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    labels = read_idx(path, 1)
    assert labels.shape == (10000,)
    assert labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(labels).tolist() == [1000] * 10
