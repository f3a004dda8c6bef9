"""What checkpointing costs the seed MLP (issue 12's budget: at most 2% of its training time).

Trains `--preset seed` through `train_mlp_run` `--repeats` times with a checkpoint every epoch and
times every call of `Checkpointer.epoch_done` (capturing the state and writing the file), against
the run's training seconds. Direct timing, because the A/B difference of two whole runs is smaller
than their run-to-run noise here. Prints a Markdown table.

Run on a quiet machine: `python benchmarks/checkpoint_cost.py --threads 2 --repeats 5`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence

from mnistlab.mlp.run import PRESETS
from mnistlab.runs import checkpoint
from mnistlab.runs.training import train_mlp_run
from mnistlab.threads import configure_threads


def timed_run(runs_dir: str, every: int) -> tuple[float, float, int]:
    """(train seconds, seconds inside the checkpointer, checkpoints written) of one seed-preset run."""
    spent = [0.0, 0]
    original = checkpoint.Checkpointer.epoch_done

    def epoch_done(self, epoch, capture):  # the real method, timed
        start = time.perf_counter()
        original(self, epoch, capture)
        spent[0] += time.perf_counter() - start
        spent[1] += 1

    checkpoint.Checkpointer.epoch_done = epoch_done
    try:
        summary = train_mlp_run(PRESETS["seed"], runs_dir=runs_dir, name="checkpoint-cost", checkpoint_every=every)
    finally:
        checkpoint.Checkpointer.epoch_done = original
    return summary["train_seconds"], spent[0], int(spent[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--every", type=int, default=1, help="checkpoint every K epochs (1: the default)")
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    shares, trains, costs = [], [], []
    with tempfile.TemporaryDirectory() as runs_dir:
        for _ in range(args.repeats):
            train, cost, calls = timed_run(runs_dir, args.every)
            trains.append(train)
            costs.append(cost)
            shares.append(cost / train)
    print("| runs | threads | epochs checkpointed per run | median train s | median checkpoint s | "
          "median share | max share | budget |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.repeats} | {args.threads} | {calls} | {statistics.median(trains):.2f} | "
          f"{statistics.median(costs):.3f} | {statistics.median(shares):.2%} | {max(shares):.2%} | <= 2% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
