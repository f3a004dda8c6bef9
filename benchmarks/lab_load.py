"""The lab under load: many clients at once against `mnistlab lab`, for a fixed time (issue 23).

What runs, against the real command (`python -m mnistlab lab --port 0`, uvicorn on 127.0.0.1) over
a runs directory of `--runs` generated real-format runs (benchmarks/many_runs.py) plus a trained MLP
and a trained CNN:

- `--drawers` drawing clients (half on the MLP, half on the CNN with its maps) POST /api/predict as
  the page does while you draw: one request in flight, the next as soon as it answers;
- `--streams` open event streams (/api/events), as open pages;
- a client paging the table: /api/runs with a rotating query, then the details of a few of its runs;
- a training started from the lab (POST /api/train) at the start, training throughout.

It holds for `--seconds` (60), then prints the figures: requests and their statuses (any 5xx is a
failure), draw -> prediction round trips per model (median, p95, max) against the targets (MLP
50 ms, CNN with maps 200 ms), the events each stream received and the longest wait between two of
them, and the training: once it has finished, the same command is run alone and the final metrics
and weights are compared (the MLP is deterministic for a seed). The lab is then stopped (SIGINT).

Run: `python benchmarks/lab_load.py` (about 3-5 minutes with the trainings; `--json` for JSON).
`run_load` is also the short load test of tests/lab/test_lab_load.py (a few seconds, few clients).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TARGETS_MS = {"mlp": 50.0, "cnn": 200.0}
TRAIN_FORM = {"kind": "mlp", "train_size": 60000, "hidden": "256,128", "epochs": 40, "preset": "default",
              "name": "load-training"}
QUERIES = ["", 'model == "mlp"', "test_accuracy > 0.95", 'model == "cnn" and epochs > 10', 'status == "completed"']
TIMING_COLUMNS = ("epoch_seconds", "eval_seconds", "wall_seconds", "train_seconds")


def _load_many_runs():
    spec = importlib.util.spec_from_file_location("many_runs", Path(__file__).with_name("many_runs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_runs(runs_dir: Path, count: int, mlp: Path | None = None, cnn: Path | None = None) -> dict[str, str]:
    """`count` generated runs plus an MLP and a CNN run (copied from `mlp`/`cnn`, else trained small)."""
    from mnistlab.cnn.config import CNN_PRESETS
    from mnistlab.mlp.config import MLPConfig
    from mnistlab.mlp.run import MLPRunConfig
    from mnistlab.runs.training import train_cnn_run, train_mlp_run

    _load_many_runs().generate_runs(runs_dir, count, durable=False)
    names = {}
    for kind, source in (("mlp", mlp), ("cnn", cnn)):
        if source is not None:
            shutil.copytree(source, runs_dir / source.name)
            names[kind] = source.name
        elif kind == "mlp":
            network = MLPConfig(hidden_sizes=(70, 30), epochs=5, n_iter_no_change=None)  # the seed's shape
            config = MLPRunConfig(scaler="unit", train_size=10000, mlp=network)
            names[kind] = Path(train_mlp_run(config, runs_dir=str(runs_dir), name="draw-mlp")["run_dir"]).name
        else:
            config = CNN_PRESETS["fast"].replace(epochs=1, train_size=5000).validate()
            names[kind] = Path(train_cnn_run(config, runs_dir=str(runs_dir), name="draw-cnn")["run_dir"]).name
    return names


def start_lab(runs_dir: Path, timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """`python -m mnistlab lab --runs-dir RUNS --port 0 --no-browser` in its own group; its URL."""
    process = subprocess.Popen([sys.executable, "-m", "mnistlab", "lab", "--runs-dir", str(runs_dir), "--port", "0",
                                "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()  # the first line names the URL (printed before the server starts)
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not match:
        stop_lab(process)
        raise RuntimeError(f"mnistlab lab did not print its URL: {line!r}")
    url = match.group(1)
    import httpx

    while time.monotonic() < deadline:  # up once /api/jobs answers
        try:
            if httpx.get(f"{url}/api/jobs", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    stop_lab(process)
    raise RuntimeError("mnistlab lab did not answer within its start-up time")


def stop_lab(process: subprocess.Popen) -> int:
    """Ctrl-C the lab (SIGINT), SIGKILL after 30 s; its exit code."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def drawing_bodies(count: int, runs: dict[str, str]) -> dict[str, list[bytes]]:
    """Per model, `count` JSON bodies of /api/predict: test digits blown up to 140x140, as the pad sends them."""
    from mnistlab.data import load
    from mnistlab.lab.encode import encode_pixels

    images = load("mnist", "test").images[:count]
    pads = [encode_pixels(np.kron(image, np.ones((5, 5), dtype=np.uint8))) for image in images]
    return {kind: [json.dumps({"image": pad, "runs": [run], "details": True}).encode() for pad in pads]
            for kind, run in runs.items()}


