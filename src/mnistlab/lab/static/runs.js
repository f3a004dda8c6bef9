// The Runs view: the live table (a query box, sortable, chosen columns kept in the URL, CSV/JSON export),
// compare selection, the train form and its jobs.
"use strict";

Lab.BASE_COLUMNS = ["name", "model", "dataset", "epochs", "test_accuracy", "train_seconds", "started", "status"];
Lab.COLUMN_LABELS = {name: "run", test_accuracy: "test acc.", train_seconds: "seconds"};

// Every name a query or a column may use (as lab/selection.py's row_fields): table fields win over
// final metrics, which win over config options.
Lab.fields = function (row) {
  const {options, metrics, ...own} = row;
  return {...(options || {}), ...(metrics || {}), ...own};
};

// The config options whose values are not all the same among `rows` (as selection.differing_options).
Lab.differing = function (rows) {
  const names = new Set();
  rows.forEach((r) => Object.keys(r.options || {}).forEach((k) => names.add(k)));
  return [...names].sort().filter((k) => new Set(rows.map((r) => JSON.stringify((r.options || {})[k] ?? null))).size > 1);
};

Lab.showRuns = function (params = new URLSearchParams()) {
  const view = Lab.clearView();
  const state = Lab.runsState || (Lab.runsState = {sort: "started", desc: true, filters: {}, selected: new Set()});
  state.query = params.get("q") || "";
  state.columns = (params.get("columns") || "").split(",").filter(Boolean);
  state.matching = null;  // names the server's query keeps (null: no query)
  const filterBar = Lab.el("div", {class: "filters"});
  const queryBox = Lab.el("input", {id: "runs-query", type: "search", value: state.query, spellcheck: "false",
    placeholder: 'query, e.g. model == "mlp" and test_accuracy > 0.98 and lr < 0.01'});
  const queryError = Lab.el("p", {id: "query-error", class: "error"});
  const columnPicker = Lab.el("details", {id: "column-picker", class: "columns"});
  const exportCsv = Lab.el("a", {id: "export-csv", download: "runs.csv"}, "CSV");
  const exportJson = Lab.el("a", {id: "export-json", download: "runs.json"}, "JSON");
  const table = Lab.el("table", {id: "runs-table", class: "runs"});
  const compareButton = Lab.el("button", {id: "compare-selected", onclick: () => {
    location.hash = `#/compare?runs=${[...state.selected].map(encodeURIComponent).join(",")}`;
  }}, "Compare selected");

  function keepInUrl() {  // replaceState: no hashchange, so the view (and the box's focus) stays
    const query = new URLSearchParams();
    if (state.query) query.set("q", state.query);
    if (state.columns.length) query.set("columns", state.columns.join(","));
    const text = query.toString();
    history.replaceState(null, "", `#/runs${text ? "?" + text : ""}`);
  }

  async function runQuery() {
    keepInUrl();
    if (!state.query) { state.matching = null; queryError.textContent = ""; renderTable(); return; }
    try {
      const result = await Lab.api(`/api/runs?q=${encodeURIComponent(state.query)}`);
      state.matching = new Set(result.runs.map((r) => r.name));
      queryError.textContent = "";
    } catch (err) {
      queryError.textContent = err.message;
      state.matching = new Set();
    }
    renderTable();
  }
  let requery = null;  // while a query is active, live changes ask the server again (at most every 300 ms)
  function liveRequery() {
    if (state.query && !requery) requery = setTimeout(() => { requery = null; runQuery(); }, 300);
  }

  function options(key) {
    return [...new Set(Lab.runs.map((r) => r[key]).filter((v) => v !== null && v !== undefined))].sort();
  }

  function renderFilters() {
    filterBar.replaceChildren();
    for (const key of ["model", "dataset", "status"]) {
      const select = Lab.el("select", {"data-filter": key, onchange: (e) => {
        state.filters[key] = e.target.value; renderTable();
      }}, Lab.el("option", {value: ""}, `any ${key}`),
      options(key).map((v) => Lab.el("option", {value: v, selected: state.filters[key] === v}, v)));
      filterBar.append(Lab.el("label", {}, select));
    }
    filterBar.append(compareButton, Lab.el("span", {class: "export"}, "export shown rows: ", exportCsv, " ", exportJson));
  }

  function shownRows() {
    return Lab.runs.filter((r) => (!state.matching || state.matching.has(r.name))
      && Object.entries(state.filters).every(([k, v]) => !v || String(r[k]) === v));
  }

  function renderColumnPicker(rows, columns) {
    const names = new Set(Lab.BASE_COLUMNS);
    rows.forEach((r) => Object.keys(Lab.fields(r)).forEach((k) => names.add(k)));
    ["options", "metrics", "kind", "has_model", "path"].forEach((k) => names.delete(k));
    const open = columnPicker.open;
    columnPicker.replaceChildren(Lab.el("summary", {}, `columns (${state.columns.length ? "chosen" : "the options that differ"})`),
      Lab.el("button", {type: "button", onclick: () => { state.columns = []; keepInUrl(); renderTable(); }}, "default"),
      Lab.el("div", {class: "names"}, [...names].sort().map((k) => Lab.el("label", {},
        Lab.el("input", {type: "checkbox", value: k, checked: columns.includes(k), onchange: (e) => {
          const current = state.columns.length ? state.columns : columns;
          state.columns = e.target.checked ? [...current, k] : current.filter((c) => c !== k);
          keepInUrl(); renderTable();
        }}), k))));
    columnPicker.open = open;
  }

  function cell(key, r, values) {
    const value = values[key];
    if (key === "name" && (r.kind === "sweep" || Lab.sweepsOpen.has(r.sweep))) return Lab.sweepNameCell(r, renderTable);
    if (key === "name") {  // the label the user typed (--name), and the folder when it differs
      const link = Lab.el("a", {href: `#/run/${encodeURIComponent(r.name)}`, title: r.name}, r.label || r.name);
      return Lab.el("td", {}, link, r.label && r.label !== r.name ? Lab.el("span", {class: "muted folder"}, ` ${r.name}`) : null);
    }
    if (key === "epochs") {
      return Lab.el("td", {class: "num"}, r.planned_epochs && r.status === "running" ? `${r.epochs || 0}/${r.planned_epochs}` : Lab.fmt(r.epochs));
    }
    if (key === "status") return Lab.el("td", {class: "status", title: r.status_reason || ""}, r.status);
    if (key === "train_seconds") return Lab.el("td", {class: "num"}, Lab.fmt(value, 1));
    if (Array.isArray(value) || (value && typeof value === "object")) return Lab.el("td", {}, JSON.stringify(value));
    return Lab.el("td", {class: typeof value === "number" ? "num" : null}, Lab.fmt(value));
  }

  function renderTable() {
    let rows = shownRows();
    const values = new Map(rows.map((r) => [r.name, Lab.fields(r)]));
    rows.sort((a, b) => {
      const x = values.get(a.name)[state.sort], y = values.get(b.name)[state.sort];
      const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
      return state.desc ? -order : order;
    });
    rows = Lab.groupSweeps(rows);  // a sweep is one row, its trials under it when opened (sweep.js)
    const columns = state.columns.length ? state.columns : [...Lab.BASE_COLUMNS, ...Lab.differing(rows).slice(0, 8)];
    const head = Lab.el("tr", {}, Lab.el("th", {}, ""), columns.map((key) => Lab.el("th", {
      class: "sortable" + (state.sort === key ? (state.desc ? " desc" : " asc") : ""), "data-sort": key,
      onclick: () => { state.desc = state.sort === key ? !state.desc : false; state.sort = key; renderTable(); },
    }, Lab.COLUMN_LABELS[key] || key)));
    const body = rows.map((r) => Lab.el("tr", {"data-run": r.name, "data-sweep": r.sweep,
      class: `status-${r.status}${r.kind === "sweep" ? " sweep" : r.sweep ? " trial" : ""}`},
      Lab.el("td", {}, r.kind === "sweep" ? null : Lab.el("input", {type: "checkbox", checked: state.selected.has(r.name), onchange: (e) => {
        if (e.target.checked) state.selected.add(r.name); else state.selected.delete(r.name);
        compareButton.disabled = state.selected.size < 2;
      }})),
      columns.map((key) => cell(key, r, values.get(r.name)))));
    table.replaceChildren(Lab.el("thead", {}, head), Lab.el("tbody", {}, body));
    compareButton.disabled = state.selected.size < 2;
    table.dataset.rows = rows.length;
    table.dataset.columns = columns.join(",");
    if (!table.dataset.firstRenderMs && rows.length) table.dataset.firstRenderMs = Math.round(performance.now());
    renderColumnPicker(rows, columns);
    // The export asks the server for the same rows: the query, and the filters as a query of their own.
    const filters = Object.entries(state.filters).filter(([, v]) => v).map(([k, v]) => `${k} == ${JSON.stringify(v)}`);
    const query = [state.query ? `(${state.query})` : "", ...filters].filter(Boolean).join(" and ");
    const link = (format) => `/api/export?format=${format}&q=${encodeURIComponent(query)}&columns=${encodeURIComponent(columns.join(","))}`;
    exportCsv.href = link("csv");
    exportJson.href = link("json");
  }

  queryBox.addEventListener("keydown", (e) => { if (e.key === "Enter") { state.query = queryBox.value.trim(); runQuery(); } });
  queryBox.addEventListener("search", () => { state.query = queryBox.value.trim(); runQuery(); });
  view.append(Lab.el("h1", {}, "Runs"), Lab.el("div", {class: "query"}, queryBox, queryError), filterBar,
              columnPicker, table, Lab.el("p", {class: "empty"}, Lab.runs.length ? "" : "No runs yet: start one below."),
              Lab.trainForm(), Lab.sweepForm());
  renderFilters();
  runQuery();
  Lab.onRuns.push(() => { renderFilters(); renderTable(); liveRequery(); });
};

