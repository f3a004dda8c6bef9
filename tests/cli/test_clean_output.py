"""Clean output: no TensorFlow, absl or oneDNN start-up lines unless --verbose or the user's TF_CPP_MIN_LOG_LEVEL."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.cnn, pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                                  reason="needs TensorFlow, whose start-up lines are the concern")]
SRC = str(Path(__file__).resolve().parents[2] / "src")
NATIVE_MARKERS = ("absl::InitializeLog", "oneDNN", "I0000", "W0000", "tensorflow/core")
LOAD_KERAS = "from mnistlab.cnn.backend import import_keras; import_keras('tensorflow')"


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")}
    environ.update(PYTHONPATH=SRC, **env)
    return subprocess.run([sys.executable, *argv], env=environ, capture_output=True, text=True, timeout=300)


def _native_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(marker in line for marker in NATIVE_MARKERS)]


@pytest.mark.slow  # a CNN training in a fresh process (TensorFlow's import alone takes seconds): 8-21 s
def test_a_training_command_shows_only_its_own_lines(tmp_path):
    result = _run(["-m", "mnistlab", "cnn", "train", "--backend", "tensorflow", "--epochs", "1", "--train-size",
                   "128", "--conv", "4", "--dense", "8", "--runs-dir", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    assert _native_lines(result.stderr + result.stdout) == []
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith("epoch ")]


@pytest.mark.slow
def test_the_users_own_log_level_lets_the_lines_through():
    result = _run(["-c", LOAD_KERAS], TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0 and _native_lines(result.stderr), result.stderr


@pytest.mark.slow
def test_verbose_lets_the_lines_through():
    result = _run(["-c", "from mnistlab.cli import main; main(['--verbose', 'data', 'info']); " + LOAD_KERAS])
    assert result.returncode == 0 and _native_lines(result.stderr), result.stderr
