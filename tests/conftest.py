"""Fixtures shared by every test area; the real datasets come from the default cache that `make test` fills."""

from __future__ import annotations

import pytest


@pytest.fixture
def runs_dir(tmp_path):
    """A fresh directory for run records."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
