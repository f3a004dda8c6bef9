"""The lab in a real browser: Playwright drives Debian's headless Chromium against a real uvicorn server."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("playwright", reason="the browser tests need the [test] extra (playwright)")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions in `page.problems`."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(f"{message.type}: {message.text}")
           if message.type in ("error", "warning") else None)
    tab.on("pageerror", lambda error: tab.problems.append(f"exception: {error}"))
    yield tab
    context.close()


def wait_for(condition, timeout: float = 60, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_runs_page_loads_without_console_errors(lab_server, lab_runs, page):
    page.goto(lab_server.url)
    page.wait_for_selector(f"tr[data-run='{lab_runs['mlp'].name}']")
    wait_for(lambda: page.inner_text("#live") == "live", 20, "the event stream")
    assert int(page.get_attribute("#runs-table", "data-rows")) >= 3
    page.select_option("select[data-filter='status']", "running")
    assert page.get_attribute("#runs-table", "data-rows") == "1"
    live = page.inner_text(f"tr[data-run='{lab_runs['live'].name}']")
    assert "live ünï cödé 🚀" in live and lab_runs["live"].name in live  # the label, and the folder beside it
    page.click(f"tr[data-run='{lab_runs['live'].name}'] a")
    wait_for(lambda: page.query_selector("#run-label"), 20, "the run page")
    assert page.inner_text("#run-label") == "live ünï cödé 🚀"
    assert page.problems == []


def test_with_a_token_the_printed_url_opens_a_working_page(serve_lab, lab_runs, page):
    """The token in the URL becomes a cookie: the page's API calls, event stream and assets all pass."""
    server = serve_lab(token="t0ken")
    page.goto(server.url)
    assert "a token is required" in page.content()
    # The refused page logs a 403, and so does the browser's own /favicon.ico request after it. Let
    # Playwright deliver both (events arrive only while it runs, not during time.sleep) before clearing.
    page.wait_for_timeout(1000)
    page.problems.clear()
    page.goto(server.url + "?token=t0ken")
    page.wait_for_selector(f"tr[data-run='{lab_runs['mlp'].name}']")
    wait_for(lambda: page.inner_text("#live") == "live", 20, "the event stream")
    assert page.problems == []


def test_the_forms_preset_menu_holds_each_kinds_presets(lab_server, lab_runs, page):
    from mnistlab.runs.kinds import get_kind

    page.goto(lab_server.url)
    options = "select[name=preset] option"
    for kind in ("mlp", "cnn", "mlp"):
        page.select_option("select[name=kind]", kind)
        expected = list(get_kind(kind).presets)
        wait_for(lambda: [o.get_attribute("value") for o in page.query_selector_all(options)] == expected,
                 10, f"the {kind} presets {expected}")
        assert page.input_value("select[name=preset]") == get_kind(kind).default_preset
    assert page.problems == []


def test_a_training_started_from_the_form_appears_and_its_curve_grows(lab_server, lab_runs, page):
    page.goto(lab_server.url)
    page.fill("input[name=train_size]", "3000")
    page.fill("input[name=sizes]", "16")
    page.fill("input[name=epochs]", "200")
    page.fill("input[name=name]", "from-form")
    page.click("#train-start")
    row = "tr[data-run$='-from-form']"  # located afresh each time: live updates re-render the table
    wait_for(lambda: page.query_selector(row), 90, "the new run in the table")
    assert page.inner_text(f"{row} td.status") == "running"
    page.click(f"{row} a")
    page.wait_for_selector("#run-accuracy[data-points]")
    points = wait_for(lambda: int(page.get_attribute("#run-accuracy", "data-points") or 0), 60, "a first point")
    wait_for(lambda: int(page.get_attribute("#run-accuracy", "data-points")) > points, 60, "the curve to grow")
    page.click("#stop-run")
    wait_for(lambda: page.inner_text("#run-status") == "interrupted", 60, "the run to be interrupted")
    assert page.problems == []


