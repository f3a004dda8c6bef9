// Sweeps in the lab: a sweep's trials folded under its row in the runs table, the form that starts a sweep,
// and the Sweep view (#/sweep/NAME): live trial table, curves, parallel coordinates, importance, best trial.
"use strict";

Lab.sweepsOpen = new Set();  // sweeps whose trials are shown under their row in the runs table

// The runs table's rows with each sweep's trials right under it (hidden while it is folded). Trials whose
// sweep row is not among `rows` (a query kept the trials, not the sweep) stay rows of their own.
Lab.groupSweeps = function (rows) {
  const sweeps = new Set(rows.filter((r) => r.kind === "sweep").map((r) => r.name));
  const trials = new Map();
  rows.forEach((r) => { if (r.sweep && sweeps.has(r.sweep)) (trials.get(r.sweep) || trials.set(r.sweep, []).get(r.sweep)).push(r); });
  return rows.flatMap((r) => {
    if (r.sweep && sweeps.has(r.sweep)) return [];
    return r.kind === "sweep" && Lab.sweepsOpen.has(r.name) ? [r, ...(trials.get(r.name) || [])] : [r];
  });
};

// The name cell of a runs-table row that is a sweep (fold toggle, link to its page) or one of its trials.
Lab.sweepNameCell = function (r, rerender) {
  if (r.kind === "sweep") {
    const open = Lab.sweepsOpen.has(r.name);
    return Lab.el("td", {class: "sweep-name"}, Lab.el("button", {class: "fold", "aria-expanded": String(open),
      title: open ? "hide its trials" : "show its trials", onclick: () => {
        if (open) Lab.sweepsOpen.delete(r.name); else Lab.sweepsOpen.add(r.name);
        rerender();
      }}, open ? "▾" : "▸"), " ", Lab.el("a", {href: `#/sweep/${encodeURIComponent(r.name)}`}, r.name),
      Lab.el("span", {class: "hint"}, ` sweep · ${r.trials} trials`));
  }
  return Lab.el("td", {class: "trial-name"}, Lab.el("a", {href: `#/run/${encodeURIComponent(r.name)}`},
    r.name.slice(r.sweep.length + 1)));
};

Lab.sweepForm = function () {
  const jobs = Lab.el("ul", {id: "sweep-jobs"});
  const pick = Lab.el("select", {id: "sweep-spec"}, Lab.el("option", {value: ""}, "paste a spec below"));
  const about = Lab.el("p", {class: "hint"});
  const text = Lab.el("textarea", {id: "sweep-toml", rows: 12, cols: 90, spellcheck: "false",
    placeholder: 'model = "mlp"\nmetric = "test_accuracy"\n[fixed]\neval_test_every = 1\n[space]\nlr = [0.001, 0.01]'});
  const error = Lab.el("p", {id: "sweep-error", class: "error"});
  const button = Lab.el("button", {type: "submit", id: "sweep-start"}, "Start sweep");
  let specs = [];
  pick.addEventListener("change", () => {
    const spec = specs.find((s) => s.name === pick.value);
    text.value = spec ? spec.text : "";
    about.textContent = spec ? spec.about : "";
  });
  text.addEventListener("input", () => { if (pick.value) { pick.value = ""; about.textContent = "your spec (pasted or edited)"; } });

  function showJobs(list) {
    jobs.replaceChildren(...list.map((j) => Lab.el("li", {"data-sweep-job": j.id}, Lab.el("code", {}, j.label),
      ` · ${j.status}${j.exit_code !== null ? ` (exit ${j.exit_code})` : ""} `,
      j.sweep ? Lab.el("a", {href: `#/sweep/${encodeURIComponent(j.sweep)}`}, "open sweep") : "waiting for its sweep directory…",
      j.status === "running" && j.sweep ? Lab.el("button", {class: "stop", onclick: async () => {
        await Lab.api(`/api/sweeps/${encodeURIComponent(j.sweep)}/stop`, {body: {}}).catch((err) => Lab.toast(err.message));
        refresh();
      }}, j.stop_requested ? "stopping…" : "Stop") : null)));
  }
  async function refresh() {
    const data = await Lab.api("/api/sweeps").catch(() => null);
    if (!data) return;
    if (!specs.length) {
      specs = data.specs;
      pick.append(...specs.map((s) => Lab.el("option", {value: s.name}, s.name)));
    }
    showJobs(data.jobs);
  }

  const form = Lab.el("form", {id: "sweep-form", class: "train", onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = "";
    button.disabled = true;
    button.textContent = "checking the spec…";
    try {
      const job = await Lab.api("/api/sweeps", {body: pick.value ? {spec: pick.value} : {toml: text.value}});
      Lab.toast(`started sweep ${job.sweep || job.label}`);
      refresh();
    } catch (err) { error.textContent = err.message; }
    button.disabled = false;
    button.textContent = "Start sweep";
  }},
  Lab.el("h2", {}, "Sweep"),
  Lab.el("div", {class: "fields"}, Lab.el("label", {}, Lab.el("span", {}, "a shipped spec"), pick)),
  about, text, error, button,
  Lab.el("p", {class: "hint"}, "Runs `python -m mnistlab sweep SPEC.toml` in the background (docs/sweep.md lists the keys); ",
         "a spec it refuses shows its one-line error here. The sweep appears above as one row."),
  jobs);
  refresh();
  Lab.onRuns.push(refresh);
  return form;
};

