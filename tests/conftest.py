"""Fixtures shared by every test area; the real datasets come from the default cache that `make test` fills."""

from __future__ import annotations

import os

import pytest

# TensorFlow's CPU setting is pinned for the suite, as a user would pin it: the CNN commands then
# neither measure it (mnistlab.cnn.cpu_settings, seconds once per machine) nor depend on an earlier
# measurement. tests/cnn/test_cpu_settings.py tests the measuring with injected timings.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture
def runs_dir(tmp_path):
    """A fresh directory for run records."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
