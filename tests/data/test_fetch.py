"""Filling the cache: source order, verification, atomic writes, download, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from idxfiles import make_split, write_idx_dir

from mnistlab.data import cache, catalog, load, sources
from mnistlab.data.fetch import cache_report, fetch
from mnistlab.data.idx import write_idx
from mnistlab.errors import DataError


def cache_files(cache_dir):
    """Every file under the cache, temporary ones included."""
    return sorted(path.relative_to(cache_dir).as_posix() for path in cache_dir.rglob("*") if path.is_file())


def test_user_directory_fills_cache_then_cache_is_used(tmp_path, tiny, isolated_cache):
    directory = write_idx_dir(tmp_path / "idx", tiny)
    fetched = fetch("mnist", data_dir=directory)
    assert {split: item.source for split, item in fetched.items()} == {
        "train": f"{directory}/train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz",
        "test": f"{directory}/t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz",
    }
    assert cache_files(isolated_cache) == ["mnist/test.npz", "mnist/train.npz"]
    for path in (directory / "train-images-idx3-ubyte.gz", directory / "t10k-images-idx3-ubyte.gz"):
        path.unlink()
    again = fetch("mnist")
    assert {item.source for item in again.values()} == {"cache"}
    np.testing.assert_array_equal(again["train"].images, tiny["train"][0])
    dataset = load("mnist", "test")
    np.testing.assert_array_equal(dataset.labels, tiny["test"][1])
    assert dataset.images.flags.writeable


def test_checksum_mismatch_is_refused_and_nothing_is_cached(tmp_path, tiny, isolated_cache):
    images, labels = tiny["train"]
    images = images.copy()
    images[3, 4, 5] ^= 1
    directory = write_idx_dir(tmp_path / "idx", {"train": (images, labels), "test": tiny["test"]})
    with pytest.raises(DataError) as info:
        fetch("mnist", data_dir=directory)
    message = str(info.value)
    assert "\n" not in message
    assert "MNIST train from" in message and "train-images-idx3-ubyte.gz" in message
    assert "SHA-256 of the images" in message and "--data-dir" in message
    assert not any(name.startswith("mnist/train") for name in cache_files(isolated_cache))


def test_wrong_count_is_refused(tmp_path, tiny):
    directory = write_idx_dir(tmp_path / "idx", {"train": make_split(49, 1), "test": tiny["test"]})
    with pytest.raises(DataError, match="49 images, expected 50"):
        fetch("mnist", ("train",), data_dir=directory)


def test_other_dataset_is_named_in_the_error(tmp_path, tiny, monkeypatch):
    images, labels = tiny["test"]
    expected = catalog.EXPECTED[("mnist", "test")]
    monkeypatch.setitem(catalog.EXPECTED, ("fashion-mnist", "test"), expected)
    monkeypatch.setitem(catalog.EXPECTED, ("mnist", "test"), catalog.Expected(20, "0" * 64, "0" * 64))
    directory = write_idx_dir(tmp_path / "idx", {"test": (images, labels)})
    with pytest.raises(DataError, match=r"\(these are Fashion-MNIST test\)"):
        fetch("mnist", ("test",), data_dir=directory)


def test_corrupt_file_in_data_dir_is_reported_not_skipped(tmp_path, tiny):
    directory = write_idx_dir(tmp_path / "idx", tiny)
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz is a corrupt or truncated gzip"):
        fetch("mnist", data_dir=directory)


def test_no_source_offline(no_registry, isolated_cache):
    with pytest.raises(DataError) as info:
        fetch("mnist")
    message = str(info.value)
    assert message.startswith(
        "no source has MNIST train/test (could not download MNIST train "
        "(http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz: [Errno 111] Connection refused))"
    )
    assert "--data-dir" in message and "mnistlab data fetch" in message and "\n" not in message
    assert cache_files(isolated_cache) == []


def test_offline_flag_skips_download(no_registry):
    with pytest.raises(DataError, match=r"no source has Fashion-MNIST test \(downloading is off\)"):
        fetch("fashion-mnist", ("test",), allow_download=False)


def test_unwritable_cache_directory(tmp_path, tiny, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache cannot be created under a file, even by root")
    monkeypatch.setenv(cache.ENV_VAR, str(blocker / "cache"))
    directory = write_idx_dir(tmp_path / "idx", tiny)
    with pytest.raises(cache.CacheWriteError, match=f"cannot write the dataset cache at {blocker}/cache/mnist .*MNISTLAB_DATA_DIR"):
        fetch("mnist", data_dir=directory)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [(OSError(28, "No space left on device"), cache.CacheWriteError), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_failed_write_leaves_no_file(tmp_path, tiny, isolated_cache, monkeypatch, failure, expected):
    def broken_savez(stream, **arrays):
        stream.write(b"half of an archive")
        raise failure

    monkeypatch.setattr(cache.np, "savez", broken_savez)
    directory = write_idx_dir(tmp_path / "idx", tiny)
    with pytest.raises(expected):
        fetch("mnist", ("test",), data_dir=directory)
    assert cache_files(isolated_cache) == []


@pytest.mark.parametrize("damage", ["garbage", "wrong-data"])
def test_corrupt_cache_file_is_replaced_from_a_source(tmp_path, tiny, isolated_cache, damage):
    directory = write_idx_dir(tmp_path / "idx", tiny)
    fetch("mnist", ("test",), data_dir=directory)
    path = cache.split_path(isolated_cache, "mnist", "test")
    if damage == "garbage":
        path.write_bytes(b"PK\x03\x04 not an archive")
    else:
        images, labels = tiny["test"]
        cache.write_split(path, images, labels[::-1].copy())
    assert [entry.status for entry in cache_report() if entry.name == "mnist" and entry.split == "test"] == ["corrupt"]
    refetched = fetch("mnist", ("test",), data_dir=directory)
    assert refetched["test"].source != "cache"
    np.testing.assert_array_equal(load("mnist", "test").labels, tiny["test"][1])


def test_registry_copy_is_used_when_there_is_no_data_dir(tmp_path, tiny, monkeypatch, isolated_cache):
    debian = write_idx_dir(tmp_path / "debian", tiny)
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", debian)
    for split in ("train", "test"):
        monkeypatch.setitem(catalog.EXPECTED, ("fashion-mnist", split), catalog.EXPECTED[("mnist", split)])
    fetched = fetch("fashion-mnist", ("test",))
    assert list(fetched) == ["test"] and fetched["test"].source.startswith(str(debian))
    # The other split of the offline copy is cached on the way.
    assert cache_files(isolated_cache) == ["fashion-mnist/test.npz", "fashion-mnist/train.npz"]
    assert fetch("fashion-mnist")["train"].source == "cache"


def test_download_from_local_mirror(tiny, local_mirror, monkeypatch, isolated_cache):
    root, base_url = local_mirror
    write_idx_dir(root / "mnist", tiny)
    monkeypatch.setenv("MNISTLAB_MIRROR", base_url)
    fetched = fetch("mnist")
    assert fetched["test"].source == f"{base_url}/mnist/t10k-images-idx3-ubyte.gz"
    assert cache_files(isolated_cache) == ["mnist/test.npz", "mnist/train.npz"]
    np.testing.assert_array_equal(load("mnist", "train").images, tiny["train"][0])


def test_download_tries_the_next_mirror(tiny, local_mirror):
    root, base_url = local_mirror
    write_idx_dir(root / "good", tiny)
    fetched = fetch("mnist", ("test",), mirrors=[f"{base_url}/missing/", f"{base_url}/good"])
    assert fetched["test"].source == f"{base_url}/good/t10k-images-idx3-ubyte.gz"


def test_download_errors_name_each_mirror(tiny, local_mirror):
    root, base_url = local_mirror
    directory = write_idx_dir(root / "broken", tiny)
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", tiny["test"][1][:5])
    with pytest.raises(DataError) as info:
        fetch("mnist", ("test",), mirrors=[f"{base_url}/missing/", f"{base_url}/broken/"])
    message = str(info.value)
    assert f"{base_url}/missing/t10k-images-idx3-ubyte.gz: HTTP 404" in message
    assert "has 20 images but" in message and "has 5 labels" in message


def test_broken_registry_copy_falls_through_to_download(tmp_path, tiny, local_mirror, monkeypatch):
    debian = write_idx_dir(tmp_path / "debian", {"test": tiny["test"]})
    (debian / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", debian)
    monkeypatch.setitem(catalog.EXPECTED, ("fashion-mnist", "test"), catalog.EXPECTED[("mnist", "test")])
    with pytest.raises(DataError, match=r"the offline copy: .*t10k-labels-idx1-ubyte.gz is a corrupt or truncated gzip"):
        fetch("fashion-mnist", ("test",))
    root, base_url = local_mirror
    write_idx_dir(root, {"test": tiny["test"]})
    fetched = fetch("fashion-mnist", ("test",), mirrors=[base_url])
    assert fetched["test"].source == f"{base_url}/t10k-images-idx3-ubyte.gz"


def test_mirror_with_other_data_is_refused(tiny, local_mirror, isolated_cache):
    root, base_url = local_mirror
    images, labels = tiny["test"]
    write_idx_dir(root, {"test": (images[::-1].copy(), labels)})
    with pytest.raises(DataError, match=r"MNIST test from http://127.0.0.1:\d+/t10k-images-idx3-ubyte.gz: SHA-256 of the images"):
        fetch("mnist", ("test",), mirrors=[base_url])
    assert cache_files(isolated_cache) == []
