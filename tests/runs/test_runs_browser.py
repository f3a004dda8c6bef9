"""The report opened in a real browser (headless Chromium): it renders, logs nothing, every image loads.

Chromium runs once per page with --dump-dom (the DOM after the load event, where the page's own
script has marked each image data-loaded="yes"/"no") and --screenshot, logging the page's console
to stderr. Offline by construction: the page's Content-Security-Policy allows only data: images,
so any attempt to load something from elsewhere shows up as a console message and fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from matplotlib.image import imread

from mnistlab.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]


@dataclass
class Rendered:
    dom: str
    console: list[str]
    screenshot: Path

    def image_marks(self) -> list[str]:
        return re.findall(r'<img [^>]*data-loaded="(\w+)"', self.dom)


def render(page: Path, tmp_path: Path, *, height: int = 2400) -> Rendered:
    """Open `page` in headless Chromium; return the DOM after load, the console lines and a screenshot."""
    screenshot = tmp_path / f"{page.stem}.png"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}",
               "--enable-logging=stderr", "--v=0", f"--window-size=1280,{height}",
               f"--screenshot={screenshot}", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(done.stdout, console, screenshot)


def _assert_renders_cleanly(rendered: Rendered, n_images: int) -> None:
    assert rendered.console == []
    assert rendered.image_marks() == ["yes"] * n_images
    assert f'data-images-loaded="{n_images}"' in rendered.dom
    shot = imread(rendered.screenshot)
    assert shot.shape[1] == 1280 and shot[..., :3].std() > 0.05, "the screenshot should not be blank"


def test_one_run_report_renders_in_chromium(run_factory, standard_figures, tmp_path):
    run = run_factory("browser-one", epochs=5)
    (run.path / "oip_conv2_filter3.png").write_bytes(standard_figures["misclassified.png"])
    assert main(["report", str(run.path), "--out", str(tmp_path / "one.html")]) == 0
    rendered = render(tmp_path / "one.html", tmp_path)
    _assert_renders_cleanly(rendered, n_images=5)
    assert "Cost and accuracy per epoch" in rendered.dom


def test_comparison_with_a_partial_run_renders_in_chromium(run_factory, tmp_path):
    runs = [run_factory("lr-0.5", learning_rate=0.5), run_factory("lr-0.05", learning_rate=0.05),
            run_factory("killed", kind="cnn", status="running", figures=False, epochs=2)]
    with (runs[2].path / "metrics.csv").open("a") as fh:
        fh.write("3,0.4")
    out = tmp_path / "compare.html"
    assert main(["report", *(str(r.path) for r in runs), "--out", str(out)]) == 0
    rendered = render(out, tmp_path, height=3000)
    # overlay + 4 figures for each finished MLP run + curves redrawn for the killed run
    _assert_renders_cleanly(rendered, n_images=1 + 4 + 4 + 1)
    assert "Missing or incomplete" in rendered.dom


def test_the_check_catches_a_broken_image_and_an_outside_request(run_factory, tmp_path):
    """The harness itself must be able to fail: damage a report and look for the failures."""
    run = run_factory("control", figures=False)
    page = tmp_path / "damaged.html"
    assert main(["report", str(run.path), "--out", str(page)]) == 0
    damaged = page.read_text().replace("<h3>Config</h3>",
                           '<img src="data:image/png;base64,AAAA" alt="broken">'
                           '<img src="https://example.invalid/x.png" alt="outside"><h3>Config</h3>')
    page.write_text(damaged)
    rendered = render(page, tmp_path, height=800)
    assert rendered.image_marks() == ["yes", "no", "no"]
    assert any("Content Security Policy" in line for line in rendered.console)
    assert "This image failed to load: broken" in rendered.dom