Lab.showSweep = function (name) {
  const view = Lab.clearView();
  const base = `/api/sweeps/${encodeURIComponent(name)}`;
  const header = Lab.el("div", {class: "run-header"});
  const curves = Lab.el("div", {id: "sweep-curves"});
  const parallel = Lab.el("div", {id: "sweep-parallel"});
  const brushNote = Lab.el("p", {class: "hint"}, "Drag along an axis to keep the trials in that range; click the axis to clear it.");
  const trialsTable = Lab.el("table", {id: "sweep-trials", class: "runs"});
  const importance = Lab.el("div", {id: "sweep-importance"}, "…");
  const spec = Lab.el("pre", {class: "config"});
  view.append(header, Lab.el("div", {class: "charts"}, curves), Lab.el("h2", {}, "Parallel coordinates"), brushNote, parallel,
              Lab.el("h2", {}, "Trials"), trialsTable, Lab.el("h2", {}, "Importance of each option"), importance,
              Lab.el("details", {}, Lab.el("summary", {}, "spec"), spec));
  const brushes = {};
  let data = null, shown = null, signature = "", finishedCount = -1, updates = 0;

  function colourOf(trial) {  // by metric: the better, the darker
    const values = data.trials.map((t) => t.final).filter((v) => v !== null);
    if (trial.final === null || values.length < 2) return "#1f77b4";
    const lo = Math.min(...values), hi = Math.max(...values);
    let t = hi > lo ? (trial.final - lo) / (hi - lo) : 1;
    if (data.mode === "min") t = 1 - t;
    return `hsl(215, 70%, ${Math.round(78 - 50 * t)}%)`;
  }

  function renderHeader() {
    const stop = data.job && data.job.status === "running"
      ? Lab.el("button", {id: "stop-sweep", onclick: async () => {
          try { await Lab.api(`${base}/stop`, {body: {}}); Lab.toast("stopping the sweep…"); } catch (err) { Lab.toast(err.message); }
        }}, data.job.stop_requested ? "stopping…" : "Stop sweep") : null;
    const counts = Object.entries(data.counts || {}).map(([s, n]) => `${n} ${s}`).join(", ");
    const best = data.best ? Lab.el("p", {}, "Best trial: ", Lab.el("a", {id: "best-trial", href: `#/run/${encodeURIComponent(data.best.run)}`},
      data.best.trial), ` · ${data.metric} ${Lab.fmt(data.best.final)} · `,
      Object.entries(data.best.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" "), ` seed ${data.best.seed}`,
      " · ", Lab.el("a", {href: `#/run/${encodeURIComponent(data.best.run)}`}, "its run page and insides")) : null;
    header.replaceChildren(Lab.el("h1", {}, `Sweep ${name}`), Lab.el("p", {},
      `${data.spec.model} on ${data.spec.dataset} · ${data.spec.search} search · ${data.mode} ${data.metric} · status `,
      Lab.el("b", {id: "sweep-status"}, data.status), ` · ${data.trials.length} trials${counts ? ` (${counts})` : ""} `, stop), best);
    spec.textContent = JSON.stringify(data.spec, null, 2);
  }

  function renderCurves() {
    const ids = Object.keys(data.curves);
    const epochs = [...new Set(ids.flatMap((id) => data.curves[id].epoch))].sort((a, b) => a - b);
    const byId = new Map(data.trials.map((t) => [t.trial, t]));
    const series = ids.map((id) => {
      const curve = data.curves[id], trial = byId.get(id);
      const at = new Map(curve.epoch.map((e, k) => [e, curve.values[k]]));
      const greyed = trial.pruned || trial.status === "failed" || trial.status === "interrupted";
      return {label: id, values: epochs.map((e) => (at.has(e) ? at.get(e) : null)),
              colour: greyed ? "#bdbdbd" : colourOf(trial), dash: greyed ? [4, 4] : undefined};
    });
    Lab.charts.forEach((c) => c.destroy());
    Lab.charts = [];
    Lab.chart(curves, `${data.metric} of every trial (stopped or failed: grey)`, epochs, series);
  }

  function renderParallel() {
    const axes = [...data.options.map((o) => ({name: o, label: o})), {name: "__metric", label: data.metric}];
    const items = data.trials.map((t) => ({id: t.trial, faded: t.pruned, final: t.final,
                                            values: {...t.options, __metric: t.final}}));
    const plot = Lab.parallel(parallel, {items, axes, brushes, colour: (it) => colourOf(it),
                                         onBrush: (ids) => { shown = ids; renderTrials(); }});
    shown = Object.keys(brushes).length ? plot.shown() : null;
  }

  function renderTrials() {
    const rows = data.trials.filter((t) => !shown || shown.has(t.trial));
    const best = data.best ? data.best.trial : null;
    const head = Lab.el("tr", {}, ["trial", "status", "epoch", data.metric, "best", ...data.options, "run"].map((h) => Lab.el("th", {}, h)));
    trialsTable.replaceChildren(Lab.el("thead", {}, head), Lab.el("tbody", {}, rows.map((t) => Lab.el("tr", {
      "data-trial": t.trial, class: `status-${t.status}${t.pruned ? " pruned" : ""}${t.trial === best ? " best" : ""}`},
      Lab.el("td", {}, t.trial), Lab.el("td", {class: "status"}, t.status), Lab.el("td", {class: "num"}, t.epochs),
      Lab.el("td", {class: "num"}, Lab.fmt(t.final)), Lab.el("td", {class: "num"}, Lab.fmt(t.best)),
      data.options.map((o) => Lab.el("td", {}, typeof t.options[o] === "string" ? t.options[o] : Lab.fmt(t.options[o]))),
      Lab.el("td", {}, t.run ? Lab.el("a", {href: `#/run/${encodeURIComponent(t.run)}`}, "run") : "")))));
    trialsTable.dataset.rows = rows.length;
    trialsTable.dataset.epochs = data.trials.reduce((n, t) => n + (t.epochs || 0), 0);
  }

  async function renderImportance() {
    const finished = data.trials.filter((t) => t.status === "completed" || t.status === "stopped").length;
    if (finished === finishedCount) return;
    finishedCount = finished;
    const result = await Lab.api(`${base}/importance`).catch((err) => ({importance: null, reason: err.message}));
    if (!result.importance) {
      importance.replaceChildren(Lab.el("p", {class: "reason"}, result.reason));
      return;
    }
    const top = Math.max(...result.importance.map((r) => r.mean), 1e-12);
    importance.replaceChildren(Lab.el("div", {class: "bars importance"}, result.importance.map((r) => Lab.el("div", {class: "bar", "data-option": r.option},
      Lab.el("span", {class: "label"}, r.option), Lab.el("span", {class: "fill", style: `width:${Math.max(1, 200 * Math.max(0, r.mean) / top)}px`}),
      Lab.el("span", {class: "value"}, `${Lab.fmt(r.mean, 4)} ± ${Lab.fmt(r.sd, 4)}`)))),
      Lab.el("p", {class: "hint method"}, result.method));
  }

  async function refresh() {
    try { data = await Lab.api(base); } catch (err) { header.replaceChildren(Lab.el("p", {class: "error"}, err.message)); return; }
    updates += 1;
    view.dataset.updates = updates;
    renderHeader();
    renderCurves();
    renderParallel();
    renderTrials();
    renderImportance();
  }

  // Live: the runs event stream carries the sweep's row (sweep.json changed) and its trials' rows (an epoch).
  Lab.onRuns.push((runs) => {
    const mine = runs.filter((r) => r.name === name || r.sweep === name);
    const next = JSON.stringify(mine.map((r) => [r.name, r.status, r.epochs, r.trials, r.test_accuracy]));
    if (next !== signature) { signature = next; refresh(); }
  });
  signature = JSON.stringify(Lab.runs.filter((r) => r.name === name || r.sweep === name)
    .map((r) => [r.name, r.status, r.epochs, r.trials, r.test_accuracy]));
  refresh();
};
