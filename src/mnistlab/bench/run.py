"""run_bench: one benchmark end to end, the five steps every `mnistlab bench` command shares.

Configure (`bench_config`), prepare the output folder (so a bad `--out` fails in seconds, not
after an hour), measure, summarise into rows, then publish the JSON, CSV, PNG and Markdown
section and return the document with its text summary. The three benchmarks differ only in the
functions each step calls, declared once per benchmark in `PIPELINES`. A notebook calls it as
the CLI does:

>>> outcome = run_bench(bench_config("mlp", quick=True, engines=("mnistlab",)))  # doctest: +SKIP
>>> outcome.rows[0].train_seconds  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mnistlab.bench.cnn import CNN_COLUMNS, CnnBenchConfig, cnn_document, cnn_markdown, run_cnn_bench, summarize_cnn
from mnistlab.bench.fields import BenchRow
from mnistlab.bench.publish import prepare_output_dir, publish
from mnistlab.bench.report import (
    mlp_document, mlp_markdown, pool_threads_lines, speed_target_lines, table_lines, targets_lines, time_figure,
)
from mnistlab.bench.sweep import SweepConfig, run_sweep, summarize
from mnistlab.bench.tta import TtaConfig, run_tta, summarize_tta
from mnistlab.bench.tta_report import TTA_COLUMNS, accuracy_figure, summary_lines, tta_document, tta_markdown
from mnistlab.errors import ConfigError

BenchConfig = SweepConfig | CnnBenchConfig | TtaConfig


@dataclass(frozen=True)
class Pipeline:
    """What one benchmark calls at each step; `stem` names its files (<stem>.json ...) and its section."""

    stem: str
    config_type: type
    measure: Callable[..., Any]  # (config, progress=) -> result
    summarize: Callable[[Any], list[BenchRow]]  # (result) -> its summary rows (MlpBenchRow, CnnBenchRow, TtaRow)
    document: Callable[[Any, list[BenchRow], str], dict[str, Any]]  # (result, rows, command) -> JSON document
    lines: Callable[[Any, list[BenchRow]], list[str]]
    section: Callable[[dict[str, Any], Any, str | None, str], str]  # (document, result, png, label) -> Markdown
    figure: Callable[[Any, list[BenchRow]], Callable[[], Any] | None] = lambda result, rows: None
    """(result, rows) -> a function drawing the PNG's Figure, or None when there is nothing to draw."""


PIPELINES: dict[str, Pipeline] = {
    "mlp": Pipeline(
        "mlp", SweepConfig, run_sweep, summarize, mlp_document,
        lines=lambda result, rows: (table_lines(rows) + [""] + speed_target_lines(rows) + targets_lines(result.targets)
                                    + pool_threads_lines(rows) + result.notes),
        section=lambda document, result, png, label: mlp_markdown(document, png, label),
        figure=lambda result, rows: (lambda: time_figure(rows)) if rows else None),
    "cnn": Pipeline(
        "cnn", CnnBenchConfig, run_cnn_bench, summarize_cnn, cnn_document,
        lines=lambda result, rows: table_lines(rows, CNN_COLUMNS) + result.notes,
        section=lambda document, result, png, label: cnn_markdown(document, label)),
    "tta": Pipeline(
        "tta", TtaConfig, run_tta, summarize_tta, tta_document,
        lines=lambda result, rows: table_lines(rows, TTA_COLUMNS) + [""] + summary_lines(result, rows),
        section=lambda document, result, png, label: tta_markdown(document, result, png, label),
        figure=lambda result, rows: (lambda: accuracy_figure(result.runs)) if result.runs else None),
}


@dataclass
class BenchOutcome:
    """A finished benchmark: its summary rows, its JSON document (what <stem>.json holds and `--json` prints,
    rows through their `to_dict`) and its text summary."""

    name: str
    document: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    rows: list[BenchRow] = field(default_factory=list)
    """The summary rows (medians per engine and setting), as in <stem>.csv."""


def bench_config(name: str, *, quick: bool = False, **options: Any) -> BenchConfig:
    """The config of benchmark `name` ("mlp", "cnn", "tta"): options left None keep their defaults.

    `quick` starts from the benchmark's smoke-test config (`SweepConfig.quick`, `TtaConfig.quick`).
    """
    pipeline = _pipeline(name)
    given = {key: value for key, value in options.items() if value is not None}
    if quick:
        if not hasattr(pipeline.config_type, "quick"):
            raise ConfigError(f"bench {name} has no quick version; leave out quick")
        return pipeline.config_type.quick(**given)
    return pipeline.config_type(**given)


def run_bench(config: BenchConfig, *, out: Path | None = None, markdown: Path | None = None, label: str = "",
              command: str = "mnistlab bench", progress: Callable[[str], None] = lambda message: None) -> BenchOutcome:
    """Run the benchmark `config` describes and publish it (files in `out`, a section of `markdown`).

    `label` titles the Markdown section (e.g. "quiet machine"); `command` is recorded in the
    document as the way to repeat it; `progress` gets one line per measurement.
    """
    pipeline = next((p for p in PIPELINES.values() if isinstance(config, p.config_type)), None)
    if pipeline is None:
        raise ConfigError(f"run_bench takes a {', '.join(p.config_type.__name__ for p in PIPELINES.values())}, "
                          f"got {type(config).__name__}; build one with bench_config(name, ...)")
    prepare_output_dir(out)
    result = pipeline.measure(config, progress=progress)
    rows = pipeline.summarize(result)
    document = pipeline.document(result, rows, command)
    publish(pipeline.stem, document, rows, out=out, markdown=markdown, figure=pipeline.figure(result, rows),
            section=lambda png: pipeline.section(document, result, png, label))
    return BenchOutcome(pipeline.stem, document, pipeline.lines(result, rows), rows)


def _pipeline(name: str) -> Pipeline:
    if name not in PIPELINES:
        raise ConfigError(f"unknown benchmark {name!r}; choose from {', '.join(PIPELINES)}")
    return PIPELINES[name]

