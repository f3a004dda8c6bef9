// The page's router (#/runs, #/run/NAME, #/compare?runs=A,B, #/draw) and the live event stream.
"use strict";

Lab.route = function () {
  const [rawPath, query] = (location.hash.slice(1) || "/runs").split("?");
  const path = decodeURIComponent(rawPath);
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === parts[0]));
  if (parts[0] === "run" && parts[1]) return Lab.showRun(parts.slice(1).join("/"), params);
  if (parts[0] === "sweep" && parts[1]) return Lab.showSweep(parts.slice(1).join("/"));
  if (parts[0] === "compare") return Lab.showCompare((params.get("runs") || "").split(",").filter(Boolean), params);
  if (parts[0] === "draw") return Lab.showDraw();
  return Lab.showRuns(params);
};

Lab.setRuns = function (runs) {
  Lab.runs = runs;
  Lab.onRuns.forEach((callback) => callback(runs));
};

// A "rows" event: the runs whose files changed (replaced in place, new ones appended) and those removed.
Lab.updateRuns = function ({rows, removed}) {
  const gone = new Set(removed), changed = new Map(rows.map((r) => [r.name, r]));
  const runs = Lab.runs.filter((r) => !gone.has(r.name)).map((r) => changed.get(r.name) || r);
  const known = new Set(runs.map((r) => r.name));
  rows.forEach((r) => { if (!known.has(r.name)) runs.push(r); });
  Lab.setRuns(runs);
};

Lab.listen = function () {
  const live = document.getElementById("live");
  // The page has just read the table: the stream sends only what changes after it (`since`).
  const source = new EventSource(`/api/events?since=${encodeURIComponent(Lab.cursor || "")}`);
  source.addEventListener("runs", (e) => { Lab.setRuns(JSON.parse(e.data).runs); live.textContent = "live"; live.className = "live on"; });
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  source.addEventListener("rows", (e) => Lab.updateRuns(JSON.parse(e.data)));
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live"; });
};

(async function start() {
  try { ({runs: Lab.runs, cursor: Lab.cursor} = await Lab.api("/api/runs")); } catch (err) { Lab.toast(err.message); }
  window.addEventListener("hashchange", Lab.route);
  Lab.route();
  Lab.listen();
})();
