"""Two CNN runs side by side: the filter matching of `mnistlab cnn compare`, computed on request for the page.

Do two trainings learn the same filters? For a pair of runs, `insight.compare.compare_models` matches
the maps of every conv layer by their activations over the first 1000 test images, and the chosen
layer's maps also by their OIPs, each against an untrained network of the same architecture (the
baseline), as the CLI does. The page then shows each of A's maps beside its partner in B with their
correlation, and each of A's OIPs beside its partner's. Three or more runs (a sweep's seeds) get
`compare_many`: per layer, the pairs' median matched correlation, mean ± sd, against untrained.

The OIP ascents take seconds to minutes, so a request starts a background job with progress (like
oips.py). The result is kept as JSON beside the runs (`lab_match_<layer>_<B>.json` in A's run
directory; `lab_match_seeds.json` in a sweep's directory) and survives restarts of the lab; the
matched maps of a test image are drawn from it on each request (one forward pass per run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.data import load
from mnistlab.errors import ConfigError, ModelFileError
from mnistlab.fileio import read_json_object, write_json_atomic
from mnistlab.insight.compare import compare_many, compare_models
from mnistlab.insight.extract import layers_of_kind
from mnistlab.insight.oip import OIPConfig
from mnistlab.lab.encode import encode_maps, encode_stack
from mnistlab.lab.models import CNNModel

N_IMAGES = 1000
"""Test images over which activations are correlated (the CLI's default)."""


@dataclass
class Matching:
    """What to compare: run directories (two: a pair; more: a sweep's seeds), their names, the layer, the file."""

    paths: list[Path]
    names: list[str]
    layer: str | None
    result: Path

    @property
    def is_pair(self) -> bool:
        return len(self.paths) == 2


def matching_of(paths: list[Path], names: list[str], layer: str | None, sweep_dir: Path | None = None) -> Matching:
    """The comparison of `paths` kept in A's run directory (a pair) or in `sweep_dir` (a sweep's seeds)."""
    if len(paths) < 2:
        raise ConfigError("matching needs two runs (runs=A,B) or a sweep with two or more completed trials (sweep=NAME)")
    if layer is not None and not layer.replace("_", "").isalnum():
        raise ConfigError(f"layer={layer!r} is not a layer name; use one of the runs' conv layers, e.g. conv2")
    if len(paths) == 2:
        tag = "seeds" if sweep_dir is not None else names[1]
        return Matching(paths, names, layer, (sweep_dir or paths[0]) / f"lab_match_{layer or 'last'}_{tag}.json")
    return Matching(paths, names, None, (sweep_dir or paths[0]) / "lab_match_seeds.json")


def conv_layer(model: Any, layer: str | None) -> str:
    """`layer` checked to be a conv layer of `model` (default its last one); ConfigError naming the choices."""
    convs = [lay.name for lay in layers_of_kind(model, ("conv",))]
    if layer is None:
        if not convs:
            raise ModelFileError("this model has no conv layer to match")
        return convs[-1]
    if layer not in convs:
        raise ConfigError(f"layer={layer!r} is not a conv layer of these runs; choose one of {', '.join(convs)}")
    return layer


def compute_matching(matching: Matching, models: list[CNNModel], progress: Callable[[int, int], None],
                     config: OIPConfig | None = None, n_images: int = N_IMAGES) -> dict[str, Any]:
    """Match the runs' maps (and the layer's OIPs, for a pair) and write the result; return it."""
    images = load(models[0].dataset, "test").images[:n_images]
    keras_models = [m.model for m in models]
    if not matching.is_pair:
        result = {"kind": "seeds", "runs": matching.names, **compare_many(keras_models, images)}
        write_json_atomic(matching.result, result)
        return result
    layer = conv_layer(keras_models[0], matching.layer)
    comparison = compare_models(*keras_models, images, oip_layer=layer, oip_config=config or OIPConfig(),
                                on_step=progress)
    chosen = next(m for m in comparison.activation if m.layer == layer)
    oip = comparison.oip
    result = {"kind": "pair", "runs": matching.names, "layer": layer, **comparison.summary(),
              "maps": {"partner": chosen.partner.tolist(), "correlation": np.round(chosen.matched, 4).tolist(),
                       "untrained": np.round(chosen.baseline_untrained, 4).tolist()},
              "oips": {"partner": oip.partner.tolist(), "correlation": np.round(oip.matched, 4).tolist(),
                       "untrained": np.round(oip.baseline_untrained, 4).tolist(),
                       "a": encode_stack(comparison.oip_images["a"], scale=1.0),
                       "b": encode_stack(comparison.oip_images["b"][oip.partner], scale=1.0),
                       "untrained_oips": encode_stack(comparison.oip_images["untrained"], scale=1.0)}}
    write_json_atomic(matching.result, result)
    return result


def matched_maps(result: dict[str, Any], model_a: CNNModel, model_b: CNNModel, image: np.ndarray) -> dict[str, Any]:
    """A's maps of the matched layer for one image (1, 28, 28), and B's partner of each, in A's order."""
    layer, partner = result["layer"], np.asarray(result["maps"]["partner"])
    maps = []
    for model in (model_a, model_b):
        with model.lock:
            maps.append(model.forward(image)[1][layer][0])  # (h, w, c)
    return {"a": encode_maps(maps[0][..., :len(partner)]), "b": encode_maps(maps[1][..., partner])}


@dataclass
class MatchJobs:
    """Running matchings, one per result file; finished ones are read back from their file."""

    oip_steps: int = OIPConfig.steps
    _jobs: dict[Path, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, path: Path) -> dict[str, Any]:
        """{"status": "none" | "running" | "failed" | "done", ...}; "done" carries the result."""
        with self._lock:
            job = self._jobs.get(path)
            if job is not None and job["status"] in ("running", "failed"):
                return dict(job)
        if not path.is_file():
            return {"status": "none"}
        return {"status": "done", **read_json_object(path, "matching result")}

    def start(self, matching: Matching, load_models: Callable[[], list[CNNModel]]) -> dict[str, Any]:
        """Start the matching in a thread unless its result exists or it runs; return its status."""
        with self._lock:
            job = self._jobs.get(matching.result)
            busy = matching.result.is_file() or (job is not None and job["status"] == "running")
            if not busy:
                job = self._jobs[matching.result] = {"status": "running", "done": 0, "total": 0}
        if busy:
            return self.status(matching.result)

        def progress(done: int, total: int) -> None:
            job.update(done=done, total=total)

        def work() -> None:
            try:
                compute_matching(matching, load_models(), progress, OIPConfig(steps=self.oip_steps))
                job["status"] = "done"
            except Exception as exc:  # shown on the page instead of being lost in a thread
                job.update(status="failed", error=f"{type(exc).__name__}: {exc}")

        threading.Thread(target=work, name="matching", daemon=True).start()
        return dict(job)
