// Shared helpers of the lab page: the JSON API, DOM building, image stacks and curves.
"use strict";

const Lab = {
  runs: [],            // the latest runs table (from /api/runs and the event stream)
  onRuns: [],          // callbacks of the current view, called with the new table
  charts: [],          // uPlot instances of the current view (destroyed on navigation)
};

Lab.api = async function (path, options = {}) {
  const init = {headers: {"Accept": "application/json"}, ...options};
  if (options.body !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(payload.error || `${response.status} ${response.statusText}`);
  return payload;
};

Lab.el = function (tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
};

Lab.toast = function (message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(Lab.toastTimer);
  Lab.toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
};

Lab.fmt = function (value, digits = 4) {
  if (value === null || value === undefined) return "";
  return typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(digits)) : String(value);
};

// A stack from the API: {n, h, w, signed, data: base64 uint8} -> one canvas per image.
Lab.decode = function (stack) {
  const raw = atob(stack.data);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
};

Lab.encode = function (bytes) {  // Uint8Array -> base64, the inverse of Lab.decode
  let raw = "";
  for (let i = 0; i < bytes.length; i += 8192) raw += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return btoa(raw);
};

Lab.paint = function (canvas, bytes, offset, h, w, signed, invert = false) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const v = bytes[offset + i];
    let r, g, b;
    if (signed) {  // blue (negative) - white (0) - red (positive)
      const t = Math.abs(v - 128) / 127;
      const fade = Math.round(255 * (1 - t));
      [r, g, b] = v >= 128 ? [255, fade, fade] : [fade, fade, 255];
    } else {
      const grey = invert ? 255 - v : v;
      r = g = b = grey;
    }
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
};

Lab.stack = function (stack, {size = 56, labels = null, onclick = null, cls = "tile"} = {}) {
  const bytes = Lab.decode(stack);
  const grid = Lab.el("div", {class: "grid"});
  for (let k = 0; k < stack.n; k++) {
    const canvas = Lab.paint(Lab.el("canvas", {style: `width:${size}px;height:${size}px`}),
                             bytes, k * stack.h * stack.w, stack.h, stack.w, stack.signed);
    const tile = Lab.el("figure", {class: cls}, canvas, labels ? Lab.el("figcaption", {text: labels[k]}) : null);
    if (onclick) { tile.classList.add("clickable"); tile.addEventListener("click", () => onclick(k)); }
    grid.append(tile);
  }
  return grid;
};

Lab.digit = function (rows, size = 112) {  // a 28x28 list of 0..255 rows -> canvas
  const flat = Uint8Array.from(rows.flat());
  return Lab.paint(Lab.el("canvas", {class: "digit", style: `width:${size}px;height:${size}px`}), flat, 0, 28, 28, false);
};

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
Lab.colour = (i) => COLOURS[i % COLOURS.length];

// Curves: x values and named series -> a uPlot chart in `container` (data-points counts the points).
// A series with `raw` values (smoothed) is drawn over a faint copy of them; `log` puts y on a log scale
// (values <= 0 left out); the hover box (curves.js) reads every shown curve at the cursor.
Lab.chart = function (container, title, x, series, {height = 240, xLabel = "epoch", log = false} = {}) {
  container.replaceChildren();
  const width = Math.max(320, Math.min(container.clientWidth || 560, 720));
  const clean = (values) => (log ? values.map((v) => (v !== null && v !== undefined && v > 0 ? v : null)) : values);
  const coloured = series.map((s, i) => ({...s, colour: s.colour || Lab.colour(i)}));
  const shown = [...coloured.filter((s) => s.raw).map((s) => ({...s, values: s.raw, raw: null, faint: true})), ...coloured];
  const xAxis = xLabel === "epoch" ? {label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100]} : {label: xLabel};
  const opts = {
    title, width, height,
    scales: {x: {time: false}, y: log ? {distr: 3} : {}},
    axes: [xAxis, {}],
    series: [{label: xLabel}, ...shown.map((s) => ({
      label: s.faint ? `${s.label} (raw)` : s.label, stroke: s.faint ? s.colour + "44" : s.colour,
      width: s.faint ? 1 : 2, dash: s.dash, spanGaps: true, points: {show: !s.faint, size: 5},
    }))],
    plugins: Lab.hoverPlugin ? [Lab.hoverPlugin(shown)] : [],
  };
  const plot = new uPlot(opts, [x, ...shown.map((s) => clean(s.values))], container);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null && v !== undefined).length, 0);
  container.dataset.points = points;
  container.dataset.series = series.length;
  Lab.charts.push(plot);
  return plot;
};

Lab.curveSeries = function (curves, prefix = "", colourIndex = null) {
  const picks = [["accuracy", "batch accuracy", [2, 4]], ["train_accuracy", "train accuracy", null],
                 ["val_accuracy", "validation accuracy", [8, 4]], ["test_accuracy", "test accuracy", [2, 2, 8, 2]]];
  const accuracy = [], loss = [];
  picks.forEach(([key, label, dash], i) => {
    if (curves[key] && curves[key].some((v) => v !== null)) {
      accuracy.push({label: prefix + label, values: curves[key], dash: dash || undefined,
                     colour: Lab.colour(colourIndex === null ? i : colourIndex)});
    }
  });
  [["loss", "loss", null], ["val_loss", "validation loss", [8, 4]]].forEach(([key, label, dash], i) => {
    if (curves[key] && curves[key].some((v) => v !== null)) {
      loss.push({label: prefix + label, values: curves[key], dash: dash || undefined,
                 colour: Lab.colour(colourIndex === null ? i : colourIndex)});
    }
  });
  return {accuracy, loss};
};

Lab.clearView = function () {
  Lab.charts.forEach((c) => c.destroy());
  Lab.charts = [];
  Lab.onRuns = [];
  document.getElementById("toast").hidden = true;
  const view = document.getElementById("view");
  view.replaceChildren();
  return view;
};
