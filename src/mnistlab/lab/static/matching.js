// Two CNN runs side by side (`mnistlab cnn compare` in the page): each of A's maps beside its matched map in B,
// each of A's OIPs beside B's matched OIP, with their correlation, against an untrained network of the same
// architecture. A sweep's seeds (three or more) get the pairs' mean matched correlation per layer.
"use strict";

// `query`: "runs=A,B" or "sweep=NAME". Returns the section; it fills itself.
Lab.matching = function (query) {
  const box = Lab.el("section", {id: "matching", class: "matching"},
    Lab.el("h2", {}, "Do they learn the same filters? Maps matched one to one (Hungarian), vs an untrained network"));
  const bar = Lab.el("p", {});
  const out = Lab.el("div", {});
  box.append(bar, out);
  let layer = "", image = 0;
  const url = () => `/api/match?${query}${layer ? "&layer=" + layer : ""}&image=${image}`;

  async function poll() {
    let status;
    try { status = await Lab.api(url()); } catch (err) { out.replaceChildren(Lab.el("p", {class: "error"}, err.message)); return; }
    layer = layer || status.layer_asked || "";
    renderBar(status);
    if (status.status === "running") {
      out.replaceChildren(Lab.el("progress", {id: "matching-progress", max: status.total || 1, value: status.done}),
        ` matching… OIP steps ${status.done}/${status.total || "?"}`);
      setTimeout(() => { if (box.isConnected) poll(); }, 800);
    } else if (status.status === "failed") {
      out.replaceChildren(Lab.el("p", {class: "error"}, status.error));
    } else if (status.status === "done") {
      out.replaceChildren(status.kind === "seeds" ? seeds(status) : pair(status));
    } else {
      out.replaceChildren(Lab.el("p", {class: "hint"}, "Not computed yet: press Match (activations over 1000 test images, " +
        "OIPs of the chosen layer; a minute or more on the seed CNN). The result is kept beside the runs."));
    }
  }

  function renderBar(status) {
    const layers = status.conv_layers || [];
    const select = Lab.el("select", {id: "matching-layer", onchange: (e) => { layer = e.target.value; poll(); }},
      layers.map((l) => Lab.el("option", {value: l, selected: l === layer}, l)));
    const button = Lab.el("button", {id: "matching-start", disabled: status.status === "running" || status.status === "done",
      onclick: async () => {
        try { await Lab.api(url(), {method: "POST", body: {}}); } catch (err) { Lab.toast(err.message); }
        poll();
      }}, "Match");
    bar.replaceChildren(query.startsWith("sweep=") && status.kind === "seeds" ? "" : Lab.el("span", {}, "layer ", select, " "), button);
  }

  function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  }

  function pairTiles(stackA, stackB, correlation, baseline, caption) {
    const a = Lab.decode(stackA), b = Lab.decode(stackB);
    const size = stackA.h * stackA.w;
    const order = correlation.map((c, k) => k).sort((i, j) => correlation[j] - correlation[i]);  // best matches first
    return Lab.el("div", {class: "pairs"}, order.map((k) => Lab.el("figure", {class: "pair", title: `A's ${caption} ${k}`},
      Lab.paint(Lab.el("canvas", {}), a, k * size, stackA.h, stackA.w, stackA.signed),
      Lab.paint(Lab.el("canvas", {}), b, k * size, stackB.h, stackB.w, stackB.signed),
      Lab.el("figcaption", {class: correlation[k] > baseline ? "above" : "below"}, `${k}: r=${correlation[k].toFixed(2)}`))));
  }

  function pair(result) {
    const maps = result.maps, oips = result.oips;
    const baseMaps = median(maps.untrained), baseOips = median(oips.untrained);
    const picker = Lab.el("input", {type: "number", min: 0, max: 9999, value: result.image_index, class: "image-index"});
    const layerRows = result.activation.map((m) => Lab.el("tr", {}, Lab.el("th", {}, m.layer),
      Lab.el("td", {class: "num"}, Lab.fmt(m.matched.median, 3)), Lab.el("td", {class: "num"}, Lab.fmt(m.baseline_untrained.median, 3)),
      Lab.el("td", {class: "num"}, Lab.fmt(m.shuffled.median, 3)), Lab.el("td", {class: "num"}, Lab.fmt(m.fraction_above_untrained_p90, 2)),
      Lab.el("td", {class: "num"}, Lab.fmt(m.same_position, 2))));
    return Lab.el("div", {id: "matching-pair"},
      Lab.el("p", {}, `A = ${result.runs[0]}, B = ${result.runs[1]}; activations over ${result.n_images} test images.`),
      Lab.el("table", {class: "diff"}, Lab.el("tr", {}, ["layer", "A vs B (median r)", "A vs untrained", "shuffled pairs",
        "share above untrained p90", "same index"].map((h) => Lab.el("th", {}, h))), layerRows),
      Lab.el("h3", {}, `${result.layer}: each of A's maps (left) beside its match in B (right) for test image #${result.image_index}; ` +
        `untrained median r=${Lab.fmt(baseMaps, 2)}`),
      Lab.el("p", {class: "picker"}, "test image #", picker, Lab.el("button", {onclick: () => { image = Number(picker.value) || 0; poll(); }}, "Show")),
      Lab.el("div", {class: "row"}, Lab.digit(result.image, 84)),
      pairTiles(result.maps_of_image.a, result.maps_of_image.b, maps.correlation, baseMaps, "map"),
      Lab.el("h3", {}, `${result.layer}: A's OIPs beside B's matched OIPs (spectrum correlation); untrained median r=${Lab.fmt(baseOips, 2)}` +
        (result.oip_self ? `, A against itself from other noise: ${Lab.fmt(result.oip_self.matched.median, 2)}` : "")),
      pairTiles(oips.a, oips.b, oips.correlation, baseOips, "OIP"));
  }

  function seeds(result) {
    return Lab.el("div", {id: "matching-seeds"},
      Lab.el("p", {}, `${result.n_models} runs (${result.runs.join(", ")}), ${result.pairs.length} pairs; activations over ${result.n_images} test images.`),
      Lab.el("table", {class: "diff"}, Lab.el("tr", {}, ["layer", "pairs' median r: mean ± sd", "vs untrained: mean ± sd", "each pair"]
        .map((h) => Lab.el("th", {}, h))),
      result.layers.map((l) => Lab.el("tr", {}, Lab.el("th", {}, l.layer), Lab.el("td", {}, `${Lab.fmt(l.mean, 3)} ± ${Lab.fmt(l.sd, 3)}`),
        Lab.el("td", {}, `${Lab.fmt(l.untrained_mean, 3)} ± ${Lab.fmt(l.untrained_sd, 3)}`),
        Lab.el("td", {}, l.pair_medians.map((p) => p.toFixed(2)).join(" "))))));
  }

  poll();
  return box;
};
