// The Run view: live curves, config, confusion matrix with examples, misclassified images, and the insides
// of the model (MLP weights and activations; CNN kernels, feature maps and the OIP gallery).
"use strict";

Lab.showRun = async function (name, params = new URLSearchParams()) {
  const view = Lab.clearView();
  const base = `/api/runs/${encodeURIComponent(name)}`;
  const header = Lab.el("div", {class: "run-header"});
  const settings = Lab.curveSettings(params);
  const keepInUrl = () => {  // replaceState: no hashchange, the view stays (as the runs table does)
    Lab.putCurveSettings(params, settings);
    const text = params.toString();
    history.replaceState(null, "", `#/run/${encodeURIComponent(name)}${text ? "?" + text : ""}`);
  };
  const curves = Lab.el("div", {class: "charts"}, Lab.el("div", {id: "run-accuracy"}), Lab.el("div", {id: "run-loss"}));
  const controls = Lab.curveControls(settings, () => { keepInUrl(); draw(); });
  const problems = Lab.el("ul", {class: "problems"});
  const config = Lab.el("pre", {class: "config"});
  const insides = Lab.el("div", {id: "insides"});
  view.append(header, problems, controls, curves, insides, Lab.el("details", {}, Lab.el("summary", {}, "config.json"), config));
  let last = null, insidesShown = false, shownCurves = null;

  function draw() {
    if (!shownCurves) return;
    const series = Lab.curveSeries(shownCurves);
    let x = Lab.xValues(shownCurves, settings.x), xLabel = settings.x === "seconds" ? "seconds" : "epoch";
    if (x === null) { x = shownCurves.epoch; xLabel = "epoch"; Lab.toast("this run recorded no epoch_seconds: x stays epoch"); }
    Lab.charts.forEach((c) => c.destroy());
    Lab.charts = [];
    const options = {xLabel, log: settings.y === "log"};
    Lab.chart(curves.children[0], "accuracy", x, Lab.smoothSeries(series.accuracy, settings.smooth), options);
    Lab.chart(curves.children[1], "loss", x, Lab.smoothSeries(series.loss, settings.smooth), options);
  }

  async function refresh() {
    let run;
    try { run = await Lab.api(base); } catch (err) { header.replaceChildren(Lab.el("p", {class: "error"}, err.message)); return; }
    const row = run.row;
    const stop = row.status === "running"
      ? Lab.el("button", {id: "stop-run", onclick: async () => {
          try { await Lab.api(`${base}/stop`, {body: {}}); Lab.toast("stopping…"); } catch (err) { Lab.toast(err.message); }
        }}, "Stop") : null;
    header.replaceChildren(Lab.el("h1", {id: "run-label"}, row.label || name),
      row.label && row.label !== name ? Lab.el("p", {class: "muted folder"}, name) : "", Lab.el("p", {},
      `${row.model || "?"} on ${row.dataset || "?"} · status `, Lab.el("b", {id: "run-status", title: row.status_reason || ""}, row.status),
      row.status_reason ? ` (${row.status_reason})` : "",
      ` · epoch ${row.epochs || 0}${row.planned_epochs ? "/" + row.planned_epochs : ""}`,
      row.test_accuracy !== null ? ` · test accuracy ${Lab.fmt(row.test_accuracy)}` : "", " ", stop,
      " ", Lab.el("a", {href: `/runs/${encodeURIComponent(name)}/config.json`, target: "_blank"}, "files")));
    problems.replaceChildren(...run.problems.filter((p) => !p.startsWith("status is 'running'"))
      .map((p) => Lab.el("li", {}, p)));
    config.textContent = JSON.stringify(run.config, null, 2);
    shownCurves = run.curves;
    draw();
    last = row;
    if (row.has_model && !insidesShown) {
      insidesShown = true;
      showInsides(row.kind);
    }
  }

  function section(title, ...children) {
    return Lab.el("section", {}, Lab.el("h2", {}, title), ...children);
  }

  async function showInsides(kind) {
    const examples = Lab.el("div", {id: "examples"});
    const matrix = Lab.el("div", {id: "confusion"}, "computing the test-set predictions…");
    insides.append(section("Confusion matrix (test set; click a cell)", matrix),
                   section("Examples", examples));
    const showExamples = async (query, title) => {
      examples.replaceChildren("loading…");
      const data = await Lab.api(`${base}/examples?${query}`);
      const labels = data.true.map((t, i) => `#${data.index[i]} ${t}→${data.predicted[i]}`);
      examples.replaceChildren(Lab.el("p", {}, `${title}: ${data.count} images${data.count > data.index.length ? ` (first ${data.index.length})` : ""}`),
                               Lab.stack(data.images, {size: 56, labels}));
    };
    Lab.api(`${base}/confusion`).then((data) => {
      const max = Math.max(...data.matrix.flat());
      const head = Lab.el("tr", {}, Lab.el("th", {}, "true \\ predicted"), data.class_names.map((c) => Lab.el("th", {}, c)));
      const rows = data.matrix.map((row, t) => Lab.el("tr", {}, Lab.el("th", {}, data.class_names[t]), row.map((count, p) => {
        const shade = Math.round(255 - 200 * Math.sqrt(count / max));
        return Lab.el("td", {class: "cell", "data-true": t, "data-pred": p,
          style: `background: rgb(${t === p ? shade + "," + 255 + "," + shade : 255 + "," + shade + "," + shade})`,
          onclick: () => showExamples(`true=${t}&predicted=${p}`, `true ${data.class_names[t]}, predicted ${data.class_names[p]}`)},
        count);
      })));
      matrix.replaceChildren(Lab.el("p", {}, `accuracy ${Lab.fmt(data.accuracy)}`), Lab.el("table", {class: "confusion"}, head, rows));
      showExamples("", "Misclassified");
    }).catch((err) => matrix.replaceChildren(Lab.el("p", {class: "error"}, err.message)));
    if (kind === "mlp") mlpInsides(); else if (kind === "cnn") cnnInsides();
    insides.append(Lab.epochInsides(base, params, keepInUrl));
  }

  function imagePicker(onpick) {
    const input = Lab.el("input", {type: "number", min: 0, max: 9999, value: 0, class: "image-index"});
    const button = Lab.el("button", {onclick: () => onpick(Number(input.value))}, "Show");
    return Lab.el("span", {class: "picker"}, "test image #", input, button);
  }

  function mlpInsides() {
    const weights = Lab.el("div", {}, "loading…");
    const acts = Lab.el("div", {id: "mlp-activations"});
    insides.append(section("First-layer weights (one 28x28 picture per hidden unit; red +, blue −)", weights),
                   section("Activations of a test image", imagePicker(showActs), acts));
    Lab.api(`${base}/weights`).then((data) => {
      weights.replaceChildren(data.weights ? Lab.stack(data.weights, {size: 42}) : "not pictures: the inputs went through PCA or k-means");
    }).catch((err) => weights.replaceChildren(err.message));
    async function showActs(index) {
      const data = await Lab.api(`${base}/activations?image=${index}`);
      acts.replaceChildren(Lab.el("div", {class: "row"}, Lab.digit(data.image), Lab.activationBars(data.layers)));
    }
    showActs(0);
  }

  function cnnInsides() {
    const kernels = Lab.el("div", {}, "loading…");
    const maps = Lab.el("div", {id: "cnn-maps"});
    const gallery = Lab.el("div", {id: "oip-gallery"});
    insides.append(section("First conv layer kernels (red +, blue −)", kernels),
                   section("Feature maps of a test image", imagePicker(showMaps), maps),
                   section("OIPs: the input pattern that makes each map fire most", gallery));
    Lab.api(`${base}/kernels`).then((data) => kernels.replaceChildren(Lab.stack(data.kernels, {size: 42})))
      .catch((err) => kernels.replaceChildren(err.message));
    async function showMaps(index) {
      const data = await Lab.api(`${base}/maps?image=${index}`);
      maps.replaceChildren(Lab.el("div", {class: "row"}, Lab.digit(data.image),
        Lab.bars(data.probabilities)), ...data.layers.map((layer) => Lab.el("div", {class: "layer"},
        Lab.el("h3", {}, `${layer.name} (${layer.maps.n} maps ${layer.maps.h}x${layer.maps.w})`), Lab.stack(layer.maps, {size: 40}))));
      const conv = data.layers.filter((l) => l.name.startsWith("conv")).map((l) => l.name);
      if (!gallery.dataset.ready) Lab.oipGallery(gallery, base, conv);
    }
    showMaps(0);
  }

  Lab.onRuns.push((rows) => {
    const row = rows.find((r) => r.name === name);
    if (row && (!last || row.epochs !== last.epochs || row.status !== last.status || row.has_model !== last.has_model)) refresh();
  });
  await refresh();
};

