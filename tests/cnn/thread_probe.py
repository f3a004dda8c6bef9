"""Run in a subprocess by test_cnn_threads.py: train a few batches under --threads N and report CPU use.

Prints one JSON line: cpu/wall ratio of the timed batches, how many threads did a real share of
the work, how often two or more of the process's threads were running at the same instant
(sampled from /proc every 2 ms), and the framework's own thread setting.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time


def thread_states() -> dict[int, tuple[str, float]]:
    """tid -> (state letter, CPU seconds) for every thread of this process (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (fields[0], (int(fields[11]) + int(fields[12])) / tick)
    return out


def main(backend: str, threads: int, train: bool = True) -> None:
    import numpy as np

    from mnistlab.bench.engines import get_engine
    from mnistlab.bench.engines.base import BenchData
    from mnistlab.bench.jobs import CnnJob
    from mnistlab.cnn.backend import import_keras

    keras = import_keras(backend, threads=threads)
    if not train:
        print(json.dumps({"backend": backend, "threads": threads, "cpus": len(os.sched_getaffinity(0))}))
        return
    engine = get_engine(f"keras-{backend}")
    rng = np.random.default_rng(0)  # random images: speed does not depend on the pixels
    images = rng.random((128 * 7, 784), dtype=np.float32)
    labels = rng.integers(0, 10, len(images))
    data = BenchData(images, labels, images[:10], labels[:10])
    samples, stop = [], threading.Event()

    def sampler():
        me = threading.get_native_id()
        while not stop.is_set():
            states = thread_states()
            samples.append(sum(1 for tid, (state, _) in states.items() if tid != me and state == "R"))
            time.sleep(0.002)

    before = thread_states()
    watcher = threading.Thread(target=sampler, daemon=True)
    watcher.start()
    cpu0 = time.process_time()
    outcome = engine.train(data, CnnJob(batch_size=128, n_batches=6, warmup_batches=1))
    cpu_seconds = time.process_time() - cpu0
    seconds = outcome.train_seconds + outcome.warmup_seconds
    stop.set()
    watcher.join()
    after = thread_states()
    used = {tid: cpu - before.get(tid, ("", 0.0))[1] for tid, (_, cpu) in after.items()}
    total = sum(used.values())
    report = {"backend": keras.backend.backend(), "threads": threads, "cpu_over_wall": cpu_seconds / seconds,
              "busy_threads": sum(1 for v in used.values() if v > 0.1 * total),
              "parallel_share": sum(1 for s in samples if s >= 2) / max(len(samples), 1),
              "samples": len(samples), "cpus": len(os.sched_getaffinity(0))}
    if backend == "torch":
        import torch

        report["framework_threads"] = torch.get_num_threads()
    elif backend == "tensorflow":
        import tensorflow as tf

        report["framework_threads"] = tf.config.threading.get_intra_op_parallelism_threads()
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), train=sys.argv[3:] != ["--no-train"])
