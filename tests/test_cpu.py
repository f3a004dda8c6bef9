"""The GEMM ceiling: a plausible rate, and bad sizes rejected."""

import time

import numpy as np
import pytest

from mnistlab.cpu import gemm_gflops
from mnistlab.errors import ConfigError


def test_gemm_rate_is_plausible_and_matches_a_direct_timing():
    rate = gemm_gflops(512, threads=1, repeats=3)
    assert 0.1 < rate < 1000  # one core does neither less than 0.1 nor more than 1000 GFLOP/s
    a = np.ones((512, 512), dtype=np.float32)
    start = time.perf_counter()
    a @ a
    direct = 2 * 512**3 / (time.perf_counter() - start) / 1e9
    # best-of-3 can't be slower than ten times a single direct (possibly multithreaded) run
    assert rate > direct / 10


@pytest.mark.parametrize("n, repeats", [(0, 3), (64, 0)])
def test_bad_arguments_are_rejected(n, repeats):
    with pytest.raises(ConfigError):
        gemm_gflops(n, repeats=repeats)


def test_simd_level_from_flags():
    from mnistlab.cpu import cpu_flags, simd_level

    assert simd_level(cpu_flags("flags\t: fpu sse4_2 avx avx2 fma avx512f\n")) == "AVX-512"
    assert simd_level(cpu_flags("flags\t: fpu sse4_2 avx avx2 fma\n")) == "AVX2"
    assert simd_level(cpu_flags("Features\t: fp asimd evtstrm\n")) == "NEON"
    assert simd_level(cpu_flags("no flags here\n")) == "unknown"
