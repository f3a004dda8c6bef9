// The insides over training time: an epoch slider over the weights a run kept (epoch 0: the initial ones).
// Each view the run's kind keeps per epoch (GET /api/runs/RUN/epochs: "views") follows the slider: an MLP's
// first-layer weights; a CNN's kernels, a test image's feature maps and a conv layer's OIPs (computed on request).
"use strict";

Lab.epochInsides = function (base, params, keepInUrl) {
  const box = Lab.el("section", {id: "epoch-insides"}, Lab.el("h2", {}, "Over training time: the model at each epoch"));
  const body = Lab.el("div", {}, "loading…");
  box.append(body);
  Lab.api(`${base}/epochs`).then((info) => build(info)).catch((err) => body.replaceChildren(Lab.el("p", {class: "error"}, err.message)));

  function build({epochs, views}) {
    if (!epochs.length) {
      body.replaceChildren(Lab.el("p", {class: "hint"}, "This run kept no weights per epoch (it was recorded before mnistlab " +
        "kept them); `mnistlab rerun` it to watch its filters form."));
      return;
    }
    const wanted = Number(params.get("epoch"));
    let index = epochs.includes(wanted) ? epochs.indexOf(wanted) : 0;
    const slider = Lab.el("input", {type: "range", id: "epoch-slider", min: 0, max: epochs.length - 1, step: 1, value: index});
    const label = Lab.el("b", {id: "epoch-label"});
    const play = Lab.el("button", {id: "epoch-play", title: "step through the epochs"}, "▶ play");
    const panels = views.map((v) => ({weights: weightsPanel, kernels: kernelsPanel, maps: mapsPanel, oip: oipPanel}[v]?.()))
      .filter(Boolean);
    body.replaceChildren(Lab.el("p", {class: "epoch-bar"}, "epoch ", slider, " ", label, " ", play,
      Lab.el("span", {class: "hint"}, " (0: the initial weights)")), ...panels.map((p) => p.node));
    let timer = null;
    play.addEventListener("click", () => {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "▶ play"; return; }
      play.textContent = "❚❚ pause";
      if (index === epochs.length - 1) index = -1;
      timer = setInterval(() => {
        if (index >= epochs.length - 1 || !box.isConnected) { clearInterval(timer); timer = null; play.textContent = "▶ play"; return; }
        slider.value = index + 1;
        show(index + 1);
      }, 900);
    });
    slider.addEventListener("input", () => show(Number(slider.value)));
    function show(k) {
      index = k;
      const epoch = epochs[k];
      label.textContent = `${epoch} / ${epochs[epochs.length - 1]}`;
      params.set("epoch", String(epoch));
      keepInUrl();
      panels.forEach((p) => p.show(epoch));
    }
    show(index);
  }

  // Latest wins: a response for an epoch the slider has left is dropped.
  function latest(render) {
    let asked = null;
    return async (epoch, url, target) => {
      asked = url;
      try {
        const data = await Lab.api(url);
        if (asked === url) render(data, epoch);
      } catch (err) {
        if (asked === url) target.replaceChildren(Lab.el("p", {class: "error"}, err.message));
      }
    };
  }

  function weightsPanel() {
    const out = Lab.el("div", {id: "epoch-weights"});
    const load = latest((data, epoch) => {
      out.replaceChildren(data.weights ? Lab.stack(data.weights, {size: 42}) : "not pictures: the inputs went through PCA or k-means");
      out.dataset.epoch = epoch;
    });
    return {node: Lab.el("div", {}, Lab.el("h3", {}, "First-layer weights (one 28x28 picture per hidden unit; red +, blue −)"), out),
            show: (epoch) => load(epoch, `${base}/epochs/${epoch}/weights`, out)};
  }

  function kernelsPanel() {
    const out = Lab.el("div", {id: "epoch-kernels"});
    const load = latest((data, epoch) => {
      out.replaceChildren(Lab.stack(data.kernels, {size: 42}));
      out.dataset.epoch = epoch;
    });
    return {node: Lab.el("div", {}, Lab.el("h3", {}, "First conv layer kernels (red +, blue −; each epoch on its own scale)"), out),
            show: (epoch) => load(epoch, `${base}/epochs/${epoch}/kernels`, out)};
  }

  function mapsPanel() {
    const out = Lab.el("div", {id: "epoch-maps"});
    const input = Lab.el("input", {type: "number", min: 0, max: 9999, value: Number(params.get("image")) || 0, class: "image-index"});
    let current = 0;
    const load = latest((data, epoch) => {
      out.replaceChildren(Lab.el("div", {class: "row"}, Lab.digit(data.image), Lab.bars(data.probabilities)),
        ...data.layers.map((layer) => Lab.el("div", {class: "layer"},
          Lab.el("h3", {}, `${layer.name} (${layer.maps.n} maps ${layer.maps.h}x${layer.maps.w})`), Lab.stack(layer.maps, {size: 40}))));
      out.dataset.epoch = epoch;
      Lab.epochLayers = data.layers.filter((l) => l.name.startsWith("conv")).map((l) => l.name);
      box.dispatchEvent(new CustomEvent("layers"));
    });
    const show = (epoch) => { current = epoch; load(epoch, `${base}/epochs/${epoch}/maps?image=${Number(input.value) || 0}`, out); };
    const button = Lab.el("button", {onclick: () => { params.set("image", input.value); keepInUrl(); show(current); }}, "Show");
    return {node: Lab.el("div", {}, Lab.el("h3", {}, "Feature maps of a test image at this epoch"),
                         Lab.el("span", {class: "picker"}, "test image #", input, button), out), show};
  }

  function oipPanel() {
    const out = Lab.el("div", {id: "epoch-oips"});
    let epochShown = null;
    const render = () => {
      if (epochShown === null || !Lab.epochLayers) return;
      out.replaceChildren();
      delete out.dataset.ready;
      Lab.oipGallery(out, `${base}/epochs/${epochShown}`, Lab.epochLayers);
    };
    box.addEventListener("layers", () => { if (!out.dataset.ready) render(); });
    return {node: Lab.el("div", {}, Lab.el("h3", {}, "OIPs at this epoch: computed on request, then kept in the run directory"), out),
            show: (epoch) => { epochShown = epoch; render(); }};
  }

  return box;
};
