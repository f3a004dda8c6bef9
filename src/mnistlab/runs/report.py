"""The HTML report: one self-contained page showing one run, or comparing several.

For each run it shows the final metrics, the curves, the confusion matrix, the misclassified
images, the first-layer weights, every other figure in the run directory (feature maps, OIPs, ...),
the config, the environment and the per-epoch metrics; and it lists what is missing. For several
runs it first overlays their curves and tabulates configs and final metrics, differences highlighted.

Examples
--------
>>> import tempfile
>>> from mnistlab.runs import RunDir
>>> run = RunDir.create(tempfile.mkdtemp(), "demo", "mlp", {"epochs": 1})
>>> run.log_epoch({"epoch": 1, "loss": 0.5, "test_accuracy": 0.9})
>>> write_report([run.path]).name
'report.html'
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from mnistlab import __version__
from mnistlab.errors import ConfigError
from mnistlab.runs import html
from mnistlab.runs.catalog import RunDirError, RunRecord, load_run
from mnistlab.runs.kinds import KINDS
from mnistlab.runs.plots import CONFUSION, CURVES, MISCLASSIFIED, WEIGHTS, curves_figure, overlay_curves_figure
from mnistlab.fileio import atomic_write

FIGURE_TITLES = {
    CURVES: "Cost and accuracy per epoch",
    CONFUSION: "Confusion matrix (test set)",
    MISCLASSIFIED: "Misclassified test images (true and predicted label)",
    WEIGHTS: "First-layer weights: the 28×28 input pattern each hidden unit weighs",
}
SUMMARY_KEYS = ("model", "dataset", "epochs", "test_accuracy", "train_seconds")


def _expected_figures(record: RunRecord) -> tuple[str, ...]:
    kind = KINDS.get(record.kind)
    return (CURVES, CONFUSION, MISCLASSIFIED) + (kind.extra_figures if kind is not None else ())


def _figures_html(record: RunRecord, problems: list[str]) -> str:
    """The run's standard figures (noting the missing ones), then every other PNG in the directory."""
    by_stem = {p.stem: p for p in record.figures}
    parts = []
    for name in _expected_figures(record):
        path = by_stem.pop(name, None)
        if path is not None:
            parts.append(html.image(path.read_bytes(), FIGURE_TITLES[name], alt=f"{record.name}: {name}"))
        elif name == CURVES and record.metrics:
            problems.append(f"{name}.png is missing: the curves below are drawn from the logged epochs")
            parts.append(html.image(html.png_bytes(curves_figure(record.metrics)),
                                    FIGURE_TITLES[name] + " (drawn from the logged epochs)",
                                    alt=f"{record.name}: {name}"))
        else:
            problems.append(f"{name}.png is missing ({FIGURE_TITLES[name].split(':')[0].lower()} not saved)")
    if by_stem:
        parts.append("<h3>Other figures</h3>")
    # In the order the tools wrote them (e.g. input, conv1, pool1, conv2), not alphabetically.
    for stem, path in sorted(by_stem.items(), key=lambda item: (item[1].stat().st_mtime_ns, item[0])):
        parts.append(html.image(path.read_bytes(), f"{stem.replace('_', ' ')} ({path.name})",
                                alt=f"{record.name}: {stem}"))
    return "\n".join(parts)


def _metrics_table(record: RunRecord) -> str:
    columns = list(record.metrics)
    n = max((len(v) for v in record.metrics.values()), default=0)
    rows = ([float(record.metrics[c][i]) if i < len(record.metrics[c]) else None for c in columns]
            for i in range(n))
    return html.columns_table(columns, rows)


def _final_metrics(record: RunRecord) -> dict[str, object]:
    """summary.json, or (for an unfinished run) the last logged value of each metrics column."""
    if record.summary:
        return dict(record.summary)
    return {f"{column} (last logged)": record.get(column) for column in record.metrics if column != "epoch"}