Lab.oipGallery = function (container, base, layers) {
  container.dataset.ready = "yes";
  const select = Lab.el("select", {}, layers.map((l, i) => Lab.el("option", {value: l, selected: i === layers.length - 1}, l)));
  const button = Lab.el("button", {onclick: () => start()}, "Compute");
  const progress = Lab.el("progress", {max: 1, value: 0, hidden: true});
  const out = Lab.el("div", {});
  container.append(Lab.el("p", {}, "layer ", select, " ", button, " ", progress), out);
  select.addEventListener("change", () => poll());
  async function start() {
    await Lab.api(`${base}/oip?layer=${select.value}`, {method: "POST", body: {}});
    poll();
  }
  async function poll() {
    const status = await Lab.api(`${base}/oip?layer=${select.value}`);
    progress.hidden = status.status !== "running";
    button.disabled = status.status === "running" || status.status === "done";
    if (status.status === "running") {
      progress.max = status.total || 1; progress.value = status.done;
      out.replaceChildren(`computing… ${status.done}/${status.total || "?"} maps`);
      setTimeout(poll, 700);
    } else if (status.status === "done") {
      out.replaceChildren(Lab.stack(status.images, {size: 56, labels: status.maps.map((m, i) =>
        `${m}${status.converged[i] ? "" : " ✗"}`)}));
    } else if (status.status === "failed") {
      out.replaceChildren(Lab.el("p", {class: "error"}, status.error));
    } else {
      out.replaceChildren("not computed yet: press Compute (kept in the run directory afterwards)");
    }
  }
  poll();
};

