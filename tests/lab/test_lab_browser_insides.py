"""The run page's curves (smoothing, log y, seconds, hover) and its epoch slider, in Debian's Chromium."""

from __future__ import annotations

import csv
import importlib.util

import pytest
from test_lab_browser import CHROMIUM, browser, page, wait_for  # noqa: F401 (fixtures shared with the lab's browser tests)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]
HAS_KERAS = importlib.util.find_spec("keras") is not None


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """The reference: TensorBoard's debiased exponential moving average."""
    last, out = 0.0, []
    for count, value in enumerate(values, start=1):
        last = last * weight + (1 - weight) * value
        out.append(last / (1 - weight ** count))
    return out


def chart_data(page, index: int) -> list[list[float | None]]:
    return page.evaluate(f"Lab.charts[{index}].data.map((column) => Array.from(column))")


def set_range(page, selector: str, value: float) -> None:
    page.eval_on_selector(selector, f"(el) => {{ el.value = {value}; el.dispatchEvent(new Event('input')); }}")


def test_the_smoothing_slider_smooths_the_curve_as_tensorboard_does(lab_server, lab_runs, page):
    run = lab_runs["mlp"]
    page.goto(f"{lab_server.url}#/run/{run.name}")
    page.wait_for_selector("#run-loss[data-points='5']")
    x, loss = chart_data(page, 1)[:2]
    assert x == [1, 2, 3, 4, 5] and len(set(loss)) == 5
    set_range(page, "#smoothing", 0.6)
    wait_for(lambda: len(chart_data(page, 1)) == 3, 10, "the smoothed curve over its faint raw copy")
    _, raw, smoothed = chart_data(page, 1)
    assert raw == loss and smoothed != loss
    assert smoothed == pytest.approx(tensorboard_smoothing(loss, 0.6), rel=1e-9)
    assert "smooth=0.6" in page.url
    assert page.problems == []


def test_log_y_seconds_on_x_and_the_hover_stay_in_the_url(lab_server, lab_runs, page):
    run = lab_runs["mlp"]
    page.goto(f"{lab_server.url}#/run/{run.name}?y=log&x=seconds")
    page.wait_for_selector("#run-loss[data-points='5']")
    assert page.input_value("#y-scale") == "log" and page.input_value("#x-axis") == "seconds"
    assert page.evaluate("Lab.charts[1].scales.y.distr") == 3  # uPlot's log distribution
    with (run / "metrics.csv").open() as fh:
        seconds = [float(row["epoch_seconds"]) for row in csv.DictReader(fh)]
    x = chart_data(page, 1)[0]
    assert x == pytest.approx([sum(seconds[:k + 1]) for k in range(5)], abs=1e-3)
    page.select_option("#x-axis", "epoch")
    wait_for(lambda: chart_data(page, 1)[0] == [1, 2, 3, 4, 5], 10, "x back to epochs")
    assert "x=" not in page.url and "y=log" in page.url
    box = page.locator("#run-accuracy .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] / 2)  # over epoch 5
    tip = page.locator("#run-accuracy .hover-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert text.startswith("epoch 5") and "test accuracy:" in text and "batch accuracy:" in text
    assert page.problems == []


@pytest.mark.skipif(not HAS_KERAS, reason="the CNN needs Keras")
def test_moving_the_epoch_slider_changes_the_kernels_image(lab_server, lab_runs, page):
    run = lab_runs["cnn"]
    page.goto(f"{lab_server.url}#/run/{run.name}")
    page.wait_for_selector("#epoch-kernels[data-epoch='0'] canvas")
    first = page.eval_on_selector("#epoch-kernels canvas", "(c) => c.toDataURL()")
    assert page.inner_text("#epoch-label") == "0 / 1"
    set_range(page, "#epoch-slider", 1)
    page.wait_for_selector("#epoch-kernels[data-epoch='1'] canvas")
    page.wait_for_selector("#epoch-maps[data-epoch='1'] .layer")
    assert page.eval_on_selector("#epoch-kernels canvas", "(c) => c.toDataURL()") != first
    assert "epoch=1" in page.url
    page.goto(f"{lab_server.url}#/run/{run.name}?epoch=0")  # the URL takes the slider back
    page.reload()
    page.wait_for_selector("#epoch-kernels[data-epoch='0'] canvas")
    assert page.eval_on_selector("#epoch-kernels canvas", "(c) => c.toDataURL()") == first
    assert page.problems == []


def test_the_compare_hover_reads_every_runs_value_with_seconds_on_x(lab_server, lab_runs, page):
    """Two runs' points rarely share a second: the hover reads each run's nearest point."""
    a, b = lab_runs["mlp"].name, lab_runs["mlp_small"].name
    page.goto(f"{lab_server.url}#/compare?runs={a},{b}&x=seconds&smooth=0.3")
    page.wait_for_selector("#compare-loss[data-series='2']")
    assert page.input_value("#x-axis") == "seconds" and page.input_value("#smoothing") == "0.3"
    box = page.locator("#compare-loss .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] / 2)
    tip = page.locator("#compare-loss .hover-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert text.startswith("seconds") and f"{a}: loss:" in text and f"{b}: loss:" in text and "(raw " in text
    page.select_option("#y-scale", "log")
    wait_for(lambda: "y=log" in page.url, 10, "the y scale in the URL")
    assert page.problems == []
