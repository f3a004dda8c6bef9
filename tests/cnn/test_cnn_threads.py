"""--threads really bounds the CPU threads: measured in a fresh process per setting.

thread_probe.py trains a few batches and samples /proc every 2 ms: with one thread allowed, two
threads of the process are almost never running at once; with two allowed (the positive
control, which shows the probe can see parallel work) they mostly are. Sampling states rather
than CPU/wall time keeps the test valid on a machine loaded by other processes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.cnn, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]
PROBE = Path(__file__).with_name("thread_probe.py")


def probe(backend: str, threads: int, *extra: str) -> dict:
    if importlib.util.find_spec(backend) is None or importlib.util.find_spec("keras") is None:
        pytest.skip(f"Keras backend {backend} not installed")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "XLA_FLAGS"}
    done = subprocess.run([sys.executable, str(PROBE), backend, str(threads), *extra], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_one_thread_means_no_parallel_work(backend):
    report = probe(backend, 1)
    assert report["framework_threads"] == 1
    assert report["parallel_share"] < 0.15, report


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores")
def test_two_threads_are_seen_working_in_parallel():
    report = probe("torch", 2)
    assert report["framework_threads"] == 2
    assert report["parallel_share"] > 0.3, report


def test_jax_is_pinned_to_the_allowed_cores():
    assert probe("jax", 1, "--no-train")["cpus"] == 1
