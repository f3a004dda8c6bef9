// The Draw view: a pad (mouse and touch), the MNIST-style 28x28 the server makes of it, and the chosen
// MLP's and CNN's live answers with what happens inside them.
"use strict";

Lab.showDraw = function () {
  const view = Lab.clearView();
  const state = Lab.drawState || (Lab.drawState = {mlp: "", cnn: ""});
  const pad = Lab.el("canvas", {id: "draw-pad", width: 280, height: 280});
  const preview = Lab.el("div", {id: "draw-input"});
  const results = Lab.el("div", {id: "draw-results"});
  const mlpSelect = Lab.el("select", {id: "draw-mlp"});
  const cnnSelect = Lab.el("select", {id: "draw-cnn"});
  const clear = Lab.el("button", {id: "draw-clear", onclick: () => { ctx.clearRect(0, 0, 280, 280); results.replaceChildren(); preview.replaceChildren(); }}, "Clear");
  view.append(Lab.el("h1", {}, "Draw a digit"),
    Lab.el("p", {}, "MLP run ", mlpSelect, " CNN run ", cnnSelect, " ", clear),
    Lab.el("div", {class: "row"}, Lab.el("div", {}, pad, Lab.el("p", {class: "hint"}, "draw with the mouse or a finger")),
           Lab.el("div", {}, Lab.el("p", {}, "what the models see (MNIST-style 28x28)"), preview)),
    results);

  function fillSelects() {
    for (const [select, kind] of [[mlpSelect, "mlp"], [cnnSelect, "cnn"]]) {
      const runs = Lab.runs.filter((r) => r.kind === kind && r.has_model).map((r) => r.name).reverse();
      if (!state[kind] && runs.length) state[kind] = runs[0];
      select.replaceChildren(Lab.el("option", {value: ""}, "none"),
                             ...runs.map((n) => Lab.el("option", {value: n, selected: n === state[kind]}, n)));
    }
  }
  mlpSelect.addEventListener("change", () => { state.mlp = mlpSelect.value; predict(); });
  cnnSelect.addEventListener("change", () => { state.cnn = cnnSelect.value; predict(); });
  fillSelects();
  Lab.onRuns.push(fillSelects);

  const ctx = pad.getContext("2d");
  ctx.lineWidth = 20; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
  let drawing = false;
  const at = (e) => { const box = pad.getBoundingClientRect(); return [(e.clientX - box.left) * 280 / box.width, (e.clientY - box.top) * 280 / box.height]; };
  pad.addEventListener("pointerdown", (e) => { drawing = true; pad.setPointerCapture(e.pointerId); ctx.beginPath(); ctx.moveTo(...at(e)); ctx.lineTo(...at(e)); ctx.stroke(); predict(); });
  pad.addEventListener("pointermove", (e) => { if (!drawing) return; ctx.lineTo(...at(e)); ctx.stroke(); predict(); });
  for (const type of ["pointerup", "pointercancel"]) pad.addEventListener(type, () => { if (drawing) { drawing = false; predict(); } });

  function ink() {  // the pad's alpha channel at half resolution, as one encoded 140x140 image of ink 0..255
    const small = Lab.el("canvas", {width: 140, height: 140}).getContext("2d");
    small.drawImage(pad, 0, 0, 140, 140);
    const alpha = small.getImageData(0, 0, 140, 140).data;
    const bytes = new Uint8Array(140 * 140);
    for (let i = 0; i < bytes.length; i++) bytes[i] = alpha[4 * i + 3];
    return {h: 140, w: 140, data: Lab.encode(bytes)};
  }

  let busy = false, again = false;
  async function predict() {
    if (busy) { again = true; return; }
    const runs = [state.mlp, state.cnn].filter(Boolean);
    if (!runs.length) { results.replaceChildren(Lab.el("p", {}, "Train an MLP or a CNN first (Runs view), then choose it above.")); return; }
    busy = true;
    try {
      const t0 = performance.now();
      const data = await Lab.api("/api/predict", {body: {image: ink(), runs, details: true}});
      preview.replaceChildren(Lab.digit(data.input, 140));
      results.dataset.roundTripMs = (performance.now() - t0).toFixed(1);
      results.replaceChildren(...runs.map((name) => Lab.drawResult(name, data.results[name])));
    } catch (err) { results.replaceChildren(Lab.el("p", {class: "error"}, err.message)); }
    busy = false;
    if (again) { again = false; predict(); }
  }
};

Lab.oipCache = {};

Lab.drawResult = function (name, result) {
  const box = Lab.el("section", {class: "result", id: `pred-${result.kind}`, "data-run": name, "data-prediction": result.prediction},
    Lab.el("h2", {}, `${result.kind.toUpperCase()} ${name}: `, Lab.el("b", {}, result.prediction)), Lab.bars(result.probabilities));
  if (result.kind === "mlp" && result.hidden) {
    box.append(Lab.activationBars(result.hidden.map((values) => ({units: values.length, values})).concat(
      [{units: result.probabilities.length, values: result.probabilities}])));
  }
  if (result.kind === "cnn" && result.maps) {
    for (const layer of result.maps) {
      box.append(Lab.el("div", {class: "layer"}, Lab.el("h3", {}, `${layer.name} feature maps`), Lab.stack(layer.maps, {size: 36})));
    }
    const last = result.last_conv;
    const strongest = Lab.el("div", {class: "grid strongest"});
    box.append(Lab.el("h3", {}, `most active ${last.name} maps, each beside its OIP`), strongest);
    const layerMaps = result.maps.find((l) => l.name === last.name).maps;
    const bytes = Lab.decode(layerMaps), size = layerMaps.h * layerMaps.w;
    const key = `${name}/${last.name}`;
    // A gallery that is not computed yet is asked for again after 10 s, not on every stroke.
    const cached = Lab.oipCache[key];
    if (!cached || (cached.status !== "done" && performance.now() - cached.asked > 10000)) {
      Lab.oipCache[key] = {asked: performance.now(), status: "asking",
        promise: Lab.api(`/api/runs/${encodeURIComponent(name)}/oip?layer=${last.name}`).catch(() => ({status: "none"}))};
      Lab.oipCache[key].promise.then((g) => { Lab.oipCache[key].status = g.status; });
    }
    Lab.oipCache[key].promise.then((gallery) => {
      const oipBytes = gallery.status === "done" ? Lab.decode(gallery.images) : null;
      strongest.replaceChildren(...last.strongest.map(({map, mean}) => {
        const mapCanvas = Lab.paint(Lab.el("canvas", {style: "width:56px;height:56px"}), bytes, map * size, layerMaps.h, layerMaps.w, false);
        const position = gallery.status === "done" ? gallery.maps.indexOf(map) : -1;
        const oip = position >= 0 ? Lab.paint(Lab.el("canvas", {style: "width:56px;height:56px"}), oipBytes, position * 784, 28, 28, false)
                                  : Lab.el("span", {class: "hint"}, "OIP: compute it in the run view");
        return Lab.el("figure", {class: "pair"}, mapCanvas, oip, Lab.el("figcaption", {}, `map ${map} · ${mean.toFixed(2)}`));
      }));
    });
  }
  return box;
};
