"""The one atomic writer: whole files or none, the usual mode, no temporary file left, stale ones swept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from matplotlib.figure import Figure

from mnistlab import fileio


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with fileio.atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    with fileio.atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask(), "the usual mode, not mkstemp's 0600"


@pytest.mark.parametrize("kind", ["text", "bytes", "json", "npz", "figure", "path"])
def test_every_writer_gives_a_whole_file_with_the_usual_mode(tmp_path, kind):
    target = tmp_path / f"out.{kind}"
    if kind == "text":
        fileio.write_text_atomic(target, "héllo\n")
        assert target.read_text(encoding="utf-8") == "héllo\n"
    elif kind == "bytes":
        fileio.write_bytes_atomic(target, b"\x00\x01")
        assert target.read_bytes() == b"\x00\x01"
    elif kind == "json":
        fileio.write_json_atomic(target, {"a": np.float32(0.5), "p": tmp_path})
        assert '"a": 0.5' in target.read_text()
    elif kind == "npz":
        fileio.save_npz_atomic(target, w=np.arange(3))
        with np.load(target) as data:
            assert data["w"].tolist() == [0, 1, 2]
    elif kind == "figure":
        fig = Figure()
        fig.add_subplot().plot([0, 1])
        fileio.save_figure_atomic(fig, target)
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        with fileio.atomic_path(target, ext=".keras") as tmp:
            assert tmp.parent == tmp_path and tmp.name.endswith(".tmp.keras")
            tmp.write_text("model")
        assert target.read_text() == "model"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "no temporary file left"


def test_a_failed_figure_leaves_no_file(tmp_path):
    class Broken:
        def savefig(self, fh, **kwargs):
            fh.write(b"half a png")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        fileio.save_figure_atomic(Broken(), tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".train.npz.mnistlab-{dead_pid}-ab12cd34.tmp"
    live = fileio.temp_path_for(tmp_path / "test.npz")          # this process: a write in progress
    legacy_old = tmp_path / ".model.k3j_x9a2.keras"              # mkstemp name of an older mnistlab
    legacy_new = tmp_path / ".train.npz.zz_99abc.tmp"
    not_ours = tmp_path / ".bashrc.tmp"
    nested = tmp_path / "run-1" / f".model.keras.mnistlab-{dead_pid}-00ff00ff.tmp.keras"
    nested.parent.mkdir()
    for path in (stale, live, legacy_old, legacy_new, not_ours, nested):
        path.write_bytes(b"x")
    hour_ago = time.time() - 2 * fileio.LEGACY_STALE_SECONDS
    os.utime(legacy_old, (hour_ago, hour_ago))
    removed = fileio.remove_stale_temp_files(tmp_path, recursive=True)
    assert sorted(p.name for p in removed) == sorted([stale.name, legacy_old.name, nested.name])
    assert live.exists() and legacy_new.exists() and not_ours.exists()


def test_write_failure_reasons_are_short():
    assert fileio.describe_os_error(OSError(28, "No space left on device")) == "no space left on device"
    import errno

    assert "file-size limit" in fileio.describe_os_error(OSError(errno.EFBIG, "File too large"))
