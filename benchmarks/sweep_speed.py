"""What a sweep on Ray costs and gains on this machine (issue 14), printed as a Markdown table.

1. Ray's start-up: a local Ray as `mnistlab sweep` starts it (ray.init + ray.shutdown), timed `--repeats` times.
2. Per-trial overhead: `--overhead-trials` one-epoch trainings of a tiny MLP as a sweep with one
   trial at a time, against the same trainings called directly (train_mlp_run, no Ray):
   (sweep wall - Ray start-up - direct wall) / trials.
3. The target: `--trials` trainings of the seed MLP (`--epochs` epochs, seeds 0..trials-1) as a sweep with
   1 thread per trial and 2 at a time, against the same trainings one after another with 2 threads
   each (`mnistlab mlp train --threads 2`, one process each). Target: sweep <= 0.9x sequential.
4. Threads: CPU seconds per epoch of a 1-thread trial running alone (a 2-trial sweep, one at a time)
   against the same trial running beside another (from the sweep of 3).

Run on a quiet machine: `python benchmarks/sweep_speed.py` (18 trainings of the seed MLP in all).
A quick check that it works: `python benchmarks/sweep_speed.py --trials 2 --epochs 2 --train-size 2000 --repeats 1`.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mnistlab.sweep import run_sweep
from mnistlab.sweep.driver import ray_session, thread_env
from mnistlab.sweep.spec import SweepSpec


def ray_startup_seconds(repeats: int) -> list[float]:
    """Wall seconds to start and stop a local Ray the way the sweep command does."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with ray_session(None, thread_env(1)):
            pass
        times.append(time.perf_counter() - start)
    return times


def seed_spec(trials: int, epochs: int, train_size: int | None, max_concurrent: int) -> SweepSpec:
    """The seed MLP over seeds 0..trials-1, one thread per trial."""
    fixed = {"epochs": epochs, **({"train_size": train_size} if train_size else {})}
    return SweepSpec.from_dict({"model": "mlp", "preset": "seed", "metric": "test_accuracy", "search": "grid",
                                "seeds": list(range(trials)), "threads_per_trial": 1,
                                "max_concurrent": max_concurrent, "fixed": fixed, "space": {"lr": [0.001]}},
                               name=f"speed-{max_concurrent}x")


def timed_sweep(spec: SweepSpec, runs_dir: Path) -> tuple[float, list[dict]]:
    """(wall seconds of run_sweep, results.csv rows)."""
    start = time.perf_counter()
    summary = run_sweep(spec, runs_dir=runs_dir)
    wall = time.perf_counter() - start
    with (Path(summary["sweep_dir"]) / "results.csv").open(newline="") as fh:
        return wall, list(csv.DictReader(fh))


def sequential_seconds(trials: int, epochs: int, train_size: int | None, runs_dir: Path) -> float:
    """Wall seconds of the same trainings one after another, 2 threads each, one CLI process each."""
    start = time.perf_counter()
    for seed in range(trials):
        argv = [sys.executable, "-m", "mnistlab", "mlp", "train", "--preset", "seed", "--seed", str(seed),
                "--epochs", str(epochs), "--threads", "2", "--quiet", "--json", "--runs-dir", str(runs_dir)]
        if train_size:
            argv += ["--train-size", str(train_size)]
        subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def direct_seconds(spec: SweepSpec, runs_dir: Path) -> float:
    """Wall seconds of the spec's trainings called directly in this process (no Ray)."""
    from mnistlab.runs.training import train_mlp_run
    from mnistlab.sweep.options import trial_config
    from mnistlab.threads import configure_threads

    configure_threads(1)  # as in a trial
    start = time.perf_counter()
    for seed in spec.seeds:
        config = trial_config("mlp", spec.base_config(), dataset=spec.dataset, threads=1, seed=seed,
                              options={**spec.fixed, "lr": spec.space["lr"][0]})
        train_mlp_run(config, runs_dir=str(runs_dir), name=f"direct-{seed}")
    return time.perf_counter() - start


def _mean(rows: list[dict], column: str) -> float:
    values = [float(r[column]) for r in rows if r.get(column)]
    return statistics.fmean(values) if values else float("nan")


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=35)
    parser.add_argument("--train-size", type=int, default=None, help="first N training images [default: all]")
    parser.add_argument("--repeats", type=int, default=3, help="Ray start-ups to time")
    parser.add_argument("--overhead-trials", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sweep-speed-") as tmp:
        runs = Path(tmp)
        startup = ray_startup_seconds(args.repeats)
        tiny = SweepSpec.from_dict({"model": "mlp", "preset": "seed", "metric": "test_accuracy",
                                    "seeds": list(range(args.overhead_trials)), "max_concurrent": 1,
                                    "fixed": {"epochs": 1, "train_size": 1000, "hidden": "16"},
                                    "space": {"lr": [0.01]}}, name="overhead")
        tiny_wall, _ = timed_sweep(tiny, runs)
        tiny_direct = direct_seconds(tiny, runs / "direct")
        overhead = (tiny_wall - statistics.fmean(startup) - tiny_direct) / args.overhead_trials
        sequential = sequential_seconds(args.trials, args.epochs, args.train_size, runs / "sequential")
        concurrent_wall, concurrent_rows = timed_sweep(seed_spec(args.trials, args.epochs, args.train_size, 2), runs)
        _, alone_rows = timed_sweep(seed_spec(2, args.epochs, args.train_size, 1), runs)
    size = f"{args.train_size or 60000} images, {args.epochs} epochs"
    print("| measurement | value |")
    print("|---|---|")
    print(f"| Ray start-up + shutdown (local, {args.repeats} times) | "
          f"{statistics.fmean(startup):.2f} s (min {min(startup):.2f}, max {max(startup):.2f}) |")
    print(f"| per-trial overhead of a sweep ({args.overhead_trials} one-epoch trials, one at a time) | "
          f"{overhead:.2f} s |")
    print(f"| {args.trials} seed-MLP trainings one after another, 2 threads each ({size}) | {sequential:.1f} s |")
    print(f"| the same as a sweep: 1 thread per trial, 2 at a time | {concurrent_wall:.1f} s |")
    print(f"| sweep / sequential (target <= 0.9) | {concurrent_wall / sequential:.2f} |")
    for label, rows in (("alone", alone_rows), ("2 concurrent", concurrent_rows)):
        print(f"| 1-thread trial {label}: CPU s / wall s per epoch (epochs 2+) | "
              f"{_mean(rows, 'cpu_seconds_per_epoch'):.2f} / {_mean(rows, 'wall_seconds_per_epoch'):.2f} |")


if __name__ == "__main__":
    main()
