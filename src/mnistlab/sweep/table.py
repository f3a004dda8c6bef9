"""The sweep's progress as text: a table of trials (redrawn on a terminal) or one line per event."""

from __future__ import annotations

import json
from typing import Any

from mnistlab.sweep.results import SweepSummary, SweepTable, TrialRow


def _format(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def params_text(params: dict[str, Any], seed: Any) -> str:
    """A trial's searched options and seed, e.g. "lr=0.002 seed=1" (seed None: "seed=?")."""
    parts = [f"{k}={_format(v)}" for k, v in sorted(params.items())]
    return " ".join(parts + [f"seed={'?' if seed is None else seed}"])


def table_lines(table: SweepTable) -> list[str]:
    """The live table: trial, parameters, epoch, metric (final and best), status."""
    header = ["trial", "parameters", "epoch", table.metric, "best", "status"]
    rows = [[r.trial, params_text(r.params, r.seed), str(r.epochs), _format(r.final), _format(r.best), r.status]
            for r in table.in_order()]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *rows]]


def event_line(event: str, row: TrialRow, table: SweepTable) -> str:
    """One line for a trial event (a log, when the output is not a terminal)."""
    text = f"{row.trial} {event} [{params_text(row.params, row.seed)}]"
    if event == "epoch":
        text += f" epoch {row.epochs} {table.metric} {_format(row.final)}"
    elif event == "end":
        text += f" {row.status} after {row.epochs} epochs, {table.metric} {_format(row.final)}"
        if row.error and row.status == "failed":
            text += f": {row.error}"
    counts = table.counts()
    return f"{text} ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})"


class EventText:
    """The text to show for each sweep event: the whole table, redrawn in place (`live`, a terminal: it
    moves the cursor up over the previous drawing), else one line per event (a log)."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.drawn = 0

    def __call__(self, event: str, row: TrialRow, table: SweepTable) -> str:
        if not self.live:
            return event_line(event, row, table)
        lines = table_lines(table)
        up = f"\x1b[{self.drawn}F\x1b[J" if self.drawn else ""
        self.drawn = len(lines)
        return up + "\n".join(lines)


def summary_lines(summary: SweepSummary) -> list[str]:
    """A finished (or interrupted) sweep in a line or two: trials per status, time, where, and the best trial."""
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts.items()))
    lines = [f"{summary.trials} trials ({counts}) in {summary.seconds:.0f} s; sweep: {summary.sweep_dir}"]
    best = summary.best
    if best is not None:
        lines.append(f"best: {summary.metric} {best.final:.4f}, {best.params} seed {best.seed} ({best.run_dir})")
    return lines


def failure_lines(summary: SweepSummary) -> list[str]:
    """One line per trial that did not end well (its status and recorded reason), then the command that
    finishes them; no lines when every trial ended well."""
    if not summary.failed:
        return []
    lines = []
    for row in summary.failed:
        reason = (row.error or "no reason recorded").splitlines()[0]
        lines.append(f"{row.status} trial {row.trial} [{params_text(row.params, row.seed)}]: {reason}")
    lines.append(f"error: {len(summary.failed)} of {summary.trials} trials did not finish; train them with: "
                 f"mnistlab sweep --resume {summary.sweep_dir}")
    return lines
