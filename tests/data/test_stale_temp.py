"""Temporary files of killed fetches are removed on the next start (only ours, only dead writers')."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from mnistlab.data import cache, download


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_caching_a_split_sweeps_the_leftovers_of_a_killed_fetch(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    leftover = folder / f".train.npz.mnistlab-{_dead_pid()}-0badc0de.tmp"
    leftover.write_bytes(b"\0" * 4096)  # a killed fetch's 47 MB, in small
    unrelated = folder / "notes.txt"
    unrelated.write_text("mine")
    cache.write_split(folder / "test.npz", np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8))
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "test.npz"]


def test_download_folders_of_dead_fetches_are_removed(tmp_path):
    dead = tmp_path / f"{download.WORKDIR_PREFIX}{_dead_pid()}-abc"
    live = tmp_path / f"{download.WORKDIR_PREFIX}{os.getpid()}-abc"
    other = tmp_path / "mnistlab-download-notapid-x"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    download.remove_stale_download_dirs(tmp_path)
    assert not dead.exists() and live.exists() and other.exists()
