// A parallel-coordinates plot in plain SVG: one vertical axis per option (and the metric), one line per
// trial. Dragging along an axis brushes a range; a click on an axis clears its brush. `onBrush` gets the
// ids of the trials inside every brush (all of them when nothing is brushed). A brush holds values (a range
// of numbers, or the chosen categories), not pixels: when a live sweep widens an axis, it keeps its trials.
"use strict";

Lab.parallel = function (container, {items, axes, brushes = {}, onBrush = () => {}, colour = () => "#1f77b4"}) {
  // items: [{id, values: {axis: value}, faded}]; axes: [{name, label}]; brushes: {axis: {range: [lo, hi]} | {keys: [...]}} (kept by the caller).
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs = {}) => {
    const node = document.createElementNS(NS, tag);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  };
  const width = Math.max(360, Math.min(container.clientWidth || 800, 1000));
  const height = 320, top = 40, bottom = 30, left = 50, right = 50;
  const span = height - top - bottom;
  const x = (i) => left + (axes.length === 1 ? 0 : i * (width - left - right) / (axes.length - 1));
  const number = (v) => { const t = Lab.fmt(v, 4); return t.includes(".") ? t.replace(/\.?0+$/, "") : t; };
  const text = (v) => (typeof v === "number" ? number(v) : typeof v === "string" ? v : JSON.stringify(v));

  // Each axis maps a value to a y pixel: numbers linearly (log when positive over 20x), others evenly.
  const scales = axes.map((axis) => {
    const values = items.map((it) => it.values[axis.name]).filter((v) => v !== null && v !== undefined);
    if (values.length && values.every((v) => typeof v === "number")) {
      let lo = Math.min(...values), hi = Math.max(...values);
      const log = lo > 0 && hi / lo >= 20;
      const f = log ? Math.log10 : (v) => v;
      if (lo === hi) { lo -= 1; hi += 1; }
      const [a, b] = [f(lo), f(hi)];
      const y = (v) => top + span * (1 - (f(v) - a) / (b - a || 1));
      const invert = (py) => { const u = a + (1 - (py - top) / span) * (b - a); return log ? 10 ** u : u; };
      const toBrush = (y0, y1) => ({range: [invert(y1), invert(y0)]});
      const has = (brush, v) => brush.range && v >= brush.range[0] - 1e-9 * Math.abs(v) && v <= brush.range[1] + 1e-9 * Math.abs(v);
      const pixels = (brush) => [y(brush.range[1]), y(brush.range[0])].map((p) => Math.min(top + span, Math.max(top, p)));
      const ticks = [lo, hi, ...(log ? [] : [(lo + hi) / 2])].filter((v) => Number.isFinite(v));
      return {y, ticks: [...new Set(values.length > 1 ? ticks : values)].map((v) => [y(v), text(v)]), log, toBrush, has, pixels};
    }
    const keys = [...new Set(values.map((v) => JSON.stringify(v)))].sort();
    const y = (v) => top + (keys.length === 1 ? span / 2 : span * keys.indexOf(JSON.stringify(v)) / (keys.length - 1));
    const toBrush = (y0, y1) => ({keys: keys.filter((k) => { const p = y(JSON.parse(k)); return p >= y0 - 0.5 && p <= y1 + 0.5; })});
    const has = (brush, v) => Boolean(brush.keys) && brush.keys.includes(JSON.stringify(v));
    const pixels = (brush) => {
      const ys = (brush.keys || []).filter((k) => keys.includes(k)).map((k) => y(JSON.parse(k)));
      return ys.length ? [Math.min(...ys) - 4, Math.max(...ys) + 4] : null;
    };
    return {y, ticks: keys.map((k) => [y(JSON.parse(k)), text(JSON.parse(k))]), log: false, toBrush, has, pixels};
  });
  const point = (it, i) => {
    const v = it.values[axes[i].name];
    return v === null || v === undefined ? null : scales[i].y(v);
  };
  const inside = (it) => axes.every((axis, i) => {
    const brush = brushes[axis.name];
    if (!brush) return true;
    const v = it.values[axis.name];
    return v !== null && v !== undefined && scales[i].has(brush, v);
  });

  const svg = svgEl("svg", {width, height, class: "parallel", viewBox: `0 0 ${width} ${height}`});
  const lines = svgEl("g", {class: "lines"});
  svg.append(lines);
  function drawLines() {
    lines.replaceChildren();
    let shown = 0;
    items.forEach((it) => {
      const keep = inside(it);
      shown += keep ? 1 : 0;
      const parts = [];
      axes.forEach((_, i) => { const y = point(it, i); if (y !== null) parts.push(`${parts.length ? "L" : "M"}${x(i).toFixed(1)},${y.toFixed(1)}`); });
      const path = svgEl("path", {d: parts.join(" "), class: `trial${keep ? "" : " out"}${it.faded ? " faded" : ""}`,
                                  "data-trial": it.id, stroke: keep && !it.faded ? colour(it) : "#c8c8c8"});
      path.append(svgEl("title"));
      path.firstChild.textContent = `${it.id}: ${axes.map((a) => `${a.label} ${text(it.values[a.name])}`).join(", ")}`;
      lines.append(path);
    });
    container.dataset.shown = shown;
    container.dataset.lines = items.length;
  }

  axes.forEach((axis, i) => {
    const g = svgEl("g", {class: "axis", "data-axis": axis.name});
    g.append(svgEl("line", {x1: x(i), x2: x(i), y1: top, y2: top + span}));
    const label = svgEl("text", {x: x(i), y: top - 22, "text-anchor": "middle", class: "label"});
    label.textContent = axis.label + (scales[i].log ? " (log)" : "");
    g.append(label);
    scales[i].ticks.forEach(([y, t]) => {
      const tick = svgEl("text", {x: x(i) + 6, y: y + 4, class: "tick"});
      tick.textContent = t;
      g.append(tick);
    });
    const rect = svgEl("rect", {class: "brush", x: x(i) - 6, width: 12, y: 0, height: 0, hidden: ""});
    const grip = svgEl("rect", {class: "grip", x: x(i) - 12, width: 24, y: top - 6, height: span + 12});
    let start = null, dragged = null;  // while dragging, the rectangle follows the pointer
    const show = () => {
      const b = dragged || (brushes[axis.name] && scales[i].pixels(brushes[axis.name]));
      if (b) { rect.removeAttribute("hidden"); rect.setAttribute("y", b[0]); rect.setAttribute("height", Math.max(1, b[1] - b[0])); }
      else rect.setAttribute("hidden", "");
    };
    const yOf = (e) => {
      const box = svg.getBoundingClientRect();
      return Math.min(top + span, Math.max(top, (e.clientY - box.top) * height / box.height));
    };
    grip.addEventListener("pointerdown", (e) => { start = yOf(e); grip.setPointerCapture(e.pointerId); e.preventDefault(); });
    grip.addEventListener("pointermove", (e) => {
      if (start === null) return;
      const y = yOf(e);
      dragged = [Math.min(start, y), Math.max(start, y)];
      brushes[axis.name] = scales[i].toBrush(...dragged);
      show(); drawLines();
    });
    grip.addEventListener("pointerup", (e) => {
      const moved = start !== null && Math.abs(yOf(e) - start) >= 3;
      start = null;
      dragged = null;
      if (!moved) delete brushes[axis.name];
      show(); drawLines();
      onBrush(new Set(items.filter(inside).map((it) => it.id)));
    });
    g.append(rect, grip);
    svg.append(g);
    show();
  });
  drawLines();
  container.replaceChildren(svg);
  return {shown: () => new Set(items.filter(inside).map((it) => it.id))};
};
