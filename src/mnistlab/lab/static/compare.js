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
  // One common epoch axis: the union of every run's epochs; a run without an epoch gets null there.
  const epochs = [...new Set(data.runs.flatMap((r) => r.curves.epoch))].sort((a, b) => a - b);
  const accuracy = [], loss = [];
  data.runs.forEach((run, i) => {
    const at = new Map(run.curves.epoch.map((e, k) => [e, k]));
    const align = (values) => epochs.map((e) => (at.has(e) ? values[at.get(e)] : null));
    const series = Lab.curveSeries(run.curves, `${run.name}: `, i);
    // The most telling accuracy of each run: test, else validation, else the batch average.
    const best = series.accuracy.find((s) => s.label.endsWith("test accuracy")) ||
                 series.accuracy.find((s) => s.label.endsWith("validation accuracy")) || series.accuracy[0];
    if (best) accuracy.push({...best, values: align(best.values), dash: undefined});
    if (series.loss[0]) loss.push({...series.loss[0], values: align(series.loss[0].values)});
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
    charts, Lab.el("h2", {}, "Config"), Lab.el("label", {}, hideEqual, " hide rows that are equal"), table);
  Lab.chart(charts.children[0], "accuracy (test, else validation)", epochs, accuracy);
  Lab.chart(charts.children[1], "loss", epochs, loss);
  renderDiff();
  if (data.runs.length === 2 && data.runs.every((r) => r.row.kind === "cnn" && r.row.has_model)) {
    view.append(Lab.matching(`runs=${data.runs.map((r) => encodeURIComponent(r.name)).join(",")}`));
  }
};
