"""The lab over 1,000 runs: the page's first render, and a running run's new epoch reaching the open page.

Issue 21's targets: with 1,000 runs in the runs directory, the runs page renders within 1 s, and a
new epoch of a running run shows in the open page within 1 s. This script:

1. writes N real-format runs with `many_runs.generate_runs` (shared with issue 23's load test),
   plus one run left "running", unless --runs-dir names an existing directory;
2. times reading the table the plain way (`runs_view.runs_table`: every run's files, each time),
   and through `RunIndex` (a first build, then refreshes with nothing changed / one epoch appended);
3. serves the lab (`mnistlab lab` in its own process, 127.0.0.1), opens it in Debian's headless
   chromium (Playwright) and times each of --repeats page loads until the table holds every row,
   as the page itself notes it (`data-first-render-ms`) and as Playwright sees it;
4. with that page open, appends an epoch to the running run's metrics.csv and times until the
   row's epoch cell shows it, --repeats times.

Run: `python benchmarks/lab_runs.py [--count 1000] [--repeats 10] [--runs-dir DIR] [--json]`.
Prints a Markdown table (median and max per measure).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def prepare(runs_dir: Path | None, count: int) -> tuple[Path, Any, bool]:
    """The runs directory (generated when not given) and a RunDir left running in it."""
    from many_runs import generate_runs

    from mnistlab.runs.rundir import RunDir

    made = runs_dir is None
    if made:
        runs_dir = Path(tempfile.mkdtemp(prefix="lab-runs-")) / "runs"
        generate_runs(runs_dir, count)
    live = RunDir.create(runs_dir, "bench-live", "mlp", {"dataset": "mnist", "mlp": {"epochs": 1000}})
    live.log_epoch({"epoch": 1, "loss": 1.0, "test_accuracy": 0.5})
    return runs_dir, live, made


def seconds(work, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return times


def server_side(runs_dir: Path, live: Any, repeats: int) -> dict[str, list[float]]:
    """Plain scans, the index's first build and its refreshes, and /api/runs's JSON."""
    from mnistlab.lab.runs_index import RunIndex
    from mnistlab.lab.runs_view import runs_table
    from mnistlab.lab.selection import select

    results = {"plain scan (runs_table)": seconds(lambda: runs_table(runs_dir), repeats)}
    builds = []
    for _ in range(repeats):
        index = RunIndex(runs_dir, min_interval=0)
        builds.extend(seconds(index.refresh, 1))
    results["index: first build"] = builds
    results["index: refresh, nothing changed"] = seconds(lambda: index.refresh(force=True), repeats)
    epochs = iter(range(2, 2 + repeats))
    results["index: refresh, one new epoch"] = seconds(
        lambda: (live.log_epoch({"epoch": next(epochs), "loss": 0.9, "test_accuracy": 0.6}), index.refresh(force=True)),
        repeats)
    results["query + /api/runs JSON"] = seconds(
        lambda: json.dumps({"runs": select(index.rows(), 'model == "mlp" and test_accuracy > 0.9 and lr < 0.01').rows}),
        repeats)
    return results


def serve(runs_dir: Path) -> tuple[str, subprocess.Popen]:
    """`mnistlab lab` on a free 127.0.0.1 port in its own process (as a user runs it); its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "mnistlab", "lab", "--runs-dir", str(runs_dir), "--port", str(port),
                                "--no-browser"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return url, process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the lab did not start within 120 s")


def browser_side(runs_dir: Path, live: Any, repeats: int) -> dict[str, list[float]]:
    """First render of the runs page, and new epoch -> open page, in headless chromium."""
    from playwright.sync_api import sync_playwright

    url, process = serve(runs_dir)
    total = sum(1 for p in runs_dir.iterdir() if (p / "run.json").is_file())
    in_page, wall, arrivals = [], [], []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)  # for wait_for_function
            for _ in range(repeats):
                page.goto("about:blank")  # a real load each time, not a hash change
                began = time.perf_counter()
                page.goto(url + "#/runs")
                page.wait_for_selector(f"#runs-table[data-rows='{total}']", timeout=60000)
                wall.append(time.perf_counter() - began)
                # The page notes when its table first held the rows (ms since navigation start).
                in_page.append(float(page.get_attribute("#runs-table", "data-first-render-ms")) / 1000)
            page.wait_for_function("document.getElementById('live').textContent === 'live'", timeout=60000)
            cell = f"tr[data-run='{live.path.name}'] td.num"
            logged = len((live.path / "metrics.csv").read_text().splitlines()) - 1  # rows under the header
            for _ in range(repeats):
                logged += 1
                time.sleep(0.3)  # land at a random point of the server's poll
                began = time.perf_counter()
                live.log_epoch({"epoch": logged, "loss": 0.8, "test_accuracy": 0.6})
                page.wait_for_function(
                    f"[...document.querySelectorAll(\"{cell}\")].some((td) => td.textContent === '{logged}/1000')",
                    timeout=30000, polling="raf")
                arrivals.append(time.perf_counter() - began)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"page: first render, in the page (navigation start -> every row)": in_page,
            "page: first render, as Playwright sees it": wall, "new epoch -> open page": arrivals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="runs to generate [1000]")
    parser.add_argument("--repeats", type=int, default=10, help="repeats of each measure [10]")
    parser.add_argument("--runs-dir", type=Path, help="an existing runs directory instead of generating one")
    parser.add_argument("--no-browser", action="store_true", help="server-side measures only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    runs_dir, live, made = prepare(args.runs_dir, args.count)
    try:
        results = server_side(runs_dir, live, args.repeats)
        if not args.no_browser:
            results.update(browser_side(runs_dir, live, args.repeats))
    finally:
        shutil.rmtree(live.path, ignore_errors=True)
        if made:
            shutil.rmtree(runs_dir.parent, ignore_errors=True)
    summary = {name: {"median_s": round(statistics.median(t), 3), "max_s": round(max(t), 3), "n": len(t)}
               for name, t in results.items()}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print("| measure | median s | max s | n |\n|---|---|---|---|")
    for name, s in summary.items():
        print(f"| {name} | {s['median_s']} | {s['max_s']} | {s['n']} |")


if __name__ == "__main__":
    main()