def test_a_vertical_stroke_on_the_pad_makes_the_mlp_predict_one(lab_server, lab_runs, page):
    page.goto(lab_server.url + "#/draw")
    page.wait_for_selector(f"#draw-mlp option[value='{lab_runs['mlp'].name}']", state="attached")
    page.select_option("#draw-mlp", lab_runs["mlp"].name)
    page.select_option("#draw-cnn", lab_runs["cnn"].name if "cnn" in lab_runs else "")
    box = page.locator("#draw-pad").bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, top + step * box["height"] * 0.035)
    page.mouse.up()
    wait_for(lambda: page.query_selector("#pred-mlp[data-prediction]"), 30, "a prediction")
    time.sleep(0.5)  # the answer to the whole stroke (requests are sent while drawing)
    assert page.get_attribute("#pred-mlp", "data-prediction") == "1"
    assert page.query_selector("#draw-input canvas") is not None
    if "cnn" in lab_runs:  # the CNN's feature maps of each conv layer, and its most active conv3 maps
        wait_for(lambda: page.query_selector("#pred-cnn figure.pair"), 30, "the CNN's strongest maps")
        assert page.locator("#pred-cnn .layer").count() == 3
        assert page.locator("#pred-cnn figure.pair").count() == 8
    assert page.problems == []


def test_the_compare_view_overlays_two_curves(lab_server, lab_runs, page):
    a, b = lab_runs["mlp"].name, lab_runs["mlp_small"].name
    page.goto(lab_server.url)
    page.check(f"tr[data-run='{a}'] input[type=checkbox]")
    page.check(f"tr[data-run='{b}'] input[type=checkbox]")
    page.click("#compare-selected")
    page.wait_for_selector("#compare-accuracy[data-series]")
    assert page.get_attribute("#compare-accuracy", "data-series") == "2"
    assert page.get_attribute("#compare-accuracy", "data-points") == str(5 + 3)
    assert page.locator("#compare-accuracy .u-legend .u-series").count() == 3  # the epoch axis and two runs
    assert page.locator("#config-diff tr.differs").count() >= 2
    assert page.problems == []


def test_a_query_filters_the_table_and_a_bad_query_shows_its_error_line(lab_server, lab_runs, page):
    page.goto(lab_server.url)
    page.wait_for_selector(f"tr[data-run='{lab_runs['mlp'].name}']")
    every = int(page.get_attribute("#runs-table", "data-rows"))
    # `status` keeps the query to this fixture's run whatever the other tests add (the form's training
    # has hidden [16] too, and ends interrupted).
    page.fill("#runs-query", 'model == "mlp" and hidden_sizes == [16] and status == "completed"')
    page.press("#runs-query", "Enter")
    wait_for(lambda: page.get_attribute("#runs-table", "data-rows") == "1", 20, "the query to filter the table")
    assert page.query_selector(f"tr[data-run='{lab_runs['mlp_small'].name}']") is not None
    assert "q=" in page.url                                  # the query is kept in the URL
    page.fill("#runs-query", "test_accuracy >")
    page.press("#runs-query", "Enter")
    error = wait_for(lambda: page.inner_text("#query-error"), 20, "the error line")
    assert "not valid syntax" in error and "\n" not in error.strip()
    page.fill("#runs-query", "")
    page.press("#runs-query", "Enter")
    wait_for(lambda: int(page.get_attribute("#runs-table", "data-rows")) == every, 20, "every run again")
    assert page.inner_text("#query-error") == ""
    # The console shows the 400 of the bad query (the browser logs failed fetches): nothing else.
    assert [p for p in page.problems if "400" not in p] == []


def test_chosen_columns_stay_in_the_url_and_csv_export_downloads_the_shown_rows(lab_server, lab_runs, page):
    page.goto(lab_server.url + "#/runs?q=" + "hidden_sizes+%3D%3D+%5B32%5D&columns=name,hidden_sizes,test_accuracy")
    wait_for(lambda: page.get_attribute("#runs-table", "data-rows") == "1", 20, "the query from the URL")
    assert page.get_attribute("#runs-table", "data-columns") == "name,hidden_sizes,test_accuracy"
    page.click("#column-picker summary")
    page.check("#column-picker input[value='learning_rate']")
    assert "learning_rate" in page.get_attribute("#runs-table", "data-columns")
    assert "learning_rate" in page.url
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text().splitlines()
    assert text[0] == "name,hidden_sizes,test_accuracy,learning_rate"
    assert len(text) == 2 and text[1].startswith(lab_runs["mlp"].name + ",[32],")
    assert page.problems == []


