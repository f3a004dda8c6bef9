"""Download a dataset's IDX files from its public mirrors (urllib, with a timeout).

The mirror list comes from, in order: the `mirrors` argument (base URLs that hold the files
directly), the environment variable MNISTLAB_MIRROR (a base URL holding `<name>/<file>`, for a
local copy of both datasets), else the canonical mirrors in `catalog.DATASETS`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from mnistlab.data import catalog
from mnistlab.data.sources import Found, read_idx_pair
from mnistlab.errors import DataError
from mnistlab.fileio import pid_alive

MIRROR_ENV_VAR = "MNISTLAB_MIRROR"
DEFAULT_TIMEOUT = 30.0
CHUNK = 1 << 16
WORKDIR_PREFIX = "mnistlab-download-"  # then "<pid>-<random>", so a dead fetch's folder can be told apart


def mirror_urls(name: str, mirrors: Sequence[str] | None = None) -> list[str]:
    """Base URLs (ending in "/") to try for dataset `name`, in order."""
    if mirrors is not None:
        bases = list(mirrors)
    elif os.environ.get(MIRROR_ENV_VAR):
        bases = [os.environ[MIRROR_ENV_VAR].rstrip("/") + f"/{name}/"]
    else:
        bases = list(catalog.get_spec(name).mirrors)
    return [base if base.endswith("/") else base + "/" for base in bases]


def download_file(url: str, target: Path, *, timeout: float = DEFAULT_TIMEOUT, progress: bool = False) -> Path:
    """Stream `url` to `target`; raises urllib/OS errors for the caller to report."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress, leave=False) as bar:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
    return target


def remove_stale_download_dirs(parent: Path | None = None) -> None:
    """Delete the download folders that killed fetches left in the temporary directory (dead pid only)."""
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    for folder in parent.glob(f"{WORKDIR_PREFIX}*-*"):
        pid = folder.name.removeprefix(WORKDIR_PREFIX).split("-")[0]
        if folder.is_dir() and not folder.is_symlink() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def download_split(
    name: str,
    split: str,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
) -> Found:
    """Download and read one split's IDX files from the first mirror that serves both.

    Raises a one-line DataError listing each mirror's failure when none works. The files go to
    a temporary directory that is removed afterwards; the caller verifies and caches the arrays.
    """
    spec = catalog.get_spec(name)
    filenames = spec.idx_filenames(split)
    failures = []
    remove_stale_download_dirs()
    for base in mirror_urls(name, mirrors):
        workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
        url = base + filenames[0]
        try:
            paths = []
            for filename in filenames:
                url = base + filename
                paths.append(download_file(url, workdir / filename, timeout=timeout, progress=progress))
            found = read_idx_pair(*paths)
            return Found(found.images, found.labels, base + filenames[0])
        except urllib.error.HTTPError as exc:
            exc.close()
            failures.append(f"{url}: HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            failures.append(f"{url}: {_reason(exc)}")
        except DataError as exc:
            failures.append(f"{base}: {str(exc).split('; ')[0]}")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    raise DataError(f"could not download {spec.title} {split} ({'; '.join(failures)})")
