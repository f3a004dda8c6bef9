"""`mnistlab cnn maps|patterns|oip|compare`: looking inside a trained CNN.

Each command loads a `.keras` model (or the run directory holding one), computes with
`mnistlab.insight`, writes PNG figures to `--out` (and into the model's run directory, when
there is one, so the run report shows them), and prints a summary (`--json`: one JSON object).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from mnistlab.errors import ConfigError, OutputError
from mnistlab.fileio import describe_os_error, read_json_object

DATASET_CHOICES = ("mnist", "fashion-mnist")


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every insight command shares: dataset, output, JSON, quiet, threads."""
    options = [
        click.option("--dataset", type=click.Choice(DATASET_CHOICES), default=None,
                     help="Dataset whose test images are used [default: the run's dataset, else mnist]."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("insight"),
                     show_default=True, help="Directory for the PNG figures."),
        click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON summary on stdout."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
        click.option("--threads", type=int, default=None, help="Bound the CPU threads (default: all cores)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class _Session:
    """What one command run shares: the model, its run dir, the dataset name, where figures go."""

    def __init__(self, model_path: Path, dataset: str | None, out_dir: Path, threads: int | None) -> None:
        from mnistlab.cnn.backend import import_keras
        from mnistlab.insight.extract import load_cnn, run_dir_of

        import_keras(threads=threads)
        self.model_path = model_path
        self.model = load_cnn(model_path)
        self.run_dir = run_dir_of(model_path)
        self.dataset = dataset or self._run_dataset() or "mnist"
        self.out_dir = out_dir
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write figures to --out {out_dir} ({describe_os_error(exc)}); "
                              "pass --out a writable folder") from None
        self.figures: list[str] = []

    def _run_dataset(self) -> str | None:
        if self.run_dir is None or not (self.run_dir / "config.json").exists():
            return None
        dataset = read_json_object(self.run_dir / "config.json", "run config").get("dataset")
        return dataset if dataset in DATASET_CHOICES else None

    def data(self, split: str) -> Any:
        from mnistlab.data import load

        return load(self.dataset, split)

    def save(self, figure: Any, name: str) -> None:
        """Write `name`.png into --out and, if the model sits in a run directory, there too."""
        from mnistlab.insight.figures import save_figure

        targets = [self.out_dir] + ([self.run_dir] if self.run_dir is not None else [])
        for folder in targets:
            try:
                self.figures.append(str(save_figure(figure, Path(folder) / f"{name}.png")))
            except OSError as exc:
                raise OutputError(f"cannot write {name}.png to {folder} ({describe_os_error(exc)}); "
                                  "pass --out a writable folder with free space") from None


def _report(summary: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(summary, default=_plain))
    else:
        for line in lines:
            click.echo(line)


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


@click.command("maps")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--image", "image_indices", type=int, multiple=True, help="Test-image index (repeatable) [default: 0].")
@click.option("--layer", "layers", multiple=True, help="Layer name or index (repeatable) [default: every conv/pool layer].")
@_common_options
def maps_command(model: Path, image_indices: tuple[int, ...], layers: tuple[str, ...], dataset: str | None,
                 out_dir: Path, as_json: bool, quiet: bool, threads: int | None) -> None:
    """Feature maps of every conv and pooling layer for chosen test images, and the first layer's kernels."""
    from mnistlab.insight import figures
    from mnistlab.insight.feature_maps import feature_maps, first_layer_kernels, map_statistics

    session = _Session(model, dataset, out_dir, threads)
    test = session.data("test")
    indices = list(image_indices) or [0]
    for index in indices:
        if not 0 <= index < len(test.images):
            raise ConfigError(f"--image {index} is out of range: the {session.dataset} test set has images 0..{len(test.images) - 1}")
    began = time.perf_counter()
    result = feature_maps(session.model, test.images[indices], list(layers) or None)
    seconds = time.perf_counter() - began
    for k, index in enumerate(indices):
        label = f"test image {index} ({test.class_names[test.labels[index]]})"
        session.save(figures.plot_input_image(test.images[index], label), f"feature_maps_img{index}_input")
        for name, values in result.items():
            session.save(figures.plot_feature_maps(values[k], name, label), f"feature_maps_img{index}_{name}")
    session.save(figures.plot_kernels(first_layer_kernels(session.model)), "feature_maps_kernels")
    summary = {"model": str(model), "dataset": session.dataset, "images": indices, "seconds": round(seconds, 3),
               "layers": map_statistics(result), "figures": session.figures}
    lines = [f"feature maps of {len(result)} layers for test images {indices} in {seconds:.2f} s"]
    lines += [f"  {name}: {v.shape[1]}x{v.shape[2]} x {v.shape[3]} maps" for name, v in result.items()]
    lines.append(f"figures in {out_dir}" + (f" and {session.run_dir}" if session.run_dir else ""))
    _report(summary, as_json, lines)


@click.command("patterns")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer", default=None, help="Conv layer to read [default: the last conv layer].")
@click.option("--pooling", type=click.Choice(["mean", "max", "flatten"]), default="mean", show_default=True,
              help="How each map becomes the probe's features.")
@click.option("--train-size", type=int, default=None, help="Fit the probe on the first N training images [default: all].")
@_common_options
def patterns_command(model: Path, layer: str | None, pooling: str, train_size: int | None, dataset: str | None,
                     out_dir: Path, as_json: bool, quiet: bool, threads: int | None) -> None:
    """Class x map heat map of mean activations, and accuracies of the dense head vs a linear probe."""
    from mnistlab.insight.figures import plot_class_patterns
    from mnistlab.insight.patterns import activation_patterns

    session = _Session(model, dataset, out_dir, threads)
    if train_size is not None and train_size < 10:
        raise ConfigError(f"--train-size must be at least 10, got {train_size}")
    train, test = session.data("train"), session.data("test")
    began = time.perf_counter()
    report = activation_patterns(session.model, train.images[:train_size], train.labels[:train_size],
                                 test.images, test.labels, layer=layer, pooling=pooling,
                                 class_names=test.class_names)
    seconds = time.perf_counter() - began
    accuracies = {"dense head": report.head_accuracy, f"logistic probe ({pooling})": report.probe_accuracy,
                  "nearest class pattern": report.centroid_accuracy}
    session.save(plot_class_patterns(report.class_patterns, report.class_names, report.layer, accuracies),
                 f"patterns_{report.layer}")
    summary = {"model": str(model), "dataset": session.dataset, "seconds": round(seconds, 3),
               **report.summary(), "figures": session.figures}
    lines = [f"activation patterns of {report.layer} ({report.class_patterns.shape[1]} maps), "
             f"{report.n_test} test images, probe fitted on {report.n_train}:"]
    lines += [f"  {name:28s} {value:.4f}" for name, value in accuracies.items()]
    _report(summary, as_json, lines)


def _oip_config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options that fill an `OIPConfig`."""
    options = [
        click.option("--steps", type=int, default=60, show_default=True, help="Gradient steps per start."),
        click.option("--step-size", type=float, default=0.05, show_default=True, help="RMS pixel change per step."),
        click.option("--start", "starts", multiple=True, metavar="W:A",
                     help="Starting noise WAVELENGTH:AMPLITUDE, tried in order (repeatable) [default: 1:0.1 7:0.3 14:0.5]."),
        click.option("--strategy", type=click.Choice(["fill", "best"]), default="fill", show_default=True,
                     help="fill: later starts only for maps not converged yet; best: all starts, keep the best."),
        click.option("--l2-decay", type=float, default=0.0, show_default=True, help="Shrink the image by this fraction per step."),
        click.option("--blur", "blur_sigma", type=float, default=0.0, show_default=True, help="Gaussian blur sigma (pixels)."),
        click.option("--blur-every", type=int, default=4, show_default=True, help="Blur every N steps."),
        click.option("--jitter", type=int, default=0, show_default=True, help="Random shift (pixels) before each step."),
        click.option("--seed", "random_state", type=int, default=0, show_default=True, help="Seed of noise and jitter."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _oip_config(steps: int, step_size: float, starts: tuple[str, ...], strategy: str, l2_decay: float,
                blur_sigma: float, blur_every: int, jitter: int, random_state: int) -> Any:
    from mnistlab.insight.oip import OIPConfig, parse_start

    extra = {"starts": tuple(parse_start(s) for s in starts)} if starts else {}
    return OIPConfig(steps=steps, step_size=step_size, strategy=strategy, l2_decay=l2_decay, blur_sigma=blur_sigma,
                     blur_every=blur_every, jitter=jitter, random_state=random_state, **extra)


@click.command("oip")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer", required=True, help="Layer name or index (conv, pooling or dense; 'output' = class logits).")
@click.option("--map", "map_indices", type=int, multiple=True, help="Map/unit index (repeatable) [default: all].")
@_oip_config_options
@_common_options
def oip_command(model: Path, layer: str, map_indices: tuple[int, ...], dataset: str | None, out_dir: Path,
                as_json: bool, quiet: bool, threads: int | None, **oip_options: Any) -> None:
    """OIPs: input patterns that maximise a map's mean activation, by gradient ascent from noise."""
    from mnistlab.insight.extract import get_layer, layer_kind
    from mnistlab.insight.figures import plot_oips
    from mnistlab.insight.oip import compute_oips, reference_activations

    config = _oip_config(**oip_options)
    session = _Session(model, dataset, out_dir, threads)
    target = get_layer(session.model, layer)
    references, dead = None, set()
    if layer_kind(target) in ("conv", "pool"):
        sample = session.data("test").images[:1000]
        references = reference_activations(session.model, target.name, sample)
        dead = set(np.flatnonzero(reference_activations(session.model, target.name, sample, percentile=100) <= 0))
    result = compute_oips(session.model, target.name, list(map_indices) or None, config, references,
                          progress=not quiet)
    suffix = "" if not map_indices else "_map" + "-".join(str(m) for m in map_indices)
    names = session.data("test").class_names if target is session.model.layers[-1] else None
    session.save(plot_oips(result, names), f"oip_{result.layer}{suffix}")
    summary = {"model": str(model), "dataset": session.dataset, **result.summary(),
               "dead_maps": sorted(int(m) for m in dead if m in set(result.maps.tolist())), "figures": session.figures}
    lines = [f"OIPs of {result.layer}: {int(result.converged.sum())}/{len(result.maps)} converged in {result.seconds:.1f} s "
             f"({result.cpu_seconds:.1f} CPU s)"
             + (" (converged: reaches the map's 99th-percentile activation on 1000 test images and moves)"
                if references is not None else "")]
    lines += [f"  map {m}: activation {a:.3g} (start {s:.3g}, needed {t:.3g}) {'ok' if ok else 'NOT converged'}"
              + (" - dead: no test image activates it" if m in dead else "")
              for m, a, s, t, ok in zip(result.maps, result.activation, result.start_activation,
                                        result.threshold, result.converged)]
    _report(summary, as_json, lines)


@click.command("compare")
@click.argument("model_a", type=click.Path(path_type=Path))
@click.argument("model_b", type=click.Path(path_type=Path))
@click.option("--layer", "layers", multiple=True, help="Layer to match by activations (repeatable) [default: every conv layer].")
@click.option("--oip-layer", default=None, help="Layer to match by OIPs [default: the last conv layer].")
@click.option("--no-oip", is_flag=True, help="Skip the OIP matching.")
@click.option("--n-images", type=int, default=1000, show_default=True, help="Test images to correlate activations over.")
@_oip_config_options
@_common_options
def compare_command(model_a: Path, model_b: Path, layers: tuple[str, ...], oip_layer: str | None, no_oip: bool,
                    n_images: int, dataset: str | None, out_dir: Path, as_json: bool, quiet: bool,
                    threads: int | None, **oip_options: Any) -> None:
    """Two trainings, same filters? Hungarian matching of maps by activations and OIPs, vs an untrained net."""
    from mnistlab.insight import figures
    from mnistlab.insight.compare import compare_models
    from mnistlab.insight.extract import last_conv_layer, load_cnn

    if n_images < 10:
        raise ConfigError(f"--n-images must be at least 10, got {n_images}")
    config = _oip_config(**oip_options)
    session = _Session(model_a, dataset, out_dir, threads)
    session.run_dir = None  # figures of a pair belong to neither run
    other = load_cnn(model_b)
    images = session.data("test").images[:n_images]
    began = time.perf_counter()
    chosen_oip = None if no_oip else (oip_layer or last_conv_layer(session.model).name)
    result = compare_models(session.model, other, images, layers=list(layers) or None, oip_layer=chosen_oip,
                            oip_config=config, random_state=config.random_state, progress=not quiet)
    seconds = time.perf_counter() - began
    session.save(figures.plot_similarity_distributions(result.activation, "Matched activation correlation: "
                                                       "run A vs run B, vs untrained, vs random pairs"),
                 "compare_activation")
    if result.oip is not None:
        match = result.oip
        session.save(figures.plot_similarity_distributions([match, result.oip_self],
                                                           "Matched OIP spectrum correlation (oip-self: A vs A)"),
                     "compare_oip")
        session.save(figures.plot_matched_pairs(result.oip_images["a"], result.oip_images["b"], match.partner,
                                                match.matched, match.layer), f"compare_oip_pairs_{match.layer}")
    summary = {"model_a": str(model_a), "model_b": str(model_b), "dataset": session.dataset,
               "seconds": round(seconds, 2), **result.summary(), "figures": session.figures}
    lines = [f"map matching over {len(images)} {session.dataset} test images ({seconds:.1f} s); "
             "median matched correlation [A-B | A-untrained | A-B random pairs | A-B valid pairs (n)], "
             "same position:"]
    for match in result.activation + ([result.oip, result.oip_self] if result.oip else []):
        s = match.summary()
        valid = s["matched_valid"]["median"] if s["matched_valid"] else float("nan")
        lines.append(f"  {match.layer:8s} {match.measure:10s} {s['matched']['median']:6.3f} | "
                     f"{s['baseline_untrained']['median']:6.3f} | {s['shuffled']['median']:6.3f} | "
                     f"{valid:6.3f} ({s['n_valid_pairs']})   {s['same_position']:.0%}")
    _report(summary, as_json, lines)


CNN_SUBCOMMANDS: list[click.Command] = [maps_command, patterns_command, oip_command, compare_command]
