"""Engines in-process on a small synthetic problem, the warm-up arithmetic, skip notes, the worker."""

import importlib.util

import numpy as np
import pytest

from mnistlab.bench.client import Worker
from mnistlab.bench.dataset import save_bench_data, synthetic_bench_data
from mnistlab.bench.engines import get_engine
from mnistlab.bench.engines.base import TrainOutcome
from mnistlab.bench.jobs import TrainJob
from mnistlab.bench.sweep import available_engines
from mnistlab.errors import BackendError, ConfigError

JOB = TrainJob(hidden=(16, 8), epochs=5, batch_size=40, learning_rate=0.5, momentum=0.9)


@pytest.fixture(scope="module")
def data():
    return synthetic_bench_data(n_train=400, n_test=200, n_features=20, n_classes=3)


@pytest.mark.parametrize("name", ["mnistlab", "sklearn"])
def test_engine_learns_the_synthetic_problem(name, data):
    outcome = get_engine(name).train(data, JOB)
    assert len(outcome.epoch_seconds) == JOB.epochs
    assert all(s > 0 for s in outcome.epoch_seconds)
    assert outcome.test_accuracy > 0.9


def test_warmup_is_the_first_epochs_excess():
    outcome = TrainOutcome([5.0, 1.0, 1.2, 0.9], 0.5)
    assert outcome.warmup_seconds == pytest.approx(4.0)
    assert outcome.train_seconds == pytest.approx(4.1)
    assert TrainOutcome([1.0, 2.0], 0.5).warmup_seconds == 0.0
    timed = TrainOutcome([3.0], None, measured_warmup=2.0)
    assert (timed.warmup_seconds, timed.train_seconds) == (2.0, 3.0)


def test_missing_framework_gives_a_one_line_skip_note(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    ready, notes = available_engines(("sklearn", "keras-jax"))
    assert ready == ["sklearn"]
    assert notes == ["skipped keras-jax: jax is not installed (pip install -e '.[bench]')"]


def test_unknown_engine_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown engine 'caffe'"):
        get_engine("caffe")


def test_worker_bounds_blas_to_one_thread(tmp_path, data):
    save_bench_data(data, tmp_path)
    with Worker("sklearn", 1, tmp_path) as worker:
        assert worker.wait_ready()["pool_threads"] == {"blas": 1}
        result = worker.run(JOB)
    assert result["pool_threads"] == {"blas": 1}
    assert result["cpu_wall_ratio"] < 1.5  # one busy thread, not two
    assert result["test_accuracy"] > 0.9
    assert result["peak_rss_bytes"] > 10 * 2**20


def test_worker_that_cannot_start_raises_backend_error(tmp_path):
    with pytest.raises(BackendError, match="failed to start: ConfigError: unknown engine"):
        Worker("caffe", 1, tmp_path).wait_ready()


@pytest.mark.slow
@pytest.mark.cnn
def test_keras_engine_in_its_own_process(tmp_path, data):
    for module in ("keras", "jax"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    save_bench_data(data, tmp_path)
    with Worker("keras-jax", 1, tmp_path) as worker:
        result = worker.run(JOB)
    assert len(result["epoch_seconds"]) == JOB.epochs
    assert result["warmup_seconds"] > 0  # XLA compiles during the first epoch
    assert result["test_accuracy"] > 0.9
    assert np.isfinite(result["train_seconds"])
