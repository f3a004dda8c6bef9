"""Errors a user can act on: each message is one line naming the problem and the fix."""

from __future__ import annotations


class MnistlabError(Exception):
    """Base of every error the CLI reports as a single `error: ...` line (no traceback)."""


class DataError(MnistlabError):
    """A dataset is missing, corrupt, or cannot be cached."""


class ConfigError(MnistlabError, ValueError):
    """An option or argument has an invalid value (also a ValueError, as scikit-learn expects)."""


class ModelFileError(MnistlabError):
    """A file that should hold a saved model does not, or cannot be read."""


class BackendError(MnistlabError):
    """An optional framework (Keras backend, PyTorch, JAX, a GPU) is not available."""


class TrainingDiverged(MnistlabError):
    """Training diverged (docs/runs.md states the rule); the message names the epoch and a remedy."""


class OutputError(MnistlabError):
    """A file or folder cannot be written (missing, read-only, full, not a folder, or outside its runs directory)."""