@dataclass
class Tally:
    """What the clients saw."""

    statuses: dict[str, int] = field(default_factory=dict)
    draw_ms: dict[str, list[float]] = field(default_factory=lambda: {"mlp": [], "cnn": []})
    page_ms: list[float] = field(default_factory=list)
    stream_events: list[list[float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1


async def _drawer(client: Any, kind: str, bodies: list[bytes], stop_at: float, tally: Tally, index: int) -> None:
    headers = {"Content-Type": "application/json"}
    while time.monotonic() < stop_at:
        body = bodies[index % len(bodies)]
        index += 1
        began = time.perf_counter()
        response = await client.post("/api/predict", content=body, headers=headers)
        await response.aread()
        tally.count(response.status_code)
        if response.status_code == 200:
            tally.draw_ms[kind].append((time.perf_counter() - began) * 1000)


async def _pager(client: Any, stop_at: float, tally: Tally) -> None:
    turn = 0
    while time.monotonic() < stop_at:
        began = time.perf_counter()
        response = await client.get("/api/runs", params={"q": QUERIES[turn % len(QUERIES)]})
        tally.count(response.status_code)
        tally.page_ms.append((time.perf_counter() - began) * 1000)
        rows = response.json().get("runs", []) if response.status_code == 200 else []
        for row in rows[turn % 7::max(1, len(rows) // 3)][:3]:  # open a few runs of this page
            tally.count((await client.get(f"/api/runs/{row['name']}")).status_code)
        turn += 1


async def _stream(client: Any, stop_at: float, times: list[float]) -> None:
    async with client.stream("GET", "/api/events") as response:
        if response.status_code != 200:
            times.append(-float(response.status_code))
            return
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                times.append(time.monotonic())
            if time.monotonic() >= stop_at:
                return


async def _load(url: str, runs: dict[str, str], bodies: dict[str, list[bytes]], seconds: float, drawers: int,
                streams: int, train_form: dict[str, Any] | None, tally: Tally) -> dict[str, Any] | None:
    import httpx

    limits = httpx.Limits(max_connections=drawers + streams + 8, max_keepalive_connections=drawers + streams + 8)
    async with httpx.AsyncClient(base_url=url, headers={"Origin": url}, timeout=60, limits=limits) as client:
        json_type = {"Content-Type": "application/json"}
        for run_bodies in bodies.values():  # load each model once (Keras starts, preprocessing refits)
            response = await client.post("/api/predict", content=run_bodies[0], headers=json_type)
            tally.count(response.status_code)
        job = None
        if train_form is not None:
            response = await client.post("/api/train", json=train_form)
            tally.count(response.status_code)
            job = response.json()
        stop_at = time.monotonic() + seconds
        tally.stream_events = [[] for _ in range(streams)]
        tasks = [asyncio.create_task(_stream(client, stop_at, times)) for times in tally.stream_events]
        kinds = [kind for kind in ("mlp", "cnn") if kind in runs]
        tasks += [asyncio.create_task(_drawer(client, kinds[i % len(kinds)], bodies[kinds[i % len(kinds)]], stop_at,
                                              tally, i * 7)) for i in range(drawers)]
        tasks.append(asyncio.create_task(_pager(client, stop_at, tally)))
        # Streams wait for their next event: stop every task at the deadline (plus slack for the last answers).
        done, pending = await asyncio.wait(tasks, timeout=seconds + 30)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                tally.errors.append(f"{type(task.exception()).__name__}: {task.exception()}")
        return job


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def summarize(tally: Tally, seconds: float) -> dict[str, Any]:
    """JSON-ready figures of a load run."""
    draws = {kind: {"requests": len(ms), "median_ms": _percentile(ms, 50), "p95_ms": _percentile(ms, 95),
                    "max_ms": round(max(ms), 2) if ms else None, "target_ms": TARGETS_MS[kind]}
             for kind, ms in tally.draw_ms.items() if ms}
    events = [len(times) for times in tally.stream_events]
    gaps = [b - a for times in tally.stream_events for a, b in zip(times, times[1:])]
    return {"seconds": seconds, "statuses": tally.statuses,
            "server_errors": sum(n for code, n in tally.statuses.items() if code.startswith("5")),
            "draw": draws, "page": {"requests": len(tally.page_ms), "median_ms": _percentile(tally.page_ms, 50),
                                     "p95_ms": _percentile(tally.page_ms, 95)},
            "streams": {"open": len(events), "events_min": min(events, default=0), "events_max": max(events, default=0),
                        "longest_gap_s": round(max(gaps), 2) if gaps else None},
            "client_errors": tally.errors}


def run_load(url: str, runs: dict[str, str], *, seconds: float = 60.0, drawers: int = 8, streams: int = 20,
             train_form: dict[str, Any] | None = None, drawings: int = 50) -> tuple[dict[str, Any], dict | None]:
    """Drive the lab at `url` for `seconds`; return (figures, the started training's job or None)."""
    tally = Tally()
    bodies = drawing_bodies(drawings, runs)
    job = asyncio.run(_load(url, runs, bodies, seconds, drawers, streams, train_form, tally))
    return summarize(tally, seconds), job


def wait_for_training(url: str, job_id: int, timeout: float) -> dict[str, Any]:
    """Poll /api/jobs until job `job_id` has exited (bounded by `timeout`); its state."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = next(j for j in httpx.get(f"{url}/api/jobs", timeout=30).json()["jobs"] if j["id"] == job_id)
        if state["status"] == "exited":
            return state
        time.sleep(1.0)
    raise RuntimeError(f"the training did not finish within {timeout:g} s")


def training_figures(url: str, job_id: int, runs_dir: Path) -> dict[str, Any]:
    """The lab's training at the end of the load (still running? epochs so far), then once it has finished."""
    import httpx

    state = next(j for j in httpx.get(f"{url}/api/jobs", timeout=30).json()["jobs"] if j["id"] == job_id)
    running_at_end = state["status"] == "running"
    epochs_at_end = len(_metrics(runs_dir / state["run"])) if state["run"] else 0
    state = wait_for_training(url, job_id, timeout=3600)
    run_dir = runs_dir / state["run"]
    return {"run": state["run"], "running_at_end_of_load": running_at_end, "epochs_at_end_of_load": epochs_at_end,
            "exit_code": state["exit_code"], "status": json.loads((run_dir / "run.json").read_text())["status"]}


def _metrics(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as fh:
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in csv.DictReader(fh)]


def compare_with_alone(run_dir: Path, form: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """Run the lab's training command again, alone, into `scratch`; compare metrics and weights."""
    from mnistlab.lab.training import train_command

    alone_dir = scratch / "alone"
    argv = train_command(form, alone_dir, form["name"])
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
    alone = next(alone_dir.glob(f"*-{form['name']}"))
    loaded, quiet = (json.loads((d / "summary.json").read_text()) for d in (run_dir, alone))
    with np.load(run_dir / "model.npz") as a, np.load(alone / "model.npz") as b:
        kept = [k for k in a.files if "seconds" not in k]  # the history's timings differ, of course
        same_weights = sorted(a.files) == sorted(b.files) and all(
            np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in kept)  # NaN: not measured
    return {"under_load": {"test_accuracy": loaded.get("test_accuracy"), "loss": loaded.get("loss"),
                           "epochs": loaded.get("epochs"), "train_seconds": round(loaded.get("train_seconds", 0), 1)},
            "alone": {"test_accuracy": quiet.get("test_accuracy"), "loss": quiet.get("loss"),
                      "epochs": quiet.get("epochs"), "train_seconds": round(quiet.get("train_seconds", 0), 1)},
            "same_metrics_per_epoch": _metrics(run_dir) == _metrics(alone), "same_weights": same_weights}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load holds [60]")
    parser.add_argument("--drawers", type=int, default=8, help="drawing clients [8]")
    parser.add_argument("--streams", type=int, default=20, help="open event streams [20]")
    parser.add_argument("--runs", type=int, default=1000, help="generated runs in the table [1000]")
    parser.add_argument("--mlp", type=Path, help="an MLP run directory to draw on [a small one trained here]")
    parser.add_argument("--cnn", type=Path, help="a CNN run directory to draw on [a small one trained here]")
    parser.add_argument("--no-training", action="store_true", help="do not start a training from the lab")
    parser.add_argument("--no-alone", action="store_true", help="do not rerun the training alone to compare")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="lab-load-"))
    try:
        runs_dir = scratch / "runs"
        runs = prepare_runs(runs_dir, args.runs, args.mlp, args.cnn)
        process, url = start_lab(runs_dir)
        try:
            form = None if args.no_training else dict(TRAIN_FORM)
            figures, job = run_load(url, runs, seconds=args.seconds, drawers=args.drawers, streams=args.streams,
                                    train_form=form)
            if job is not None:
                figures["training"] = training_figures(url, job["id"], runs_dir)
                if not args.no_alone:
                    run_dir = runs_dir / figures["training"]["run"]
                    figures["training"].update(compare_with_alone(run_dir, form, scratch))
        finally:
            lab_exit = stop_lab(process)
        figures["lab_exit_code"] = lab_exit
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(render(figures))
    return 0 if figures["server_errors"] == 0 else 1


def render(figures: dict[str, Any]) -> str:
    """The figures as Markdown."""
    lines = [f"load held {figures['seconds']:g} s; statuses {figures['statuses']}; 5xx: {figures['server_errors']}",
             "", "| draw -> prediction | requests | median ms | p95 ms | max ms | target p95 ms |",
             "|---|---|---|---|---|---|"]
    for kind, d in figures["draw"].items():
        lines.append(f"| {kind}{' with maps' if kind == 'cnn' else ''} | {d['requests']} | {d['median_ms']} "
                     f"| {d['p95_ms']} | {d['max_ms']} | {d['target_ms']:g} |")
    s, p = figures["streams"], figures["page"]
    lines += ["", f"event streams: {s['open']} open, {s['events_min']}-{s['events_max']} events each, "
                  f"longest wait between two events {s['longest_gap_s']} s",
              f"table paging: {p['requests']} queries, median {p['median_ms']} ms, p95 {p['p95_ms']} ms"]
    if "training" in figures:
        lines.append(f"training: {json.dumps(figures['training'])}")
    if figures["client_errors"]:
        lines.append(f"client errors: {figures['client_errors']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