def run_section(record: RunRecord, index: int) -> str:
    """The HTML section of one run."""
    problems = list(record.problems)
    figures = _figures_html(record, problems)
    started = record.info.get("started", "?")
    finished = record.info.get("finished")
    when = f"started {started}" + (f", finished {finished}" if finished else "")
    parts = [f'<section id="run-{index}">',
             f"<h2>{escape(record.label)}<span class=\"badge {escape(record.status)}\">"
             f"{escape(record.status)}</span><span class=\"badge\">{escape(record.kind or 'unknown kind')}"
             f"</span></h2>",
             f'<p class="muted">{escape(str(record.path))} · {escape(when)}</p>']
    if problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in problems)
        parts.append(f'<div class="problems"><strong>Missing or incomplete</strong><ul>{items}</ul></div>')
    parts += ["<h3>Final metrics</h3>", html.key_value_table(_final_metrics(record)),
              "<h3>Figures</h3>", figures or '<p class="muted">(no figures)</p>',
              "<h3>Config</h3>",
              html.key_value_table(html.flatten(record.config)) if record.config is not None
              else '<p class="muted">(config.json missing)</p>',
              "<details><summary>Environment</summary>",
              html.key_value_table(html.flatten(record.environment)) if record.environment is not None
              else '<p class="muted">(environment.json missing)</p>',
              "</details>",
              f"<details><summary>Per-epoch metrics ({record.n_epochs or 0} rows)</summary>",
              _metrics_table(record) if record.metrics else '<p class="muted">(no metrics logged)</p>',
              "</details>", "</section>"]
    return "\n".join(parts)


def _union_keys(dicts: list[dict[str, object]]) -> list[str]:
    keys: list[str] = []
    for d in dicts:
        keys += [k for k in d if k not in keys]
    return keys


def compare_section(records: Sequence[RunRecord]) -> str:
    """The comparison of several runs: overlaid curves and a table of final metrics and configs."""
    labels = [r.name for r in records]
    with_metrics = {r.name: r.metrics for r in records if r.metrics}
    finals = [{"label": r.label} | {k: r.get(k) for k in SUMMARY_KEYS}
              | {"model": r.get("model") or r.kind, "epochs": r.n_epochs, "status": r.status} for r in records]
    extra = _union_keys([r.summary or {} for r in records])
    finals = [f | {k: (r.summary or {}).get(k) for k in extra if k not in f} for f, r in zip(finals, records)]
    configs = [html.flatten(r.config or {}) for r in records]
    envs = [html.flatten({k: v for k, v in (r.environment or {}).items() if k != "blas"}) for r in records]
    groups = {title: {k: [d.get(k) for d in dicts] for k in _union_keys(dicts)}
              for title, dicts in (("final metrics", finals), ("config", configs), ("environment", envs))}
    parts = ['<section id="compare">', f"<h2>Comparison of {len(records)} runs</h2>"]
    if with_metrics:
        parts.append(html.image(html.png_bytes(overlay_curves_figure(with_metrics)),
                                "Cost and accuracy per epoch, all runs overlaid "
                                "(solid: train, dotted: train batch average, dashed: validation, dash-dot: test)",
                                alt="overlaid curves"))
    missing = [n for n in labels if n not in with_metrics]
    if missing:
        parts.append(f'<p class="problems">No metrics logged for: {escape(", ".join(missing))}</p>')
    parts += [html.comparison_table(labels, groups), "</section>"]
    return "\n".join(parts)


def render_report(records: Sequence[RunRecord]) -> str:
    """The whole HTML page for `records` (one or more runs)."""
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    title = f"mnistlab report: {records[0].label}" if len(records) == 1 else \
        f"mnistlab report: {len(records)} runs"
    nav = "".join(f'<a href="#run-{i}">{escape(r.name)}</a>' for i, r in enumerate(records))
    body = [f"<header><h1>{escape(title)}</h1>",
            f'<p class="muted">written {stamp} by mnistlab {__version__}</p>']
    if len(records) > 1:
        body.append(f'<nav><a href="#compare">comparison</a>{nav}</nav>')
    body.append("</header>")
    if len(records) > 1:
        body.append(compare_section(records))
    body += [run_section(r, i) for i, r in enumerate(records)]
    return html.page(title, "\n".join(body))


def default_report_path(records: Sequence[RunRecord]) -> Path:
    """report.html inside the run for one run; compare-<date-time>.html beside the runs for several."""
    if len(records) == 1:
        return records[0].path / "report.html"
    parent = Path(os.path.commonpath([r.path.resolve().parent for r in records]))
    return parent / f"compare-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.html"


def write_report(run_dirs: Sequence[str | os.PathLike], out: str | os.PathLike | None = None) -> Path:
    """Read the runs at `run_dirs`, write the report to `out` (or the default path) atomically, return it."""
    if not run_dirs:
        raise RunDirError("no run directory given; pass one or more (list them with `mnistlab runs`)")
    records = [load_run(p) for p in run_dirs]
    path = Path(out) if out is not None else default_report_path(records)
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {path.parent} does not exist; "
                            "create it or choose another --out")
    text = render_report(records)
    try:
        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except PermissionError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror}); choose another --out") from exc
    return path
