"""The one writer of every benchmark's outputs: JSON, CSV, PNG and a Markdown section, from typed rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnistlab.bench.cnn import CnnBenchRow
from mnistlab.bench.publish import prepare_output_dir, publish
from mnistlab.bench.report import csv_text, time_figure
from mnistlab.bench.sweep import MlpBenchRow
from mnistlab.bench.tta import TtaRow
from mnistlab.errors import ConfigError

ROWS = [MlpBenchRow(engine="mnistlab", threads=1, batch_size=100, repeats=1, train_seconds=2.0, warmup_seconds=0.1,
                    seconds_per_epoch=0.5, samples_per_second=1e5, gflops=50.0, gemm_share=0.4, test_accuracy=0.96,
                    threads_measured=1.0, pool_threads={"blas": 1}, peak_rss_bytes=2**28, vs_mnistlab=1.0)]


def test_publish_writes_the_stem_files_and_points_the_section_at_the_png(tmp_path):
    out, md = tmp_path / "out", tmp_path / "README.md"
    md.write_text("# Bench\n\n<!-- bench-mlp:start -->\nold\n<!-- bench-mlp:end -->\n\nafter\n")
    document = {"rows": [row.to_dict() for row in ROWS]}
    publish("mlp", document, ROWS, out=out, markdown=md, figure=lambda: time_figure(ROWS),
            section=lambda png: f"figure at {png}")
    assert sorted(p.name for p in out.iterdir()) == ["mlp.csv", "mlp.json", "mlp.png"]
    assert json.loads((out / "mlp.json").read_text()) == document
    text = md.read_text()
    assert "figure at out/mlp.png" in text and "old" not in text and text.endswith("after\n")


def test_publish_without_a_figure_or_folder_gives_the_section_no_png(tmp_path):
    md = tmp_path / "README.md"
    seen = []
    publish("cnn", {"rows": []}, [], markdown=md, section=lambda png: seen.append(png) or "cnn table")
    assert seen == [None]
    assert "<!-- bench-cnn:start -->\ncnn table\n<!-- bench-cnn:end -->" in md.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_an_output_folder_below_a_file_cannot_be_prepared(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("")
    with pytest.raises(OSError):
        prepare_output_dir(blocker / "out")


BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


@pytest.mark.parametrize("stem, row_type", [("mlp", MlpBenchRow), ("cnn", CnnBenchRow), ("tta", TtaRow)])
def test_published_rows_read_back_and_write_the_same_json_and_csv(stem, row_type):
    text = (BENCHMARKS / f"{stem}.json").read_text()
    document = json.loads(text)
    rows = [row_type.from_dict(row) for row in document["rows"]]
    assert [list(row.to_dict().items()) for row in rows] == [list(row.items()) for row in document["rows"]]
    assert json.dumps({**document, "rows": [row.to_dict() for row in rows]}, indent=2, default=str) + "\n" == text
    assert csv_text(rows) == (BENCHMARKS / f"{stem}.csv").read_text()


def test_a_row_with_a_key_it_does_not_know_is_refused():
    row = {**ROWS[0].to_dict(), "gpu_seconds": 1.0}
    with pytest.raises(ConfigError, match="a MlpBenchRow has no field gpu_seconds"):
        MlpBenchRow.from_dict(row)
