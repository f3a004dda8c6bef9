// The page's router (#/runs, #/run/NAME, #/compare?runs=A,B, #/draw) and the live event stream.
"use strict";

Lab.route = function () {
  const hash = decodeURIComponent(location.hash.slice(1)) || "/runs";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === parts[0]));
  if (parts[0] === "run" && parts[1]) return Lab.showRun(parts.slice(1).join("/"));
  if (parts[0] === "compare") return Lab.showCompare((params.get("runs") || "").split(",").filter(Boolean));
  if (parts[0] === "draw") return Lab.showDraw();
  return Lab.showRuns();
};

Lab.setRuns = function (runs) {
  Lab.runs = runs;
  Lab.onRuns.forEach((callback) => callback(runs));
};

Lab.listen = function () {
  const live = document.getElementById("live");
  const source = new EventSource("/api/events");
  source.addEventListener("runs", (e) => { Lab.setRuns(JSON.parse(e.data).runs); live.textContent = "live"; live.className = "live on"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live"; });
};

(async function start() {
  try { Lab.runs = (await Lab.api("/api/runs")).runs; } catch (err) { Lab.toast(err.message); }
  window.addEventListener("hashchange", Lab.route);
  Lab.route();
  Lab.listen();
})();
