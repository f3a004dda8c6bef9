"""The one writer of every benchmark's outputs: JSON, CSV, PNG and a Markdown section."""

from __future__ import annotations

import json

import pytest

from mnistlab.bench.publish import prepare_output_dir, publish
from mnistlab.bench.report import time_figure

ROWS = [{"threads": 1, "batch_size": 100, "engine": "mnistlab", "train_seconds": 2.0}]


def test_publish_writes_the_stem_files_and_points_the_section_at_the_png(tmp_path):
    out, md = tmp_path / "out", tmp_path / "README.md"
    md.write_text("# Bench\n\n<!-- bench-mlp:start -->\nold\n<!-- bench-mlp:end -->\n\nafter\n")
    publish("mlp", {"rows": ROWS}, ROWS, out=out, markdown=md, figure=lambda: time_figure(ROWS),
            section=lambda png: f"figure at {png}")
    assert sorted(p.name for p in out.iterdir()) == ["mlp.csv", "mlp.json", "mlp.png"]
    assert json.loads((out / "mlp.json").read_text()) == {"rows": ROWS}
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
