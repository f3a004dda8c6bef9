"""One-pass optimizer updates over the flat parameter buffer, compiled by Numba when it is installed.

The NumPy updates in `mnistlab.mlp.optimizers` are the readable reference: Adam there is about
twelve whole-buffer passes per batch (each NumPy call reads and writes the buffer once), and a
NumPy call runs on one core. The kernels here do the same float operations, in the same order,
in one pass per element (a `prange` loop, split over the threads `mnistlab.threads` allows), so
their results are bit-equal to the reference (tests/mlp/test_fused.py). Numba compiles without
fast-math (no reassociation, no fused multiply-add), which is what keeps them equal.

Why Numba, not numexpr (docs/mlp.md, "The fused optimizer update"): numexpr evaluates one
expression per call, so Adam stays three passes; measured in one process on this machine it was
slower than NumPy, while the Numba kernel was about 4x faster. Numba costs ~210 MB installed
(mostly llvmlite) and ~0.1-0.3 s to import, so it is the optional `fast` extra, imported only
when the first update runs; without it the optimizers take the NumPy path.

Each kernel writes into its arguments (`p`, `m`, `v`, ...: the parameter buffer and the
optimizer's state) and returns nothing.
"""

from __future__ import annotations

import functools
import os
from types import SimpleNamespace

import numpy as np

from mnistlab.threads import thread_limit

PARALLEL_MIN_SIZE = 1 << 24
"""Buffers smaller than this (16M parameters) are updated on one thread. Measured (docs/mlp.md): on
the mlp-adam buffer (0.5M floats) one thread is already 2.6x faster than NumPy and a second saved
at best 30 us per batch on an idle core, but cost 8x when the other core was busy (a parallel loop
waits for its slowest thread); the kernels stay threaded, under `--threads`, for very large nets."""

_prange = range  # numba.prange once Numba is loaded (the kernels below read it when compiled)


def _adam_kernel(p, g, m, v, b1, c1, b2, c2, step, eps):  # pragma: no cover - compiled by Numba
    for i in _prange(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1  # m = b1 m + (1 - b1) g
        vi = v[i] * b2 + (gi * gi) * c2  # v = b2 v + (1 - b2) g^2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) + eps)) * step  # step: lr with both bias corrections


def _rmsprop_kernel(p, g, s, rho, c, lr, eps):  # pragma: no cover - compiled by Numba
    for i in _prange(p.size):
        gi = g[i]
        si = s[i] * rho + (gi * gi) * c  # s = rho s + (1 - rho) g^2
        s[i] = si
        p[i] -= (gi * lr) / (np.sqrt(si) + eps)


def _momentum_kernel(p, g, vel, lr, mu, kind):  # pragma: no cover - compiled by Numba
    for i in _prange(p.size):
        step = g[i] * lr
        if kind == 0:  # the seed's one-step form: p -= mu * (previous step) + step
            p[i] = (p[i] - vel[i] * mu) - step
            vel[i] = step
        else:
            vi = vel[i] * mu - step
            vel[i] = vi
            if kind == 1:  # classical (heavy ball)
                p[i] += vi
            else:  # nesterov
                p[i] = (p[i] - step) + vi * mu


MOMENTUM_KINDS = {"seed": 0, "classical": 1, "nesterov": 2}


@functools.cache
def kernels() -> SimpleNamespace | None:
    """The compiled kernels (adam, rmsprop, momentum, set_threads), or None when Numba is not installed.

    Compiled on first use and cached on disk by Numba (about a second the first time on a machine).
    """
    global _prange
    try:
        import numba  # optional `fast` extra: ~0.1-0.3 s to import, so only when an update first runs
    except ImportError:
        return None
    _prange = numba.prange
    jit = numba.njit(parallel=True, cache=True, nogil=True)
    return SimpleNamespace(adam=jit(_adam_kernel), rmsprop=jit(_rmsprop_kernel), momentum=jit(_momentum_kernel),
                           set_threads=numba.set_num_threads, max_threads=numba.config.NUMBA_NUM_THREADS)


def available() -> bool:
    """True when Numba is installed, so the optimizers take the fused path by default."""
    return kernels() is not None


def flat_pairs(params, grads) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(param, grad) as 1-D views, or None when one is not contiguous (then NumPy does the update)."""
    pairs = []
    for p, g in zip(params, grads):
        if not (p.flags.c_contiguous and g.flags.c_contiguous) or p.dtype != g.dtype:
            return None
        pairs.append((p.reshape(-1), g.reshape(-1)))
    return pairs


def use_threads(size: int) -> None:
    """Let the next kernel call use mnistlab's thread bound, or one thread for small buffers."""
    k = kernels()
    bound = thread_limit() or os.cpu_count() or 1
    k.set_threads(1 if size < PARALLEL_MIN_SIZE else max(1, min(bound, k.max_threads)))
