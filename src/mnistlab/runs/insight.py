"""The insight analyses of a trained CNN, taking a run directory or a model file.

What `mnistlab cnn maps|patterns|oip|compare` do, as library functions: load the model, take the
run's dataset, compute with `mnistlab.insight`, draw the figures, save them and return a JSON-ready
summary. Figures go to the model's run directory (so its report shows them), plus `out_dir` when
given; a model outside any run writes to `runs/insight` (git-ignored). They never print.

>>> summary = feature_maps_of("runs/20250101-120000-cnn-mnist", images=(0, 7))  # doctest: +SKIP
>>> summary["figures"][0]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mnistlab.data import Dataset, load
from mnistlab.errors import ConfigError, OutputError
from mnistlab.fileio import describe_os_error
from mnistlab.insight import figures
from mnistlab.insight.compare import compare_many, compare_models
from mnistlab.insight.extract import LayerRef, get_layer, last_conv_layer, layer_kind, load_cnn
from mnistlab.insight.feature_maps import feature_maps, first_layer_kernels, map_statistics
from mnistlab.insight.oip import OIPConfig, compute_oips, reference_activations
from mnistlab.insight.patterns import activation_patterns
from mnistlab.runs.evaluation import run_dataset
from mnistlab.runs.plots import save_figure
from mnistlab.runs.rundir import run_dir_of
from mnistlab.runs.sweeps import expand_sweeps

DEFAULT_FOLDER = Path("runs") / "insight"
"""Where figures of a model outside any run directory go (runs/ is ignored by git)."""
REFERENCE_IMAGES = 1000
"""Test images over which an OIP's target activation (99th percentile) and dead maps are measured."""

StepCallback = Callable[[int, int], None]


@dataclass
class StudiedModel:
    """A loaded CNN with what an analysis needs: its run directory, dataset and figure folders."""

    path: Path
    model: Any
    run_dir: Path | None
    dataset: str
    folders: list[Path]
    figures: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, model: str | os.PathLike, *, dataset: str | None = None,
             out_dir: str | os.PathLike | None = None) -> StudiedModel:
        """Load `model` (a model.keras or its run directory); dataset defaults to the run's, else mnist."""
        path = Path(model)
        folders = [Path(out_dir)] if out_dir is not None else []
        for folder in folders:  # an unwritable --out fails now, not after loading and analysing
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot write figures to {folder} ({describe_os_error(exc)}); "
                                  "pass --out a writable folder") from None
        run_dir = run_dir_of(path)
        keras_model = load_cnn(path)
        if path.is_dir():
            path = path / "model.keras"
        if run_dir is not None and run_dir not in folders:
            folders.append(run_dir)
        return cls(path=path, model=keras_model, run_dir=run_dir, dataset=dataset or run_dataset(path) or "mnist",
                   folders=folders or [DEFAULT_FOLDER])

    def data(self, split: str) -> Dataset:
        """The `split` of this model's dataset."""
        return load(self.dataset, split)

    def save(self, figure: Figure, name: str) -> None:
        """Write `name`.png into every figure folder and remember the paths."""
        for folder in self.folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                self.figures.append(str(save_figure(figure, folder / f"{name}.png")))
            except OSError as exc:
                raise OutputError(f"cannot write {name}.png to {folder} ({describe_os_error(exc)}); "
                                  "pass --out a writable folder with free space") from None


