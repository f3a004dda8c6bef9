"""Screenshots of the run page's curves, the epoch slider and the filter matching, for docs/lab.md.

Trains an MLP (8 epochs) and two small seed-architecture CNNs (3 epochs, 6000 images, seeds 1 and
2) into a temporary runs directory, serves the lab, computes through the API the conv1 OIPs at
epoch 0 and at the last epoch and the conv1 matching of the two CNNs, and saves curves.png,
epochs-mlp-0.png, epochs-mlp-last.png, epochs-cnn-0.png, epochs-cnn-last.png and matching.png
into --out (default docs/lab). A few minutes of CPU.

Run: `python benchmarks/lab_insides_screenshots.py` (needs the [lab] and [cnn] extras and Debian's chromium).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
from pathlib import Path

from lab_screenshots import ARGS, wait_for


def train_runs(runs_dir: Path) -> dict[str, str]:
    """An MLP and two CNNs of one architecture (different seeds); their directory names."""
    from mnistlab.cnn.config import CNNConfig
    from mnistlab.mlp.config import MLPConfig
    from mnistlab.mlp.run import MLPRunConfig
    from mnistlab.runs.training import train_cnn_run, train_mlp_run

    mlp = MLPRunConfig(scaler="unit", train_size=20000, mlp=MLPConfig(
        hidden_sizes=(64,), epochs=8, random_state=0, eval_train_every=1, eval_test_every=1, n_iter_no_change=None))
    names = {"mlp": Path(train_mlp_run(mlp, runs_dir=str(runs_dir), name="mlp-64")["run_dir"]).name}
    for seed in (1, 2):
        cnn = CNNConfig(epochs=3, train_size=6000, seed=seed).validate()
        names[f"cnn{seed}"] = Path(train_cnn_run(cnn, runs_dir=str(runs_dir), name=f"cnn-seed{seed}")["run_dir"]).name
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/lab"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import httpx
    from playwright.sync_api import sync_playwright

    from mnistlab.lab import create_app
    from mnistlab.lab.server import make_server, open_listener

    runs_dir = Path(tempfile.mkdtemp(prefix="lab-insides-")) / "runs"
    runs_dir.mkdir()
    names = train_runs(runs_dir)
    sock = open_listener("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = make_server(create_app(runs_dir, poll_seconds=0.3))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    cnn, other = names["cnn1"], names["cnn2"]
    try:
        with httpx.Client(base_url=url, headers={"Origin": url.rstrip("/")}, timeout=300) as client:
            jobs = [f"/api/runs/{cnn}/epochs/{epoch}/oip?layer=conv1" for epoch in (0, 3)]
            jobs.append(f"/api/match?runs={cnn},{other}&layer=conv1")
            for job in jobs:
                client.post(job).raise_for_status()
                wait_for(lambda: client.get(job).json()["status"] == "done", 1200)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            page.goto(f"{url}#/run/{names['mlp']}?smooth=0.6")
            page.wait_for_selector("#run-loss[data-points]")
            box = page.locator("#run-accuracy .u-over").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
            page.wait_for_selector("#run-accuracy .hover-tip", state="visible")
            page.screenshot(path=str(args.out / "curves.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 520})

            for epoch, tag in ((0, "0"), (8, "last")):
                page.goto(f"{url}#/run/{names['mlp']}?epoch={epoch}")
                page.reload()
                page.wait_for_selector(f"#epoch-weights[data-epoch='{epoch}'] canvas")
                page.locator("#epoch-insides").screenshot(path=str(args.out / f"epochs-mlp-{tag}.png"))

            for epoch, tag in ((0, "0"), (3, "last")):
                page.goto(f"{url}#/run/{cnn}?epoch={epoch}")
                page.reload()
                page.wait_for_selector(f"#epoch-kernels[data-epoch='{epoch}'] canvas")
                page.wait_for_selector(f"#epoch-maps[data-epoch='{epoch}'] .layer")
                page.select_option("#epoch-oips select", "conv1")
                page.wait_for_selector("#epoch-oips canvas")
                page.locator("#epoch-insides").screenshot(path=str(args.out / f"epochs-cnn-{tag}.png"))

            page.goto(f"{url}#/compare?runs={cnn},{other}")
            page.wait_for_selector("#matching-layer option[value='conv1']", state="attached")
            page.select_option("#matching-layer", "conv1")
            page.wait_for_selector("#matching-pair canvas")
            page.locator("#matching").screenshot(path=str(args.out / "matching.png"))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        shutil.rmtree(runs_dir.parent, ignore_errors=True)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
