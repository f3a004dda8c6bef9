// The Compare view: two or more runs' curves overlaid (one colour per run) and their configs side by side.
"use strict";

Lab.showCompare = async function (names, params = new URLSearchParams()) {
  const view = Lab.clearView();
  view.append(Lab.el("h1", {}, "Compare"));
  if (params.get("sweep")) {  // a sweep's seeds: the filter matching of its completed trials
    view.append(Lab.el("p", {}, "The completed trials of sweep ", Lab.el("a", {href: `#/sweep/${encodeURIComponent(params.get("sweep"))}`},
      params.get("sweep"))), Lab.matching(`sweep=${encodeURIComponent(params.get("sweep"))}`));
    return;
  }
  if (names.length < 2) {
    view.append(Lab.el("p", {}, "Tick two or more runs in the Runs table, then press “Compare selected”."));
    return;
  }
  const data = await Lab.api(`/api/compare?runs=${names.map(encodeURIComponent).join(",")}`).catch((err) => {
    view.append(Lab.el("p", {class: "error"}, err.message));
    return null;
  });
  if (!data) return;
  // Each run's best accuracy and loss, smoothed on its own points, then put on one x axis (the union of the
  // runs' epochs or seconds; a run without a point there gets null). The curve settings live in the URL.
  const settings = Lab.curveSettings(params);
  function curves() {
    const accuracyParts = [], lossParts = [];
    data.runs.forEach((run, i) => {
      const x = Lab.xValues(run.curves, settings.x) || run.curves.epoch;
      const series = Lab.curveSeries(run.curves, `${run.name}: `, i);
      // The most telling accuracy of each run: test, else validation, else the batch average.
      const best = series.accuracy.find((s) => s.label.endsWith("test accuracy")) ||
                   series.accuracy.find((s) => s.label.endsWith("validation accuracy")) || series.accuracy[0];
      if (best) accuracyParts.push({x, series: Lab.smoothSeries([{...best, dash: undefined}], settings.smooth)});
      if (series.loss[0]) lossParts.push({x, series: Lab.smoothSeries([series.loss[0]], settings.smooth)});
    });
    return [Lab.alignSeries(accuracyParts), Lab.alignSeries(lossParts)];
  }
  function draw() {
    Lab.charts.forEach((c) => c.destroy());
    Lab.charts = [];
    const [accuracy, loss] = curves();
    const options = {xLabel: settings.x === "seconds" ? "seconds" : "epoch", log: settings.y === "log"};
    Lab.chart(charts.children[0], "accuracy (test, else validation)", accuracy.x, accuracy.series, options);
    Lab.chart(charts.children[1], "loss", loss.x, loss.series, options);
  }
  const controls = Lab.curveControls(settings, () => {
    Lab.putCurveSettings(params, settings);
    history.replaceState(null, "", `#/compare?${params.toString()}`);
    draw();
  });
  const charts = Lab.el("div", {class: "charts"}, Lab.el("div", {id: "compare-accuracy"}), Lab.el("div", {id: "compare-loss"}));
  const hideEqual = Lab.el("input", {type: "checkbox", checked: true});
  const table = Lab.el("table", {class: "diff", id: "config-diff"});
  function renderDiff() {
    const rows = data.config.filter((r) => r.differs || !hideEqual.checked);
    table.replaceChildren(Lab.el("tr", {}, Lab.el("th", {}, "config"), data.runs.map((r) => Lab.el("th", {}, r.name))),
      ...rows.map((r) => Lab.el("tr", {class: r.differs ? "differs" : ""}, Lab.el("th", {}, r.key),
        r.values.map((v) => Lab.el("td", {}, v === undefined || v === null ? "—" : JSON.stringify(v))))));
  }
  hideEqual.addEventListener("change", renderDiff);
  view.append(Lab.el("p", {}, data.runs.map((r, i) => Lab.el("span", {class: "swatch", style: `border-color:${Lab.colour(i)}`},
    Lab.el("a", {href: `#/run/${encodeURIComponent(r.name)}`}, r.name), ` ${Lab.fmt(r.row.test_accuracy)}`))),
    controls, charts, Lab.el("h2", {}, "Config"), Lab.el("label", {}, hideEqual, " hide rows that are equal"), table);
  draw();
  renderDiff();
  if (data.runs.length === 2 && data.runs.every((r) => r.row.kind === "cnn" && r.row.has_model)) {
    view.append(Lab.matching(`runs=${data.runs.map((r) => encodeURIComponent(r.name)).join(",")}`));
  }
};
