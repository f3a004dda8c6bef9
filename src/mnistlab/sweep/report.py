"""The sweep page of `mnistlab report SWEEP_DIR`: best trial, metric per option, parallel coordinates, top-k.

Computing (`option_effects`) and drawing (`effects_figure`, `parallel_coordinates_svg`) stay apart;
the page is self-contained (inline PNG and SVG, no network).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from html import escape
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from mnistlab import __version__
from mnistlab.errors import ConfigError
from mnistlab.fileio import atomic_write
from mnistlab.runs import html
from mnistlab.runs.report import write_report
from mnistlab.sweep.results import SweepTable, TrialRow, is_sweep_dir
from mnistlab.sweep.table import params_text

TOP_K = 10


def option_effects(table: SweepTable) -> dict[str, list[tuple[Any, float, float, int]]]:
    """Per searched option: (value, mean, sd, n) of the final metric over every trial with that value."""
    effects: dict[str, list[tuple[Any, float, float, int]]] = {}
    rows = table.ranked()
    for name in sorted({k for r in rows for k in r.params}):
        groups: dict[str, tuple[Any, list[float]]] = {}
        for row in rows:
            value = row.params.get(name)
            groups.setdefault(repr(value), (value, []))[1].append(row.final)
        stats = [(v, statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0, len(xs))
                 for v, xs in groups.values()]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, *_ in stats)
        effects[name] = sorted(stats, key=lambda s: s[0] if numeric else repr(s[0]))
    return effects


def effects_figure(effects: dict[str, list[tuple[Any, float, float, int]]], metric: str):
    """One panel per option: mean ± sd of `metric` against the option's values."""
    from matplotlib.figure import Figure  # matplotlib loads only when a figure is drawn

    fig = Figure(figsize=(4.2 * max(len(effects), 1), 3.4), layout="constrained")
    axes = fig.subplots(1, max(len(effects), 1), squeeze=False)[0]
    for ax, (name, stats) in zip(axes, effects.items()):
        values = [s[0] for s in stats]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        x = values if numeric else list(range(len(values)))
        ax.errorbar(x, [s[1] for s in stats], yerr=[s[2] for s in stats], marker="o", capsize=4)
        if numeric and min(values) > 0 and max(values) / min(values) >= 20:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(x, [str(v) for v in values], rotation=30)
        ax.set_xlabel(name)
        ax.set_ylabel(f"{metric} (mean ± sd)")
        ax.grid(alpha=0.3)
    return fig


def parallel_coordinates_svg(table: SweepTable, width: int = 760, height: int = 300) -> str:
    """An inline SVG: one axis per option plus the metric, one line per finished trial (darker = better)."""
    rows = table.ranked()
    names = sorted({k for r in rows for k in r.params}) + ["seed", table.metric]
    if not rows:
        return '<p class="muted">(no finished trial yet)</p>'

    def value(row: TrialRow, name: str) -> Any:
        return row.final if name == table.metric else row.seed if name == "seed" else row.params.get(name)

    pad, top, bottom = 60, 24, height - 30
    xs = [pad + i * (width - 2 * pad) / max(len(names) - 1, 1) for i in range(len(names))]
    scales, ends = [], []
    for name in names:
        vals = [value(r, name) for r in rows]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            lo, hi = min(vals), max(vals)
            scales.append(lambda v, lo=lo, hi=hi: 0.5 if hi == lo else (v - lo) / (hi - lo))
            ends.append((f"{lo:.4g}", f"{hi:.4g}"))
        else:
            levels = sorted({repr(v) for v in vals})
            scales.append(lambda v, levels=levels: 0.5 if len(levels) == 1
                          else levels.index(repr(v)) / (len(levels) - 1))
            ends.append((levels[0], levels[-1]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="parallel coordinates of {len(rows)} trials">']
    for rank, row in enumerate(reversed(rows)):  # the best trial drawn last, on top
        shade = int(200 * (1 - (rank + 1) / len(rows)))
        points = " ".join(f"{x:.1f},{bottom - scale(value(row, n)) * (bottom - top):.1f}"
                          for x, scale, n in zip(xs, scales, names))
        parts.append(f'<polyline points="{points}" fill="none" stroke="rgb({shade},{shade},255)" '
                     f'stroke-width="1.5"><title>{escape(params_text(row.params, row.seed))}: {row.final:.4g}</title>'
                     '</polyline>')
    for x, name, (low, high) in zip(xs, names, ends):
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#444"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{top - 6}" font-size="10">{escape(high)}</text>'
                     f'<text x="{x + 4:.1f}" y="{bottom - 4}" font-size="10">{escape(low)}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_sweep_page(table: SweepTable) -> str:
    """The whole HTML page of one sweep."""
    summary, metric = table.summary(), table.metric
    title = f"mnistlab sweep: {table.spec.get('name', table.sweep_dir.name)}"
    written = dt.datetime.now().isoformat(timespec="seconds")
    body = [f"<header><h1>{escape(title)}</h1>",
            f'<p class="muted">{escape(str(table.sweep_dir))} · written {written}'
            f" by mnistlab {__version__}</p></header>",
            "<section><h2>Summary</h2>",
            html.key_value_table({"status": summary.status, "metric": f"{metric} ({summary.mode})",
                                  "trials": summary.trials,
                                  **{f"trials {k}": v for k, v in summary.counts.items()},
                                  "seconds": summary.seconds})]
    best = summary.best
    if best is not None:
        link = os.path.relpath(best.run_dir, table.sweep_dir) if best.run_dir else ""
        body += ["<h2>Best trial</h2>",
                 html.key_value_table({"trial": best.trial, **html.flatten(best.params), "seed": best.seed,
                                       f"final {metric}": best.final, f"best {metric}": best.best,
                                       "run directory": link})]
    effects = option_effects(table)
    if effects:
        body.append(html.image(html.png_bytes(effects_figure(effects, metric)),
                               f"Final {metric} against each option: mean ± sd over the trials with that value "
                               "(seeds and the other options)", alt="metric against each option"))
    body += ["<h2>Parallel coordinates</h2>", parallel_coordinates_svg(table),
             f"<h2>Top {TOP_K} configurations (mean ± sd over seeds)</h2>",
             html.columns_table(["parameters", "seeds", f"{metric} mean", "sd"],
                                ([params_text(p.params, "*"), p.n, p.mean, p.sd]
                                 for p in table.point_means()[:TOP_K])),
             "<h2>All trials</h2>",
             html.columns_table(["trial", "parameters", "epochs", f"final {metric}", f"best {metric}", "seconds",
                                 "status", "host"],
                                ([r.trial, params_text(r.params, r.seed), r.epochs, r.final, r.best, r.seconds,
                                  r.status, r.hostname] for r in table.in_order())),
             "</section>"]
    return html.page(title, "\n".join(body))


def write_sweep_report(sweep_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the sweep page (default SWEEP_DIR/report.html) atomically and return its path."""
    sweep_dir = Path(sweep_dir)
    if not is_sweep_dir(sweep_dir):
        raise ConfigError(f"{sweep_dir} is not a sweep directory (no sweep.json); pass one made by `mnistlab sweep`")
    path = Path(out) if out is not None else sweep_dir / "report.html"
    text = render_sweep_page(SweepTable.load(sweep_dir))
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def write_page(paths: Sequence[str | os.PathLike], out: str | os.PathLike | None = None) -> Path:
    """`mnistlab report`'s page: the sweep's page for one sweep directory, else the runs' page (one or several)."""
    if len(paths) == 1 and is_sweep_dir(paths[0]):
        return write_sweep_report(paths[0], out)
    return write_report(list(paths), out)
