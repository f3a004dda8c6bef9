"""What the CPU offers: its flags, its SIMD level, and its float32 GEMM rate.

The GEMM rate is the ceiling that achieved GFLOP/s are read against (`bench mlp`), and the one
figure that says which kind of machine a speed table comes from (`mnistlab env` prints it);
the flags decide which framework settings are worth measuring (`mnistlab.cnn.cpu_settings`).
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from mnistlab.errors import ConfigError

SIMD_LEVELS = (("AVX-512", ("avx512f",)), ("AVX2", ("avx2", "fma")), ("AVX", ("avx",)), ("SSE4.2", ("sse4_2",)),
               ("NEON", ("asimd",)))
"""Highest first: a level holds when the CPU lists all its flags (x86 names; "asimd" is ARM's NEON)."""


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    r"""The CPU's feature flags from /proc/cpuinfo (`cpuinfo`: its text, for tests); empty elsewhere.

    Examples
    --------
    >>> sorted(cpu_flags("flags\t\t: fpu sse4_2 avx avx2 fma\n"))
    ['avx', 'avx2', 'fma', 'fpu', 'sse4_2']
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as fh:
                cpuinfo = fh.read()
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def simd_level(flags: frozenset[str]) -> str:
    """The widest vector instruction set in `flags`: "AVX-512", "AVX2", "AVX", "SSE4.2", "NEON" or "unknown".

    Examples
    --------
    >>> simd_level(frozenset({"avx", "avx2", "fma"}))
    'AVX2'
    """
    for name, needed in SIMD_LEVELS:
        if all(flag in flags for flag in needed):
            return name
    return "unknown"


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
