// Curves as people expect them: smoothing (TensorBoard's debiased EMA), a log y axis, x as epoch or seconds,
// and a hover that reads every shown curve's value at the cursor. Settings live in the page's URL.
"use strict";

// TensorBoard's smoothing: last = w * last + (1 - w) * x, shown as last / (1 - w^t) (t: finite points so far),
// so the first points are not pulled towards 0. Gaps and non-finite values stay as they are; so does a constant.
Lab.smooth = function (values, weight) {
  if (!(weight > 0)) return values.slice();
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  if (finite.every((v) => v === finite[0])) return values.slice();
  let last = 0, count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count += 1;
    return last / (weight === 1 ? 1 : 1 - Math.pow(weight, count));
  });
};

// The x values of a run's curves: epochs, or seconds of training so far (the running sum of epoch_seconds).
// null when the run did not record what the axis needs.
Lab.xValues = function (curves, axis) {
  if (axis !== "seconds") return curves.epoch;
  const seconds = curves.epoch_seconds;
  if (!seconds || seconds.some((s) => s === null)) return null;
  let total = 0;
  return seconds.map((s) => Math.round((total += s) * 1000) / 1000);
};

Lab.CURVE_DEFAULTS = {smooth: 0, y: "linear", x: "epoch"};

// The curve settings of `params` (URLSearchParams), checked: bad values fall back to the defaults.
Lab.curveSettings = function (params) {
  const smooth = Number(params.get("smooth"));
  return {smooth: smooth >= 0 && smooth < 1 ? smooth : 0,
          y: params.get("y") === "log" ? "log" : "linear",
          x: params.get("x") === "seconds" ? "seconds" : "epoch"};
};

// Write `settings` into `params`, leaving out the defaults (short URLs).
Lab.putCurveSettings = function (params, settings) {
  for (const [key, value] of Object.entries(settings)) {
    if (value === Lab.CURVE_DEFAULTS[key]) params.delete(key); else params.set(key, String(value));
  }
};

// The three controls; `onchange(settings)` after each change.
Lab.curveControls = function (settings, onchange) {
  const value = Lab.el("span", {class: "smooth-value", id: "smoothing-value"}, settings.smooth.toFixed(2));
  const slider = Lab.el("input", {type: "range", id: "smoothing", min: 0, max: 0.99, step: 0.01, value: settings.smooth,
    title: "exponential moving average, debiased as TensorBoard's (0: off)"});
  slider.addEventListener("input", () => {
    settings.smooth = Number(slider.value);
    value.textContent = settings.smooth.toFixed(2);
    onchange(settings);
  });
  const select = (id, key, options) => Lab.el("select", {id, onchange: (e) => { settings[key] = e.target.value; onchange(settings); }},
    options.map(([v, label]) => Lab.el("option", {value: v, selected: settings[key] === v}, label)));
  return Lab.el("div", {class: "curve-controls"},
    Lab.el("label", {}, "smoothing ", slider, " ", value),
    Lab.el("label", {}, "y ", select("y-scale", "y", [["linear", "linear"], ["log", "log"]])),
    Lab.el("label", {}, "x ", select("x-axis", "x", [["epoch", "epoch"], ["seconds", "seconds (training)"]])));
};

// Several runs' series on one x axis: `parts` = [{x, series: [{label, values, ...}]}] -> {x, series} aligned
// on the sorted union of the x values (null where a run has no point).
Lab.alignSeries = function (parts) {
  const xs = [...new Set(parts.flatMap((p) => p.x))].sort((a, b) => a - b);
  const series = parts.flatMap((part) => {
    const at = new Map(part.x.map((x, k) => [x, k]));
    return part.series.map((s) => ({...s, values: xs.map((x) => (at.has(x) ? s.values[at.get(x)] : null)),
                                   raw: s.raw && xs.map((x) => (at.has(x) ? s.raw[at.get(x)] : null))}));
  });
  return {x: xs, series};
};

// `series` smoothed with `weight`; each keeps its unsmoothed values in `raw` (drawn faintly, read on hover).
Lab.smoothSeries = function (series, weight) {
  return series.map((s) => ({...s, raw: weight > 0 ? s.values : null, values: Lab.smooth(s.values, weight)}));
};

// The value of a curve at x: its point nearest to x (curves of several runs rarely share their x in seconds).
Lab.valueAt = function (xs, ys, x) {
  let best = null, distance = Infinity;
  for (let k = 0; k < xs.length; k++) {
    if (ys[k] === null || ys[k] === undefined) continue;
    const d = Math.abs(xs[k] - x);
    if (d < distance) { distance = d; best = k; }
  }
  return best;
};

// A uPlot plugin: a box by the cursor listing every shown curve's value at the cursor's x. `meta` holds the
// chart's series as given (label, colour, raw values, faint for the unsmoothed copies, which it skips).
Lab.hoverPlugin = function (meta) {
  let tip = null;
  return {hooks: {
    init: (u) => { tip = Lab.el("div", {class: "hover-tip", hidden: true}); u.over.append(tip); },
    setCursor: (u) => {
      const {left, top} = u.cursor;
      if (left === undefined || left === null || left < 0) { tip.hidden = true; return; }
      const idx = u.cursor.idx;  // uPlot's nearest x of the data, else the cursor's own x
      const x = idx !== null && idx !== undefined ? u.data[0][idx] : u.posToVal(left, "x");
      const rows = [];
      u.series.forEach((s, i) => {
        const m = meta[i - 1];
        if (i === 0 || !s.show || m.faint) return;
        const k = Lab.valueAt(u.data[0], u.data[i], x);
        if (k === null) return;
        const raw = m.raw ? m.raw[k] : null;
        rows.push(Lab.el("div", {class: "hover-row"}, Lab.el("span", {class: "dot", style: `background:${m.colour}`}),
          `${m.label}: ${Lab.fmt(u.data[i][k])}`, raw !== null && raw !== undefined ? ` (raw ${Lab.fmt(raw)})` : "",
          u.data[0][k] !== x ? Lab.el("span", {class: "hint"}, ` at ${Lab.fmt(u.data[0][k], 1)}`) : ""));
      });
      if (!rows.length) { tip.hidden = true; return; }
      tip.replaceChildren(Lab.el("b", {}, `${u.series[0].label} ${Lab.fmt(x, 1)}`), ...rows);
      tip.hidden = false;
      const flip = left > u.over.clientWidth / 2;
      tip.style.left = flip ? "" : `${left + 12}px`;
      tip.style.right = flip ? `${u.over.clientWidth - left + 12}px` : "";
      tip.style.top = `${Math.max(0, top - 10)}px`;
    },
  }};
};
