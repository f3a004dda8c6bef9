"""The sweep and its report on a small synthetic problem with the numpy and sklearn engines."""

import csv
import io
import json

import pytest

from mnistlab.bench.dataset import synthetic_bench_data
from mnistlab.bench.flops import dense_train_flops
from mnistlab.bench.report import (
    csv_text, mlp_document, mlp_markdown, replace_section, speed_target_lines, table_lines, time_figure,
    write_figure_atomic,
)
from mnistlab.bench.sweep import MlpBenchRow, SweepConfig, measure_targets, run_sweep, summarize
from mnistlab.errors import ConfigError


@pytest.fixture(scope="module")
def swept():
    data = synthetic_bench_data(n_train=600, n_test=200, n_features=30, n_classes=4)
    config = SweepConfig(engines=("sklearn", "mnistlab"), batch_sizes=(50, 300), threads=(1,), epochs=3,
                         repeats=2, hidden=(12, 6), learning_rate=0.5, targets=False, gemm_size=256)
    lines = []
    result = run_sweep(config, data=data, progress=lines.append)
    return result, summarize(result), lines


def test_every_engine_batch_and_repeat_is_measured_interleaved(swept):
    result, rows, lines = swept
    assert len(result.runs) == 2 * 2 * 2
    order = [(r["repeat"], r["batch_size"], r["engine"]) for r in result.runs]
    assert order[:4] == [(0, 50, "sklearn"), (0, 50, "mnistlab"), (0, 300, "sklearn"), (0, 300, "mnistlab")]
    assert any("GEMM" in line for line in lines)
    assert result.gemm_gflops[1] > 0


def test_rows_hold_medians_rates_and_ratios(swept):
    result, rows, _ = swept
    assert [(r.batch_size, r.engine) for r in rows] == [(50, "mnistlab"), (50, "sklearn"),
                                                        (300, "mnistlab"), (300, "sklearn")]
    flops = dense_train_flops((30, 12, 6, 4)).gemm
    for row in rows:
        runs = [r["train_seconds"] for r in result.runs
                if (r["engine"], r["batch_size"]) == (row.engine, row.batch_size)]
        assert row.repeats == 2
        assert row.train_seconds == pytest.approx(sum(runs) / 2)  # median of two
        assert row.gflops == pytest.approx(flops * 600 * 3 / row.train_seconds / 1e9)
        assert row.gemm_share == pytest.approx(row.gflops / result.gemm_gflops[1])
        assert row.samples_per_second == pytest.approx(600 * 3 / row.train_seconds)
        assert row.test_accuracy > (0.9 if row.batch_size == 50 else 0.0)
        assert row.pool_threads["blas"] == 1
    mnistlab = {r.batch_size: r.train_seconds for r in rows if r.engine == "mnistlab"}
    for row in rows:
        assert row.vs_mnistlab == pytest.approx(row.train_seconds / mnistlab[row.batch_size])


def test_report_outputs(swept, tmp_path):
    result, rows, _ = swept
    lines = table_lines(rows)
    assert "engine" in lines[0] and len(lines) == 2 + len(rows)
    parsed = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert [p["engine"] for p in parsed] == [r.engine for r in rows]
    assert parsed[0]["pool_threads"] == "blas=1"
    document = mlp_document(result, rows, "mnistlab bench mlp --test")
    json.dumps(document, default=str)
    markdown = mlp_markdown(document, "mlp.png", "test")
    assert "| thr | batch | engine |" in markdown and "![train seconds" in markdown
    write_figure_atomic(time_figure(rows), tmp_path / "mlp.png")
    assert (tmp_path / "mlp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mlp.png"]  # no temporary file left


def test_replace_section_creates_then_replaces():
    doc = replace_section("# Title\n", "bench-mlp", "first")
    assert doc == "# Title\n\n<!-- bench-mlp:start -->\nfirst\n<!-- bench-mlp:end -->\n"
    again = replace_section(doc + "\nafter\n", "bench-mlp", "second")
    assert "first" not in again and "second" in again and again.endswith("after\n")


@pytest.mark.parametrize("kwargs, match", [
    ({"engines": ("caffe",)}, "unknown engine"), ({"batch_sizes": (0,)}, "batch size"),
    ({"threads": ()}, "thread count"), ({"epochs": 0}, "epochs"),
])
def test_bad_config_is_rejected(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SweepConfig(**kwargs)


def test_rounds_after_the_first_stop_when_the_budget_is_spent():
    data = synthetic_bench_data(n_train=200, n_test=50, n_features=10, n_classes=3)
    config = SweepConfig(engines=("sklearn",), batch_sizes=(100,), threads=(1,), epochs=2, repeats=3,
                         budget_seconds=0.0, hidden=(4,), targets=False, gemm_size=64)
    result = run_sweep(config, data=data)
    assert len(result.runs) == 1
    assert "1 thread(s): 1 of 3 repeats fit the time budget" in result.notes


def test_quick_preset_is_small():
    quick = SweepConfig.quick()
    assert quick.repeats == 1 and quick.epochs <= 3 and len(quick.batch_sizes) == 2


def _row(engine, batch, seconds, share=0.6, accuracy=0.95):
    return MlpBenchRow(engine=engine, threads=2, batch_size=batch, repeats=1, train_seconds=seconds,
                       warmup_seconds=0.1, seconds_per_epoch=seconds / 3, samples_per_second=1e5, gflops=50.0,
                       gemm_share=share, test_accuracy=accuracy, threads_measured=2.0, pool_threads={"blas": 2},
                       peak_rss_bytes=2**28)


def test_speed_targets_are_judged_from_the_rows():
    rows = [_row("mnistlab", 500, 0.5), _row("keras-jax", 500, 1.0, accuracy=0.951),
            _row("mnistlab", 20000, 0.9, share=0.4), _row("keras-jax", 20000, 1.0)]
    assert speed_target_lines(rows) == [
        "target 1 on 2 thread(s): PASS; largest test-accuracy gap to another engine 0.10 points",
        "target 2 on 2 thread(s): FAIL (batch 20000: 40%)"]
    rows[0].train_seconds = 0.7  # 0.7x at batch 500: above the 0.6x bar for small batches
    assert speed_target_lines(rows)[0].startswith("target 1 on 2 thread(s): FAIL (batch 500: 0.70x keras-jax)")


def test_targets_run_reports_overhead_and_peak_memory():
    config = SweepConfig(engines=("mnistlab",), n_train=500, epochs=2, repeats=1)
    targets = measure_targets(config)
    assert targets["threads"] == max(config.threads)
    assert targets["eval_overhead"] == pytest.approx(
        targets["train_with_eval_seconds"] / targets["train_seconds"] - 1)
    assert targets["eval_overhead_ok"] == (targets["eval_overhead"] <= 0.10)
    assert 50 * 2**20 < targets["peak_rss_bytes"] < 4 * 2**30
    assert 0.0 <= targets["test_accuracy"] <= 1.0