def feature_maps_of(model: str | os.PathLike, *, images: Sequence[int] = (0,), layers: Sequence[LayerRef] | None = None,
                    dataset: str | None = None, out_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Feature maps of every conv/pool layer (or `layers`) for test images `images`, and the first kernels."""
    study = StudiedModel.open(model, dataset=dataset, out_dir=out_dir)
    test = study.data("test")
    indices = list(images) or [0]
    for index in indices:
        if not 0 <= index < len(test.images):
            raise ConfigError(f"image index {index} is out of range: the {study.dataset} test set has images "
                              f"0..{len(test.images) - 1}")
    began = time.perf_counter()
    result = feature_maps(study.model, test.images[indices], list(layers) if layers else None)
    seconds = time.perf_counter() - began
    for k, index in enumerate(indices):
        label = f"test image {index} ({test.class_names[test.labels[index]]})"
        study.save(figures.plot_input_image(test.images[index], label), f"feature_maps_img{index}_input")
        for name, values in result.items():
            study.save(figures.plot_feature_maps(values[k], name, label), f"feature_maps_img{index}_{name}")
    study.save(figures.plot_kernels(first_layer_kernels(study.model)), "feature_maps_kernels")
    return {"model": str(model), "dataset": study.dataset, "images": indices, "seconds": round(seconds, 3),
            "layers": map_statistics(result), "figures": study.figures, "folders": [str(f) for f in study.folders]}


def patterns_of(model: str | os.PathLike, *, layer: LayerRef | None = None, pooling: str = "mean",
                train_size: int | None = None, dataset: str | None = None,
                out_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Class x map mean activations of a conv layer, and accuracies of the dense head, a linear probe
    (fitted on the first `train_size` training images) and the nearest class pattern."""
    if train_size is not None and train_size < 10:
        raise ConfigError(f"train_size must be at least 10, got {train_size}")
    study = StudiedModel.open(model, dataset=dataset, out_dir=out_dir)
    train, test = study.data("train"), study.data("test")
    began = time.perf_counter()
    report = activation_patterns(study.model, train.images[:train_size], train.labels[:train_size],
                                 test.images, test.labels, layer=layer, pooling=pooling,
                                 class_names=test.class_names)
    seconds = time.perf_counter() - began
    accuracies = {"dense head": report.head_accuracy, f"logistic probe ({pooling})": report.probe_accuracy,
                  "nearest class pattern": report.centroid_accuracy}
    study.save(figures.plot_class_patterns(report.class_patterns, report.class_names, report.layer, accuracies),
               f"patterns_{report.layer}")
    return {"model": str(model), "dataset": study.dataset, "seconds": round(seconds, 3), **report.summary(),
            "accuracies": accuracies, "figures": study.figures}


def oips_of(model: str | os.PathLike, *, layer: LayerRef, maps: Sequence[int] | None = None,
            config: OIPConfig | None = None, dataset: str | None = None, out_dir: str | os.PathLike | None = None,
            on_step: StepCallback | None = None) -> dict[str, Any]:
    """OIPs of `layer`'s maps (default all): input patterns that maximise each map, by gradient ascent.

    For conv and pooling layers an OIP counts as converged when it reaches the map's 99th-percentile
    activation on the first 1000 test images; maps no test image activates are listed as dead.
    """
    study = StudiedModel.open(model, dataset=dataset, out_dir=out_dir)
    target = get_layer(study.model, layer)
    references, dead = None, set()
    if layer_kind(target) in ("conv", "pool"):
        sample = study.data("test").images[:REFERENCE_IMAGES]
        references = reference_activations(study.model, target.name, sample)
        dead = set(np.flatnonzero(reference_activations(study.model, target.name, sample, percentile=100) <= 0))
    result = compute_oips(study.model, target.name, list(maps) if maps else None, config, references,
                          on_step=on_step)
    suffix = "" if not maps else "_map" + "-".join(str(m) for m in maps)
    names = study.data("test").class_names if target is study.model.layers[-1] else None
    study.save(figures.plot_oips(result, names), f"oip_{result.layer}{suffix}")
    return {"model": str(model), "dataset": study.dataset, **result.summary(),
            "reference_images": REFERENCE_IMAGES if references is not None else 0,
            "dead_maps": sorted(int(m) for m in dead if m in set(result.maps.tolist())), "figures": study.figures}


def compare_of(model_a: str | os.PathLike, model_b: str | os.PathLike, *, layers: Sequence[LayerRef] | None = None,
               oip_layer: LayerRef | None = None, oip: bool = True, n_images: int = 1000,
               config: OIPConfig | None = None, dataset: str | None = None,
               out_dir: str | os.PathLike | None = None, on_step: StepCallback | None = None) -> dict[str, Any]:
    """Do two trainings learn the same maps? Hungarian matching by activations and OIPs, vs an untrained net.

    Figures of a pair belong to neither run: they go to `out_dir`, default `insight/` beside A's run.
    """
    if n_images < 10:
        raise ConfigError(f"n_images must be at least 10, got {n_images}")
    config = config or OIPConfig()
    run_a = run_dir_of(model_a)
    folder = out_dir if out_dir is not None else (run_a.parent / "insight" if run_a else DEFAULT_FOLDER)
    study = StudiedModel.open(model_a, dataset=dataset)
    study.folders = [Path(folder)]
    other = load_cnn(model_b)
    images = study.data("test").images[:n_images]
    began = time.perf_counter()
    chosen_oip = (oip_layer or last_conv_layer(study.model).name) if oip else None
    result = compare_models(study.model, other, images, layers=list(layers) if layers else None,
                            oip_layer=chosen_oip, oip_config=config, random_state=config.random_state,
                            on_step=on_step)
    seconds = time.perf_counter() - began
    study.save(figures.plot_similarity_distributions(result.activation, "Matched activation correlation: "
                                                     "run A vs run B, vs untrained, vs random pairs"),
               "compare_activation")
    if result.oip is not None:
        match = result.oip
        study.save(figures.plot_similarity_distributions([match, result.oip_self],
                                                         "Matched OIP spectrum correlation (oip-self: A vs A)"),
                   "compare_oip")
        study.save(figures.plot_matched_pairs(result.oip_images["a"], result.oip_images["b"], match.partner,
                                              match.matched, match.layer), f"compare_oip_pairs_{match.layer}")
    return {"model_a": str(model_a), "model_b": str(model_b), "dataset": study.dataset,
            "seconds": round(seconds, 2), **result.summary(), "figures": study.figures,
            "folders": [str(f) for f in study.folders]}


def compare_many_of(models: Sequence[str | os.PathLike], *, layers: Sequence[LayerRef] | None = None,
                    n_images: int = 1000, dataset: str | None = None, random_state: int = 0) -> dict[str, Any]:
    """N trainings (e.g. the seeds of a sweep), same maps? Pairwise activation matching, mean ± sd per layer."""
    if n_images < 10:
        raise ConfigError(f"n_images must be at least 10, got {n_images}")
    study = StudiedModel.open(models[0], dataset=dataset)
    others = [load_cnn(path) for path in models[1:]]
    began = time.perf_counter()
    result = compare_many([study.model, *others], study.data("test").images[:n_images], layers=layers,
                          random_state=random_state)
    return {"models": [str(m) for m in models], "dataset": study.dataset,
            "seconds": round(time.perf_counter() - began, 2), **result}


def compare_models_of(models: Sequence[str | os.PathLike], *, layers: Sequence[LayerRef] | None = None,
                      oip_layer: LayerRef | None = None, oip: bool = True, n_images: int = 1000,
                      config: OIPConfig | None = None, dataset: str | None = None,
                      out_dir: str | os.PathLike | None = None, on_step: StepCallback | None = None) -> dict[str, Any]:
    """`cnn compare`: `compare_of` for two models, `compare_many_of` for three or more.

    One sweep directory stands for its completed trials (e.g. one per seed). The many-model
    summary has "n_models" and "pairs"; OIP options and `out_dir` apply to a pair only.
    """
    paths = expand_sweeps(tuple(models))
    if len(paths) > 2:
        return compare_many_of(paths, layers=layers or None, n_images=n_images, dataset=dataset)
    return compare_of(*paths, layers=layers, oip_layer=oip_layer, oip=oip, n_images=n_images, config=config,
                      dataset=dataset, out_dir=out_dir, on_step=on_step)
