"""One place that bounds every thread pool mnistlab may use: BLAS and each framework's own.

Frameworks read some settings only when first imported (XLA for JAX, TensorFlow's pools),
so `configure_threads` must run before they load; the CLI calls it first thing.
"""

from __future__ import annotations

import os
import sys

from threadpoolctl import threadpool_limits

from mnistlab.errors import ConfigError

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "NUMBA_NUM_THREADS", "NUMEXPR_MAX_THREADS")

_limiter = None
_limit: int | None = None


def thread_limit() -> int | None:
    """The bound the last `configure_threads` set (None before any): pools started later follow it."""
    return _limit


def configure_threads(n_threads: int | None) -> int:
    """Bound BLAS/OpenMP pools and the frameworks to `n_threads` (None: all cores); return the number used."""
    global _limiter, _limit
    n = (os.cpu_count() or 1) if n_threads is None else int(n_threads)
    if n < 1:
        raise ConfigError(f"--threads must be at least 1, got {n_threads}; omit it to use all {os.cpu_count()} cores")
    for var in _ENV_VARS:
        # Numba reads its pool size once; changed after its threads started, it raises at the next
        # compile. Once loaded, the fused kernels bound themselves per call (thread_limit below).
        if not (var == "NUMBA_NUM_THREADS" and "numba" in sys.modules):
            os.environ[var] = str(n)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    # XLA (JAX) has no thread-count flag, only Eigen on/off; every XLA_FLAGS token must start with "--".
    xla = os.environ.get("XLA_FLAGS", "")
    if n == 1 and "xla_cpu_multi_thread_eigen" not in xla:
        os.environ["XLA_FLAGS"] = f"{xla} --xla_cpu_multi_thread_eigen=false".strip()
    _limiter = threadpool_limits(limits=n)
    _limit = n  # the fused optimizer kernels (mnistlab.mlp.fused) read it before each update
    if "torch" in sys.modules:
        import torch  # already loaded by someone: only then is its pool there to bound

        torch.set_num_threads(n)
    return n


def restrict_cpus(n_cpus: int) -> list[int]:
    """Pin this process (and threads it starts later) to its first `n_cpus` usable CPUs; return them.

    The hard bound for runtimes without a thread-count setting (JAX/XLA): whatever threads they
    start, the process cannot run on more than `n_cpus` cores at once. Linux only (a no-op elsewhere).
    """
    if not hasattr(os, "sched_setaffinity"):
        return list(range(n_cpus))
    cpus = sorted(os.sched_getaffinity(0))[:n_cpus]
    os.sched_setaffinity(0, cpus)
    return cpus
