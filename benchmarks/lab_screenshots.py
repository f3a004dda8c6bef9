"""Screenshots of every view of `mnistlab lab` for docs/lab.md, taken in headless Chromium (Playwright).

Trains three small runs into a temporary runs directory (two MLPs, one CNN; under a minute),
serves the lab on a free 127.0.0.1 port, computes the CNN's conv3 OIP gallery through the API,
starts a training from the form, and saves runs.png, training.png, run-mlp.png, run-cnn.png,
draw.png and compare.png into --out (default docs/lab).

Run: `python benchmarks/lab_screenshots.py` (needs the [lab] and [cnn] extras and Debian's chromium).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def train_runs(runs_dir: Path) -> dict[str, str]:
    """Two small MLP runs and a small CNN run; their directory names."""
    from mnistlab.cnn.config import CNNConfig
    from mnistlab.mlp.config import MLPConfig
    from mnistlab.mlp.run import MLPRunConfig
    from mnistlab.runs.training import train_cnn_run, train_mlp_run

    def mlp(name: str, hidden: tuple[int, ...], epochs: int) -> str:
        config = MLPRunConfig(scaler="unit", train_size=20000, mlp=MLPConfig(
            hidden_sizes=hidden, epochs=epochs, random_state=0, eval_train_every=1, eval_test_every=1,
            n_iter_no_change=None))
        return Path(train_mlp_run(config, runs_dir=str(runs_dir), name=name)["run_dir"]).name

    names = {"mlp": mlp("mlp-64", (64,), 8), "mlp_small": mlp("mlp-16", (16,), 5)}
    cnn = CNNConfig(epochs=2, train_size=10000).validate()
    names["cnn"] = Path(train_cnn_run(cnn, runs_dir=str(runs_dir), name="cnn")["run_dir"]).name
    return names


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not get there in time")
        time.sleep(0.2)


def draw_seven(page) -> None:
    """A 7 drawn with the mouse: a top bar, then a slanted stroke down."""
    box = page.locator("#draw-pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.25 * w, y + 0.2 * h)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x + (0.25 + 0.05 * k) * w, y + 0.2 * h)
    for k in range(1, 16):
        page.mouse.move(x + (0.75 - 0.02 * k) * w, y + (0.2 + 0.045 * k) * h)
    page.mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/lab"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import httpx
    from playwright.sync_api import sync_playwright

    from mnistlab.lab import create_app
    from mnistlab.lab.server import make_server, open_listener

    runs_dir = Path(tempfile.mkdtemp(prefix="lab-shots-")) / "runs"
    runs_dir.mkdir()
    names = train_runs(runs_dir)
    sock = open_listener("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = make_server(create_app(runs_dir, poll_seconds=0.3))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        with httpx.Client(base_url=url, headers={"Origin": url.rstrip("/")}, timeout=300) as client:
            gallery = f"/api/runs/{names['cnn']}/oip?layer=conv3"
            client.post(gallery).raise_for_status()
            wait_for(lambda: client.get(gallery).json()["status"] == "done", 600)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            page.goto(url)
            page.wait_for_selector(f"tr[data-run='{names['cnn']}']")
            page.screenshot(path=str(args.out / "runs.png"))

            page.fill("input[name=train_size]", "20000")
            page.fill("input[name=sizes]", "32")
            page.fill("input[name=epochs]", "30")
            page.fill("input[name=name]", "from-the-form")
            page.click("#train-start")
            wait_for(lambda: page.query_selector("tr[data-run$='-from-the-form']") is not None)
            page.click("tr[data-run$='-from-the-form'] a")  # a locator: retried if the live table re-renders
            wait_for(lambda: int(page.get_attribute("#run-accuracy", "data-points") or 0) >= 8)
            page.screenshot(path=str(args.out / "training.png"))
            page.click("#stop-run")
            wait_for(lambda: page.inner_text("#run-status") == "interrupted")

            page.goto(f"{url}#/run/{names['mlp']}")
            page.wait_for_selector("table.confusion")
            page.click("table.confusion td[data-true='4'][data-pred='9']")
            page.wait_for_selector("#mlp-activations canvas")
            time.sleep(1)
            page.screenshot(path=str(args.out / "run-mlp.png"), full_page=True)

            page.goto(f"{url}#/run/{names['cnn']}")
            page.wait_for_selector("table.confusion")
            page.wait_for_selector("#cnn-maps .layer")
            page.wait_for_selector("#oip-gallery canvas")
            time.sleep(1)
            page.screenshot(path=str(args.out / "run-cnn.png"), full_page=True)

            page.goto(f"{url}#/draw")
            page.wait_for_selector(f"#draw-cnn option[value='{names['cnn']}']", state="attached")
            page.select_option("#draw-mlp", names["mlp"])
            page.select_option("#draw-cnn", names["cnn"])
            draw_seven(page)
            page.wait_for_selector("#pred-cnn figure.pair canvas + canvas")
            time.sleep(1)
            page.screenshot(path=str(args.out / "draw.png"), full_page=True)

            page.goto(f"{url}#/compare?runs={names['mlp']},{names['mlp_small']},{names['cnn']}")
            page.wait_for_selector("#compare-accuracy[data-series]")
            page.uncheck("#view input[type=checkbox]")
            page.check("#view input[type=checkbox]")
            page.screenshot(path=str(args.out / "compare.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        shutil.rmtree(runs_dir.parent, ignore_errors=True)
    print(f"screenshots in {args.out}: " + ", ".join(sorted(p.name for p in args.out.glob("*.png"))))


if __name__ == "__main__":
    main()