TINY_SWEEP = "\n".join(['name = "tiny"', 'model = "mlp"', 'metric = "test_accuracy"', 'mode = "max"', 'search = "grid"',
                        "seeds = [0]", "max_concurrent = 1", "[fixed]", "train_size = 500", "epochs = 2",
                        'hidden = "8"', "eval_test_every = 1", "[space]", "lr = [0.0005, 0.05]", ""])


@pytest.mark.slow  # a real sweep on a local Ray: its start-up alone takes seconds
def test_a_sweep_started_from_the_page_is_one_row_updates_live_and_its_plot_filters(serve_lab, tmp_path, page):
    server = serve_lab(tmp_path / "runs")
    page.goto(server.url)
    page.fill("#sweep-toml", "model = \"mlp\"\nspeed = 3\n[space]\nlr = [0.1]\n")
    page.click("#sweep-start")
    error = wait_for(lambda: page.inner_text("#sweep-error"), 60, "the CLI's error line")
    assert "unknown key 'speed'" in error and "\n" not in error.strip()
    page.fill("#sweep-toml", TINY_SWEEP)
    page.click("#sweep-start")
    row = "tr.sweep[data-run$='-tiny']"
    wait_for(lambda: page.query_selector(row), 90, "the sweep's row")
    assert page.locator("#runs-table tbody tr").count() == 1  # one row: its trials are folded under it
    name = page.get_attribute(row, "data-run")
    wait_for(lambda: page.query_selector(f"{row} .hint") and "2 trials" in page.inner_text(f"{row} .hint"), 120,
             "both trials in the sweep's row")
    page.click(f"{row} button.fold")
    wait_for(lambda: page.locator(f"tr.trial[data-sweep='{name}']").count() >= 1, 120, "a trial row under the sweep")

    page.click(f"{row} a")
    page.wait_for_selector("#sweep-trials[data-rows]")
    wait_for(lambda: page.get_attribute("#sweep-trials", "data-epochs") == "4", 180, "every trial's two epochs")
    wait_for(lambda: page.inner_text("#sweep-status") == "completed", 60, "the sweep to complete")
    assert int(page.get_attribute("#view", "data-updates")) > 1  # drawn again as epochs arrived, never reloaded
    assert page.get_attribute("#sweep-trials", "data-rows") == "2"
    assert page.get_attribute("#sweep-curves", "data-series") == "2"
    assert page.get_attribute("#sweep-parallel", "data-lines") == "2"
    assert "too few" in page.inner_text("#sweep-importance")

    # Brush the top of the lr axis: only the larger rate's trial stays, in the plot and in the table.
    box = page.locator("#sweep-parallel g.axis[data-axis='lr'] rect.grip").bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"]
    page.mouse.move(x, top + 2)
    page.mouse.down()
    page.mouse.move(x, top + box["height"] * 0.3, steps=5)
    page.mouse.up()
    wait_for(lambda: page.get_attribute("#sweep-parallel", "data-shown") == "1", 10, "the brush to filter the plot")
    assert page.get_attribute("#sweep-trials", "data-rows") == "1"
    lr = page.inner_text("#sweep-trials tbody tr td:nth-child(6)")
    assert float(lr) == 0.05
    page.mouse.click(x, top + box["height"] / 2)  # a click on the axis clears its brush
    wait_for(lambda: page.get_attribute("#sweep-trials", "data-rows") == "2", 10, "every trial again")

    page.click("#best-trial")
    page.wait_for_selector("#run-status")
    assert page.inner_text("#run-status") == "completed" and "~" in page.url
    assert [p for p in page.problems if "400" not in p] == []  # the refused spec's 400, nothing else
    wait_for(lambda: all(j["status"] == "exited" for j in server.app.state.lab.sweeps.list()), 120,
             "the sweep's process to end (it stops its Ray)")
