"""What `bench tta` prints and writes: the table, the JSON document, the Markdown section, accuracy-vs-seconds plots.

Building is pure (from `summarize_tta`'s rows and the raw runs); files go through the
benchmark's atomic writers. Plots are drawn on a matplotlib `Figure` (Agg), never pyplot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from mnistlab.bench.recipes import MODELS
from mnistlab.bench.report import machine_lines, table_lines
from mnistlab.bench.tta import TtaResult, TtaRow, first_to_target_lines
from mnistlab.env import environment_info

TTA_COLUMNS = (
    ("task", "task", "{}"), ("threads", "thr", "{}"), ("engine", "engine", "{}"),
    ("tta_seconds", "s to target", "{:.2f}"), ("reached", "reached", "{}"), ("seeds", "seeds", "{}"),
    ("epochs_to_target", "epochs", "{:g}"), ("seconds_per_epoch", "s/epoch", "{:.2f}"),
    ("first_epoch_seconds", "1st epoch s", "{:.2f}"), ("eval_seconds_per_epoch", "eval s/epoch", "{:.3f}"),
    ("best_accuracy", "best acc", "{:.4f}"), ("threads_measured", "CPU/wall", "{:.2f}"),
    ("vs_mnistlab", "x mnistlab", "{:.2f}"),
)


def cannot_express_lines(result: TtaResult) -> list[str]:
    """One line per engine that could not state a task's recipe, with its reason."""
    return [f"{c.engine} cannot express {c.recipe} ({c.task}): {c.reason}" for c in result.cannot_express]


def recipe_lines(recipes: dict[str, dict[str, Any]]) -> list[str]:
    """Each task's target and recipe in one line."""
    lines = []
    for task, r in recipes.items():
        if not MODELS[r["model"]]:  # a dense net
            net = "784-" + "-".join(map(str, r["hidden"])) + "-10 ReLU"
        else:
            net = (f"conv {'-'.join(map(str, r['conv']))} (3x3{', batch norm' if r['batch_norm'] else ''}, 2x2 max pool)"
                   + (f", dense {'-'.join(map(str, r['dense']))}" if r["dense"] else "") + ", softmax")
        schedule = r["schedule"] + (f" {r['decay']}" if r["schedule"] == "inverse_time" else "")
        if r["warmup_epochs"]:
            schedule += f", {r['warmup_epochs']:g} warm-up epoch(s)"
        extras = [f"label smoothing {r['label_smoothing']:g}"] if r["label_smoothing"] else []
        extras += [f"dropout {r['dropout']:g}"] if r["dropout"] else []
        extras += [f"shifts of up to {r['shift_pixels']} px"] if r["shift_pixels"] else []
        lines.append(f"{task} to {r['target']:.1%} on {r['dataset']}: recipe {r['name']}: {net}; {r['init']} weights, "
                     f"zero biases; Adam lr {r['learning_rate']:g} (eps {r['epsilon']:g}), {schedule}; batch "
                     f"{r['batch_size']}, at most {r['max_epochs']} epochs; pixels {r['preprocessing']}"
                     + "".join(f"; {e}" for e in extras))
    return lines


def tta_document(result: TtaResult, rows: Sequence[TtaRow], command: str) -> dict[str, Any]:
    """The JSON document of a run: command, config, machine, recipes, rows, raw runs, cannot-express, notes."""
    return {"command": command, "config": asdict(result.config), "machine": environment_info(),
            "recipes": result.recipes, "rows": [row.to_dict() for row in rows], "runs": result.runs,
            "cannot_express": [asdict(c) for c in result.cannot_express], "notes": result.notes,
            "wall_seconds": result.wall_seconds}


def summary_lines(result: TtaResult, rows: Sequence[TtaRow]) -> list[str]:
    """The lines under the table: recipes, issue 16's target 2, what could not run, notes."""
    return (recipe_lines(result.recipes) + first_to_target_lines(list(rows)) + cannot_express_lines(result)
            + result.notes)


def tta_markdown(document: dict[str, Any], result: TtaResult, figure_name: str | None = None, label: str = "") -> str:
    """The Markdown section `bench tta --markdown` writes between the bench-tta markers."""
    cfg = document["config"]
    lines = [f"### Time to accuracy{f' ({label})' if label else ''}", "",
             f"Command: `{document['command']}` ({document['wall_seconds'] / 60:.1f} min). Seeds "
             f"{', '.join(map(str, cfg['seeds']))}; training seconds to the first epoch at the target, the "
             f"test-set evaluation after each epoch timed apart (eval s/epoch); medians over seeds.", ""]
    lines += [f"- {line}" for line in machine_lines(document["machine"])] + [""]
    rows = [TtaRow.from_dict(row) for row in document["rows"]]
    lines += table_lines(rows, TTA_COLUMNS, markdown=True)
    if figure_name:
        lines += ["", f"![test accuracy against training seconds]({figure_name})"]
    lines += [""] + [f"- {line}" for line in summary_lines(result, rows)]
    return "\n".join(lines) + "\n"


def accuracy_figure(runs: Sequence[dict[str, Any]]) -> Any:
    """A Figure: test accuracy against cumulative training seconds, one panel per (task, threads), one colour per engine."""
    from matplotlib.figure import Figure  # matplotlib loads only when a figure is asked for

    panels = list(dict.fromkeys((r["task"], r["threads"]) for r in runs))
    engines = list(dict.fromkeys(r["engine"] for r in runs))
    colours = {engine: f"C{i}" for i, engine in enumerate(engines)}
    fig = Figure(figsize=(5.2 * max(1, len(panels)), 4.2), layout="constrained")
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, (task, threads) in zip(axes, panels):
        labelled = set()
        target = None
        for run in (r for r in runs if (r["task"], r["threads"]) == (task, threads)):
            seconds, total = [], 0.0
            for s in run["epoch_seconds"]:
                total += s
                seconds.append(total)
            style = {"linewidth": 2.5, "color": "black"} if run["engine"] == "mnistlab" else {"color": colours[run["engine"]]}
            label = run["engine"] if run["engine"] not in labelled else None
            labelled.add(run["engine"])
            ax.plot(seconds, run["epoch_accuracy"], marker="o", markersize=3, alpha=0.8, label=label, **style)
            target = run["target"]
        if target is not None:
            ax.axhline(target, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("training seconds")
        ax.set_title(f"{task}, {threads} thread(s)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    for ax in axes:  # each panel names its own engines (the CNN tasks have no dense-only ones)
        ax.legend(fontsize=8)
    return fig
