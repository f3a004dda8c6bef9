"""Shared fixtures: an isolated dataset cache and run directory for every test."""

from __future__ import annotations

import pytest


@pytest.fixture
def runs_dir(tmp_path):
    """A fresh directory for run records."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
