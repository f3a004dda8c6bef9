"""Draw -> prediction round trips of `mnistlab lab` over its HTTP API (issue 15's speed targets).

What the page does while you draw: POST /api/predict with the pad's 140x140 ink, which the server
preprocesses MNIST-style and runs through the chosen model. Two cases are timed end to end
(client send -> JSON parsed), with keep-alive like the browser:

- MLP: probabilities and hidden activations (target: < 50 ms);
- CNN: probabilities, every conv layer's feature maps and the strongest last-conv maps (target: < 200 ms).

The "drawings" are test digits blown up to 140x140, so each request differs like real strokes do.
The lab is served by uvicorn in this process (a thread) on a free 127.0.0.1 port, unless --url
names a running lab.

Run: `python benchmarks/lab_latency.py --runs-dir runs` (uses the newest completed MLP and CNN runs;
`--mlp RUN --cnn RUN` to choose; `--repeats 200`). Prints a Markdown table and, with --json, JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def newest_run(runs_dir: Path, kind: str) -> str | None:
    """The newest completed run of `kind` that has a model, or None."""
    from mnistlab.lab.runs_view import runs_table

    rows = [r for r in runs_table(runs_dir) if r["kind"] == kind and r["status"] == "completed" and r["has_model"]]
    return rows[-1]["name"] if rows else None


def drawings(count: int) -> list[list[list[int]]]:
    """`count` test digits scaled up 5x to 140x140, as the pad sends them."""
    from mnistlab.data import load

    images = load("mnist", "test").images[:count]
    return [np.kron(image, np.ones((5, 5), dtype=np.uint8)).tolist() for image in images]


def serve(runs_dir: Path) -> tuple[str, Any, threading.Thread]:
    """Start the lab on a free 127.0.0.1 port in a thread; return its URL, server and thread."""
    from mnistlab.lab import create_app
    from mnistlab.lab.server import make_server, open_listener

    sock = open_listener("127.0.0.1", 0)
    server = make_server(create_app(runs_dir))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def time_round_trips(url: str, run: str, images: list, warmup: int = 3) -> dict[str, float]:
    """Median, 95th percentile and max milliseconds of POST /api/predict for `run` over `images`."""
    import httpx

    with httpx.Client(base_url=url, headers={"Origin": url}, timeout=60) as client:
        def once(image: list) -> tuple[float, float]:
            began = time.perf_counter()
            response = client.post("/api/predict", json={"image": image, "runs": [run], "details": True})
            response.raise_for_status()
            payload = response.json()
            return (time.perf_counter() - began) * 1000, payload["server_ms"]

        for image in images[:warmup]:  # load and cache the model, warm the framework
            once(image)
        timings = [once(image) for image in images]
    trips = sorted(t for t, _ in timings)
    return {"median_ms": round(statistics.median(trips), 2), "p95_ms": round(trips[int(0.95 * (len(trips) - 1))], 2),
            "max_ms": round(trips[-1], 2), "server_median_ms": round(statistics.median(s for _, s in timings), 2),
            "n": len(trips)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--mlp", help="MLP run name [default: the newest completed one]")
    parser.add_argument("--cnn", help="CNN run name [default: the newest completed one]")
    parser.add_argument("--repeats", type=int, default=100, help="requests per model")
    parser.add_argument("--url", help="a running lab (e.g. http://127.0.0.1:8765) instead of starting one")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    targets = {"mlp": (args.mlp or newest_run(args.runs_dir, "mlp"), 50.0),
               "cnn": (args.cnn or newest_run(args.runs_dir, "cnn"), 200.0)}
    if not any(run for run, _ in targets.values()):
        raise SystemExit(f"no completed MLP or CNN run in {args.runs_dir}; train one first")
    url, server, thread = (args.url, None, None) if args.url else serve(args.runs_dir)
    images = drawings(args.repeats)
    results = {}
    try:
        for kind, (run, target) in targets.items():
            if run:
                results[kind] = {"run": run, "target_ms": target, **time_round_trips(url, run, images)}
    finally:
        if server is not None:
            server.should_exit = True
            thread.join(timeout=10)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| model | run | median ms | p95 ms | max ms | server median ms | target ms | requests |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(f"| {kind} | {r['run']} | {r['median_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['server_median_ms']} "
              f"| < {r['target_ms']:g} | {r['n']} |")


if __name__ == "__main__":
    main()
