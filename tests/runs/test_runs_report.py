"""The HTML report's content: everything embedded, what is missing said, differences highlighted."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import pytest

from mnistlab.errors import ConfigError
from mnistlab.runs.catalog import RunDirError
from mnistlab.runs.report import write_report


class _Page(HTMLParser):
    """Collects the images, the rows of tables (class and header text) and every URL-bearing attribute."""

    def __init__(self, text):
        super().__init__()
        self.images, self.rows, self.urls = [], [], []
        self._row = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        for name in ("src", "href", "action"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag == "tr":
            self._row = [attrs.get("class", ""), ""]

    def handle_data(self, data):
        if self._row is not None and not self._row[1]:
            self._row[1] = data.strip()

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None


def _png_of(uri):
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


def test_one_run_report_embeds_every_figure_and_needs_nothing_else(run_factory, standard_figures):
    run = run_factory("single", epochs=3)
    (run.path / "feature_maps_conv1.png").write_bytes(standard_figures["curves.png"])
    path = write_report([run.path])
    assert path == run.path / "report.html"
    text = path.read_text()
    page = _Page(text)
    pngs = [_png_of(img["src"]) for img in page.images]
    assert pngs[1:] == [standard_figures["confusion_matrix.png"], standard_figures["misclassified.png"],
                        standard_figures["first_layer_weights.png"], standard_figures["curves.png"]]
    assert "feature maps conv1 (feature_maps_conv1.png)" in text
    assert all(url.startswith(("data:", "#")) for url in page.urls), page.urls
    assert not re.search(r"https?://", text.replace("http-equiv", ""))
    assert "Missing or incomplete" not in text
    for shown in ("learning_rate", "hidden_sizes", "test_accuracy", "packages.numpy", "epoch_seconds"):
        assert f"<th>{shown}</th>" in text


def test_a_partial_run_report_shows_what_exists_and_lists_what_is_missing(run_factory):
    run = run_factory("partial", kind="cnn", status="running", figures=False, epochs=2)
    with (run.path / "metrics.csv").open("a") as fh:
        fh.write("3,0.1")
    text = write_report([run.path]).read_text()
    for note in ("curves.png is missing: the curves below are drawn from the logged epochs",
                 "confusion_matrix.png is missing", "misclassified.png is missing",
                 "summary.json is missing", "the last row of metrics.csv is incomplete",
                 "status is &#x27;running&#x27;"):
        assert note in text
    assert "first_layer_weights" not in text, "a CNN has no first-layer weight figure to miss"
    assert len(_Page(text).images) == 1
    assert "loss (last logged)" in text


def test_a_run_with_nothing_but_a_config_still_gets_a_page(tmp_path):
    run_dir = tmp_path / "bare"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"epochs": 2}))
    text = write_report([run_dir]).read_text()
    assert "run.json is missing" in text and "metrics.csv is missing" in text
    assert "(no metrics logged)" in text and _Page(text).images == []


def test_several_runs_are_compared_with_the_differences_highlighted(run_factory, tmp_path):
    a = run_factory("fast", learning_rate=0.5)
    b = run_factory("slow", learning_rate=0.05)
    c = run_factory("broken", status="interrupted", figures=False, epochs=2, learning_rate=0.05)
    out = tmp_path / "compare.html"
    assert write_report([a.path, b.path, c.path], out) == out
    text = out.read_text()
    rows = {header: cls for cls, header in _Page(text).rows if cls in ("diff", "same")}
    assert rows["learning_rate"] == "diff" and rows["status"] == "diff" and rows["epochs"] == "diff"
    assert rows["hidden_sizes"] == "same" and rows["batch_size"] == "same"
    assert text.count('<section id="run-') == 3
    assert "Cost and accuracy per epoch, all runs overlaid" in text
    assert "the run interrupted after 2 logged epochs" in text


def test_the_default_path_for_several_runs_is_beside_them(run_factory, runs_dir):
    path = write_report([run_factory("one").path, run_factory("two").path])
    assert path.parent == runs_dir and path.name.startswith("compare-") and path.suffix == ".html"


def test_bad_input_gets_one_line_errors_and_writes_nothing(run_factory, tmp_path):
    run = run_factory("fine")
    with pytest.raises(RunDirError, match="is not a run directory"):
        write_report([run.path, tmp_path])
    with pytest.raises(ConfigError, match="does not exist; create it or choose another --out"):
        write_report([run.path], tmp_path / "missing" / "report.html")
    assert not (run.path / "report.html").exists()


def test_the_report_names_a_run_by_its_label_as_typed(run_factory, tmp_path):
    label = "ünï cödé 🚀 run"
    run = run_factory(label, epochs=1)
    other = run_factory("plain", epochs=1)
    text = write_report([run.path]).read_text(encoding="utf-8")
    assert f"<h2>{label}<" in text and run.path.name in text  # the label heads it; the folder is named too
    compared = write_report([run.path, other.path], tmp_path / "both.html").read_text(encoding="utf-8")
    label_row = next(cells for cells in re.findall(r"<tr[^>]*>(.*?)</tr>", compared, re.S) if ">label<" in cells)
    assert label in label_row and "plain" in label_row
