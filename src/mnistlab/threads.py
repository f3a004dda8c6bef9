"""One place that bounds every thread pool mnistlab may use: BLAS and each framework's own.

Frameworks read some settings only when first imported (XLA for JAX, TensorFlow's pools),
so `configure_threads` must run before they load; the CLI calls it first thing.
"""

from __future__ import annotations

import os
import sys

from threadpoolctl import threadpool_limits

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")

_limiter = None


def configure_threads(n_threads: int | None) -> int:
    """Bound BLAS/OpenMP pools and the frameworks to `n_threads` (None: all cores); return the number used."""
    global _limiter
    n = (os.cpu_count() or 1) if n_threads is None else int(n_threads)
    if n < 1:
        from mnistlab.errors import ConfigError

        raise ConfigError(f"--threads must be at least 1, got {n_threads}; omit it to use all {os.cpu_count()} cores")
    for var in _ENV_VARS:
        os.environ[var] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    xla = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in xla:
        single = " --xla_cpu_multi_thread_eigen=false" if n == 1 else ""
        os.environ["XLA_FLAGS"] = f"{xla}{single} intra_op_parallelism_threads={n}".strip()
    _limiter = threadpool_limits(limits=n)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)
    return n
