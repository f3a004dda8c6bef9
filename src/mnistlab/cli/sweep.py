"""`mnistlab sweep SPEC.toml`: many trainings in parallel on Ray Tune, declared in a TOML spec."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from mnistlab.cli import ExitCode
from mnistlab.errors import ConfigError


@click.command("sweep")
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Continue the interrupted sweep in SWEEP_DIR, or train its failed trials again (finished "
                   "trials are not trained again).")
@click.option("--address", help="A Ray cluster to run on: auto, or ray://HOST:PORT [default: a local Ray "
                                "sized to this machine, started and stopped by the command].")
@click.option("--runs-dir", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Where the sweep directory is created.")
@click.option("--quiet", is_flag=True, help="No progress table or event lines.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout.")
def sweep_command(spec: Path | None, resume_dir: Path | None, address: str | None, runs_dir: str, quiet: bool,
                  as_json: bool) -> int:
    """Train every trial of SPEC.toml on Ray Tune; each trial is a run directory in the sweep's directory.

    The sweep directory (RUNS_DIR/<date-time>-<name>/) holds sweep.json, results.csv and the trials'
    runs; `mnistlab report SWEEP_DIR` draws its page. docs/sweep.md describes every spec key.
    Exit code 0 when every trial completed, was stopped early by the scheduler or diverged; 1 when a
    trial failed (each named on stderr, with its reason; --resume trains it again); 130 on Ctrl-C.

    Example: mnistlab sweep benchmarks/sweeps/seed_preset.toml --json
    """
    from mnistlab.sweep import load_spec, resume_sweep, run_sweep
    from mnistlab.sweep.table import EventText, failure_lines, summary_lines

    if (spec is None) == (resume_dir is None):
        raise ConfigError("give either SPEC.toml (a new sweep) or --resume SWEEP_DIR (an interrupted one)")
    text = EventText(live=sys.stderr.isatty())  # live only on a terminal, so the cursor codes are kept
    progress = None if quiet else lambda *event: click.echo(text(*event), err=True, color=text.live)
    # Ray prints a dead worker's notice on stdout; stdout keeps only the summary (--json stays parseable).
    with contextlib.redirect_stdout(sys.stderr):
        if resume_dir is not None:
            summary = resume_sweep(resume_dir, address=address, on_event=progress)
        else:
            summary = run_sweep(load_spec(spec), runs_dir=runs_dir, address=address, on_event=progress)
    click.echo(json.dumps(summary.to_dict(), sort_keys=True) if as_json else "\n".join(summary_lines(summary)))
    if summary.status == "interrupted":
        click.echo(f"interrupted; continue with: mnistlab sweep --resume {summary.sweep_dir}", err=True)
        return ExitCode.INTERRUPTED
    failures = failure_lines(summary)  # failed trials: a CI script must not take the sweep for a success
    for line in failures:
        click.echo(line, err=True)
    return ExitCode.ERROR if failures else ExitCode.OK


COMMANDS = [sweep_command]
