"""The one way mnistlab writes a file: atomically, with the usual permissions, nothing half-written.

Every writer goes to a temporary file in the target's own directory (so the final rename never
crosses file systems), flushes and fsyncs it, and `os.replace`s it onto the target. Any exception,
Ctrl-C included, removes the temporary file and leaves an older target untouched. Files get
0666 minus the umask, as `open()` would give, not mkstemp's 0600.

Temporary names are ``.<target>.mnistlab-<pid>-<random>.tmp[<ext>]``: hidden, recognisably ours,
and carrying the writing process's id, so `remove_stale_temp_files` can tell the leftovers of a
killed process from a write in progress.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mnistlab.errors import ConfigError, OutputError

# The process's umask, read once at import (reading it means setting it) while no thread writes files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK

_TEMP_RE = re.compile(r"^\..+\.mnistlab-(?P<pid>\d+)-[0-9a-f]+\.tmp(\.[A-Za-z0-9]+)?$")
# mkstemp names of mnistlab before this module (".train.npz.k3j_x9a2.tmp", ".model.ab12cd34.keras"):
# no pid, so they count as stale once they are older than LEGACY_STALE_SECONDS.
_LEGACY_TEMP_RE = re.compile(r"^\.[^/]+\.[A-Za-z0-9_]{8}\.(tmp|keras|png)$")
LEGACY_STALE_SECONDS = 3600.0
STALE_SECONDS = 24 * 3600.0  # a live pid this old is a reused pid, not a write in progress


def temp_path_for(path: str | os.PathLike, ext: str = "") -> Path:
    """A fresh temporary name beside `path` (`ext`, e.g. ".keras", for writers that check the suffix)."""
    path = Path(path)
    return path.with_name(f".{path.name}.mnistlab-{os.getpid()}-{secrets.token_hex(4)}.tmp{ext}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some file systems cannot open a directory, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, ext: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer that wants a file name (Keras, savefig).

    When the block ends without error the file is fsynced, given the usual mode and renamed to
    `path`; on any exception it is removed and `path` is left as it was.
    """
    path = Path(path)
    tmp = temp_path_for(path, ext)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", *, durable: bool = True,
                 **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path` (mode "w" or "wb", open()'s keywords); rename it on success.

    Readers never see half a file, and an error or Ctrl-C leaves any older `path` untouched.
    `durable=False` skips the fsyncs: the file survives a killed process but maybe not a power
    cut (for frequent, replaceable files such as checkpoints, where an fsync costs more than the write).

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_write(target) as fh:
    ...     _ = fh.write("hello")
    >>> target.read_text()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes whole files; mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8", *, durable: bool = True) -> Path:
    """Write `text` to `path` atomically; return the path."""
    with atomic_write(path, "w", durable=durable, encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically; return the path."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json_atomic(path: str | os.PathLike, payload: Any, *, durable: bool = True) -> Path:
    """Write `payload` as indented JSON (NumPy values and paths converted) atomically; return the path."""
    text = json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n"
    return write_text_atomic(path, text, durable=durable)


def save_npz_atomic(path: str | os.PathLike, *, durable: bool = True, **arrays: Any) -> Path:
    """Write `arrays` as an uncompressed .npz archive atomically; return the path."""
    import numpy as np  # the one writer that needs NumPy; keeps this module importable from the lowest layer

    with atomic_write(path, "wb", durable=durable) as fh:
        np.savez(fh, **arrays)
    return Path(path)


def save_figure_atomic(figure: Any, path: str | os.PathLike, **savefig_kwargs: Any) -> Path:
    """Save a Matplotlib figure as PNG atomically; return the path."""
    savefig_kwargs.setdefault("format", "png")
    with atomic_write(path, "wb") as fh:
        figure.savefig(fh, **savefig_kwargs)
    return Path(path)


def pid_alive(pid: int) -> bool:
    """True while process `pid` exists (on this machine)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def is_stale_temp_file(path: Path, now: float | None = None) -> bool:
    """True for a temporary file of ours whose writer is gone (dead pid, or too old to be in progress)."""
    now = time.time() if now is None else now
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    match = _TEMP_RE.match(path.name)
    if match:
        return not pid_alive(int(match["pid"])) or age > STALE_SECONDS
    return bool(_LEGACY_TEMP_RE.match(path.name)) and age > LEGACY_STALE_SECONDS


def remove_stale_temp_files(directory: str | os.PathLike, *, recursive: bool = False) -> list[Path]:
    """Delete the temporary files killed writers left in `directory` (one level below it too if
    `recursive`); return what was removed. Only our own names are touched, never a live write."""
    directory = Path(directory)
    removed = []
    try:
        candidates = list(directory.glob("*/.*") if recursive else []) + list(directory.glob(".*"))
    except OSError:
        return removed
    for candidate in candidates:
        if candidate.is_file() and not candidate.is_symlink() and is_stale_temp_file(candidate):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def describe_os_error(exc: OSError) -> str:
    """A short reason for a failed write ("no space left on device", "read-only file system"...)."""
    if exc.errno == errno.EFBIG:
        return "a file-size limit was reached"
    reason = exc.strerror or type(exc).__name__
    return reason[0].lower() + reason[1:] if reason else str(exc)


def safe_dirname(label: str, max_length: int = 64) -> str:
    """A bounded, filesystem-safe folder name for any label: letters, digits, "-", "_" and "." only.

    A label is never a path: "../../x" becomes "x", "a/b" becomes "a-b", a newline a "-".

    >>> safe_dirname("../../escaped"), safe_dirname("a/b"), safe_dirname("  "), safe_dirname("x" * 300)[-3:]
    ('escaped', 'a-b', 'run', 'xxx')
    """
    ascii_label = unicodedata.normalize("NFKD", str(label)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_label)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")[:max_length].rstrip("-._")
    return slug or "run"


def make_unique_dir(parent: str | os.PathLike, label: str) -> Path:
    """Create and return `parent/<date-time>-<safe label>`, with `-2`, `-3`... when that folder exists.

    Each try is one `os.mkdir` (never exist_ok), which exactly one of many processes asking for the
    same name wins: runs and sweeps started in the same second with the same name get distinct folders.
    `parent` must exist; OSError other than "exists" propagates.
    """
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_dirname(label)}"
    path, suffix = Path(parent) / base, 1
    while True:
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            suffix += 1
            path = Path(parent) / f"{base}-{suffix}"


def ensure_inside(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """`path` if it resolves (symlinks followed) inside `root`; else OutputError naming both."""
    resolved, base = Path(path).resolve(), Path(root).resolve()
    if resolved != base and not resolved.is_relative_to(base):
        raise OutputError(f"refusing to write {path}: it resolves to {resolved}, outside {root}; "
                          "remove the symbolic link or choose a path inside it")
    return Path(path)


def read_json_object(path: str | os.PathLike, what: str = "config file") -> dict[str, Any]:
    """The JSON object in `path`; ConfigError naming the file when it is missing, not UTF-8, not JSON
    or not an object (a list, a number...)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist; check the path") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (bad byte at offset {exc.start}); "
                          "save it as UTF-8 JSON") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read ({describe_os_error(exc)}); give a readable file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                          "fix it or write it again") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} holds a JSON {type(data).__name__}, not an object; "
                          "give a {\"key\": value, ...} object such as a run's config.json")
    return data
