"""One engine in its own process: ``python -m mnistlab.bench.worker --engine E --threads N --data DIR``.

Thread limits (and, for Keras, the backend) are applied before any framework is imported,
which is the only way they are guaranteed to hold, and the process is pinned to that many
CPUs. The worker then reads one JSON job per
line on stdin and answers one JSON result per line; anything the frameworks print goes to
stderr, so the protocol stream stays clean. Each result carries the measured threads
(process CPU seconds / wall seconds of the job) and the process's peak RSS so far.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import traceback
from typing import Any

from mnistlab.threads import configure_threads, restrict_cpus


def _measure(engine: Any, data: Any, fields: dict[str, Any]) -> dict[str, Any]:
    from mnistlab.bench.jobs import job_from_fields  # threads first: see serve

    task = fields.pop("task", "train")
    repeats = fields.pop("repeats", 1)
    job = job_from_fields(fields)
    reason = engine.cannot_express(job)
    if reason:  # the parent asks first; this guards the protocol
        raise ValueError(f"{engine.name} cannot express this job: {reason}")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if task == "targets":
        outcome = engine.targets(data, job, repeats=repeats)
    else:
        outcome = engine.train(data, job)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return {
        "epoch_seconds": outcome.epoch_seconds,
        "train_seconds": outcome.train_seconds,
        "warmup_seconds": outcome.warmup_seconds,
        "test_accuracy": outcome.test_accuracy,
        "cpu_wall_ratio": cpu / wall if wall > 0 else None,
        "pool_threads": engine.threads_used(),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        **outcome.extra,
    }


def serve(engine_name: str, threads: int, data_dir: str | None, dataset: str, n_train: int | None,
          stdin: Any, out: Any) -> None:
    """Set up `engine_name` on `threads` threads, announce readiness, then answer jobs until stdin closes.

    The rest of mnistlab.bench loads NumPy, so it is imported only here, once the pools are bounded.
    """
    configure_threads(threads)
    restrict_cpus(threads)  # the hard bound for XLA, which has no thread-count flag
    from mnistlab.bench.dataset import load_bench_data, read_bench_data  # threads first: NumPy loads here
    from mnistlab.bench.engines import get_engine  # threads first: NumPy loads here

    def send(payload: dict[str, Any]) -> None:
        out.write(json.dumps(payload) + "\n")
        out.flush()

    try:
        start = time.perf_counter()
        engine = get_engine(engine_name)
        engine.setup(threads)
        data = read_bench_data(data_dir) if data_dir else load_bench_data(dataset, n_train)
        send({"ready": True, "setup_seconds": time.perf_counter() - start, "pool_threads": engine.threads_used()})
    except Exception as exc:  # reported to the parent, which prints one line
        send({"ready": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
        return
    for line in stdin:
        if not line.strip():
            continue
        try:
            send({"ok": True, **_measure(engine, data, json.loads(line))})
        except Exception as exc:
            send({"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, move framework chatter off stdout, and serve jobs."""
    parser = argparse.ArgumentParser(prog="python -m mnistlab.bench.worker")
    parser.add_argument("--engine", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--data", help="directory with the .npy arrays the parent wrote")
    parser.add_argument("--dataset", default="mnist", help="load and scale this dataset when --data is absent")
    parser.add_argument("--n-train", type=int)
    args = parser.parse_args(argv)
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(args.engine, args.threads, args.data, args.dataset, args.n_train, sys.stdin, protocol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
