"""Unwritable or full output: one error line naming the folder, the run marked failed, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mnistlab.cli import main

TRAIN = ["mlp", "train", "--train-size", "200", "--hidden", "8", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize("runs_dir, reason", [
    ("/proc/mnistlab-x", "no such file"),
    ("/dev/null", "not a folder"),
    ("{tmp}/a-file/runs", "is a file, not a folder"),
])
def test_a_runs_dir_that_cannot_hold_runs_is_one_line(tmp_path, capsys, runs_dir, reason):
    (tmp_path / "a-file").write_text("")
    runs_dir = runs_dir.format(tmp=tmp_path)
    assert main(TRAIN + ["--runs-dir", runs_dir]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and runs_dir in err and reason in err
    assert "--runs-dir" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_runs_dir_is_one_line(tmp_path, capsys):
    tmp_path.chmod(0o500)
    try:
        assert main(TRAIN + ["--runs-dir", str(tmp_path)]) == 1
    finally:
        tmp_path.chmod(0o700)
    assert "permission denied" in capsys.readouterr().err


def test_a_full_disk_marks_the_run_failed_and_leaves_no_temp_file(tmp_path):
    """RLIMIT_FSIZE (20 KB) stands in for a full disk: small run files fit, the model does not."""
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000)); "
            "from mnistlab.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, *TRAIN, "--runs-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "file-size limit" in lines[0], proc.stderr
    (run,) = list(tmp_path.iterdir())
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert not [p for p in run.iterdir() if p.name.startswith(".")], "no temporary file left"
    assert not (run / "model.npz").exists()
