// The Runs view: the live table (sortable, filterable), compare selection, the train form and its jobs.
"use strict";

Lab.showRuns = function () {
  const view = Lab.clearView();
  const state = Lab.runsState || (Lab.runsState = {sort: "started", desc: true, filters: {}, selected: new Set()});
  const columns = [["name", "run"], ["model", "model"], ["dataset", "dataset"], ["epochs", "epochs"],
                   ["test_accuracy", "test acc."], ["train_seconds", "seconds"], ["started", "started"],
                   ["status", "status"]];
  const filterBar = Lab.el("div", {class: "filters"});
  const table = Lab.el("table", {id: "runs-table", class: "runs"});
  const compareButton = Lab.el("button", {id: "compare-selected", onclick: () => {
    location.hash = `#/compare?runs=${[...state.selected].map(encodeURIComponent).join(",")}`;
  }}, "Compare selected");

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
    filterBar.append(compareButton);
  }

  function renderTable() {
    const rows = Lab.runs.filter((r) => Object.entries(state.filters).every(([k, v]) => !v || String(r[k]) === v));
    rows.sort((a, b) => {
      const x = a[state.sort], y = b[state.sort];
      const order = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
      return state.desc ? -order : order;
    });
    const head = Lab.el("tr", {}, Lab.el("th", {}, ""), columns.map(([key, label]) => Lab.el("th", {
      class: "sortable" + (state.sort === key ? (state.desc ? " desc" : " asc") : ""), "data-sort": key,
      onclick: () => { state.desc = state.sort === key ? !state.desc : false; state.sort = key; renderTable(); },
    }, label)));
    const body = rows.map((r) => Lab.el("tr", {"data-run": r.name, class: `status-${r.status}`},
      Lab.el("td", {}, Lab.el("input", {type: "checkbox", checked: state.selected.has(r.name), onchange: (e) => {
        if (e.target.checked) state.selected.add(r.name); else state.selected.delete(r.name);
        compareButton.disabled = state.selected.size < 2;
      }})),
      Lab.el("td", {}, Lab.el("a", {href: `#/run/${encodeURIComponent(r.name)}`}, r.name)),
      Lab.el("td", {}, r.model), Lab.el("td", {}, r.dataset),
      Lab.el("td", {class: "num"}, r.planned_epochs && r.status === "running" ? `${r.epochs || 0}/${r.planned_epochs}` : Lab.fmt(r.epochs)),
      Lab.el("td", {class: "num"}, Lab.fmt(r.test_accuracy)), Lab.el("td", {class: "num"}, Lab.fmt(r.train_seconds, 1)),
      Lab.el("td", {}, r.started), Lab.el("td", {class: "status"}, r.status)));
    table.replaceChildren(Lab.el("thead", {}, head), Lab.el("tbody", {}, body));
    compareButton.disabled = state.selected.size < 2;
    table.dataset.rows = rows.length;
  }

  view.append(Lab.el("h1", {}, "Runs"), filterBar, table,
              Lab.el("p", {class: "empty"}, Lab.runs.length ? "" : "No runs yet: start one below."),
              Lab.trainForm());
  renderFilters();
  renderTable();
  Lab.onRuns.push(() => { renderFilters(); renderTable(); });
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
  kind.addEventListener("change", () => {
    preset.disabled = kind.value === "cnn";
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
    if (kind.value === "mlp") { body.preset = preset.value; body.hidden = sizes.value; } else { body.conv = sizes.value; }
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