Lab.bars = function (probabilities, {labels = null, id = null} = {}) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  return Lab.el("div", {class: "bars", id, "data-prediction": best}, probabilities.map((p, k) =>
    Lab.el("div", {class: "bar" + (k === best ? " best" : "")}, Lab.el("span", {class: "label"}, labels ? labels[k] : k),
      Lab.el("span", {class: "fill", style: `width:${Math.round(p * 100)}%`}), Lab.el("span", {class: "value"}, p.toFixed(3)))));
};

Lab.activationBars = function (layers) {  // hidden layers as strips of cells, shaded by activation
  return Lab.el("div", {class: "activations"}, layers.map((layer, i) => {
    const values = layer.values;
    const top = Math.max(1e-9, ...values.map(Math.abs));
    const isLast = i === layers.length - 1;
    return Lab.el("div", {class: "strip"}, Lab.el("span", {class: "label"}, isLast ? "output" : `hidden ${i + 1} (${layer.units})`),
      Lab.el("div", {class: "cells"}, values.map((v, k) => Lab.el("span", {
        class: "cell", title: `unit ${k}: ${v.toFixed(3)}`,
        style: `background: rgba(${v >= 0 ? "214,39,40" : "31,119,180"}, ${Math.abs(v) / top})`,
      }, isLast ? k : ""))));
  }));
};
