"""What this machine and process offer: Python and package versions, CPU, BLAS, threads, backends."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

OPTIONAL_PACKAGES = ("keras", "torch", "jax", "jaxlib", "tensorflow", "tensorflow-cpu")
CORE_PACKAGES = ("mnistlab", "numpy", "scipy", "scikit-learn", "matplotlib")


def package_versions(names: tuple[str, ...] = CORE_PACKAGES + OPTIONAL_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in `names` (None when absent), without importing it."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or platform.processor() elsewhere."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries NumPy loaded, with their thread counts (threadpoolctl)."""
    import numpy  # noqa: F401  (loads BLAS so threadpoolctl can see it)
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def environment_info() -> dict[str, Any]:
    """A JSON-ready description of the environment, stored with every run."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        "blas": blas_info(),
        "keras_backend": os.environ.get("KERAS_BACKEND"),
        "thread_env": {k: os.environ[k] for k in sorted(os.environ)
                       if k.endswith("_NUM_THREADS") or k in ("XLA_FLAGS", "OPENBLAS_CORETYPE")},
    }