Lab.trainForm = function () {
  const jobs = Lab.el("ul", {id: "jobs"});
  const field = (label, input) => Lab.el("label", {}, Lab.el("span", {}, label), input);
  const kind = Lab.el("select", {name: "kind"}, Lab.el("option", {value: "mlp"}, "MLP (NumPy)"),
                      Lab.el("option", {value: "cnn"}, "CNN (Keras)"));
  const preset = Lab.el("select", {name: "preset"}, Lab.el("option", {value: "default"}, "default"),
                        Lab.el("option", {value: "seed"}, "seed"));
  const dataset = Lab.el("select", {name: "dataset"}, Lab.el("option", {value: "mnist"}, "mnist"),
                         Lab.el("option", {value: "fashion-mnist"}, "fashion-mnist"));
  const epochs = Lab.el("input", {name: "epochs", type: "number", min: 1, max: 200, value: 5});
  const trainSize = Lab.el("input", {name: "train_size", type: "number", min: 100, max: 60000, placeholder: "all 60000"});
  const sizes = Lab.el("input", {name: "sizes", placeholder: "preset's (e.g. 70,30)"});
  const name = Lab.el("input", {name: "name", placeholder: "automatic", pattern: "[A-Za-z0-9_\\-]{1,40}"});
  const sizesLabel = Lab.el("span", {}, "hidden layers");
  const kinds = {};  // each kind's presets, from /api/kinds: the names the CLI and sweep specs accept
  function fillPresets() {
    const known = kinds[kind.value];
    if (!known) return;
    preset.replaceChildren(...known.presets.map((name) => Lab.el("option", {value: name}, name)));
    preset.value = known.default_preset;
  }
  Lab.api("/api/kinds").then(({kinds: list}) => { for (const k of list) kinds[k.name] = k; fillPresets(); });
  kind.addEventListener("change", () => {
    fillPresets();
    sizesLabel.textContent = kind.value === "cnn" ? "conv filters" : "hidden layers";
    sizes.placeholder = kind.value === "cnn" ? "32,64,64" : "preset's (e.g. 70,30)";
  });

  async function refreshJobs() {
    const {jobs: list} = await Lab.api("/api/jobs");
    jobs.replaceChildren(...list.map((j) => Lab.el("li", {"data-job": j.id},
      Lab.el("code", {}, j.name), ` ${j.kind} · ${j.status}${j.exit_code !== null ? ` (exit ${j.exit_code})` : ""} `,
      j.run ? Lab.el("a", {href: `#/run/${encodeURIComponent(j.run)}`}, "open run") : "waiting for its run directory…",
      j.status === "running" ? Lab.el("button", {class: "stop", onclick: async () => {
        await Lab.api(`/api/jobs/${j.id}/stop`, {body: {}}); refreshJobs();
      }}, j.stop_requested ? "stopping…" : "Stop") : null)));
  }

  const form = Lab.el("form", {id: "train-form", class: "train", onsubmit: async (e) => {
    e.preventDefault();
    const body = {kind: kind.value, dataset: dataset.value, epochs: epochs.value, train_size: trainSize.value,
                  name: name.value};
    body.preset = preset.value;
    if (kind.value === "mlp") body.hidden = sizes.value; else body.conv = sizes.value;
    try {
      const job = await Lab.api("/api/train", {body});
      Lab.toast(`started ${job.name}`);
      refreshJobs();
    } catch (err) { Lab.toast(err.message); }
  }},
  Lab.el("h2", {}, "Train"),
  Lab.el("div", {class: "fields"}, field("model", kind), field("preset", preset), field("dataset", dataset),
         field("epochs", epochs), field("training images", trainSize), Lab.el("label", {}, sizesLabel, sizes),
         field("name", name)),
  Lab.el("button", {type: "submit", id: "train-start"}, "Start training"),
  Lab.el("p", {class: "hint"}, "Runs `python -m mnistlab mlp|cnn train …` in the background; it appears above as it trains."),
  jobs);
  refreshJobs();
  Lab.onRuns.push(refreshJobs);
  return form;
};
