"""The machine's float32 GEMM rate: the ceiling that achieved GFLOP/s are read against."""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from mnistlab.errors import ConfigError


def gemm_gflops(n: int = 2048, threads: int | None = None, repeats: int = 5,
                random_state: int = 0) -> float:
    """Best float32 GFLOP/s of an ``(n, n) @ (n, n)`` product over `repeats` runs, BLAS bound to `threads`.

    One untimed product first (BLAS warms its threads and caches); the best of the timed
    runs is the least disturbed by other processes, which is what a ceiling should be.

    Examples
    --------
    >>> gemm_gflops(256, threads=1, repeats=2) > 0
    True
    """
    if n < 1 or repeats < 1:
        raise ConfigError(f"gemm size and repeats must be positive, got n={n}, repeats={repeats}")
    rng = np.random.default_rng(random_state)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    with threadpool_limits(limits=threads):
        np.matmul(a, b, out=out)
        for _ in range(repeats):
            start = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9
