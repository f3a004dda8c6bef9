"""`mnistlab cnn maps|patterns|oip|compare`: looking inside a trained CNN.

Each command parses its options, calls the matching function of `mnistlab.runs.insight` (which
loads the model or run directory, computes, and writes PNG figures into the model's run directory
and `--out`) and prints a summary (`--json`: one JSON object).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mnistlab.cli.progress import step_bar
from mnistlab.data.catalog import DATASET_NAMES
from mnistlab.errors import ConfigError


def _common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every insight command shares: dataset, output, JSON, quiet, threads."""
    options = [
        click.option("--dataset", type=click.Choice(DATASET_NAMES), default=None,
                     help="Dataset whose test images are used [default: the run's dataset, else mnist]."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Also write the PNG figures here [default: only the model's run directory; "
                          "runs/insight for a model outside a run]."),
        click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON summary on stdout."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
        click.option("--threads", type=int, default=None, help="Bound the CPU threads (default: all cores)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _setup(threads: int | None) -> None:
    from mnistlab.cnn.backend import import_keras

    import_keras(threads=threads)


def _report(summary: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(summary, default=_plain))
    else:
        for line in lines:
            click.echo(line)


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _where(summary: dict[str, Any]) -> str:
    return "figures in " + " and ".join(summary["folders"])


@click.command("maps")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--image", "image_indices", type=int, multiple=True, help="Test-image index (repeatable) [default: 0].")
@click.option("--layer", "layers", multiple=True, help="Layer name or index (repeatable) [default: every conv/pool layer].")
@_common_options
def maps_command(model: Path, image_indices: tuple[int, ...], layers: tuple[str, ...], dataset: str | None,
                 out_dir: Path | None, as_json: bool, quiet: bool, threads: int | None) -> None:
    """Feature maps of every conv and pooling layer for chosen test images, and the first layer's kernels."""
    from mnistlab.runs.insight import feature_maps_of

    _setup(threads)
    summary = feature_maps_of(model, images=image_indices or (0,), layers=layers, dataset=dataset, out_dir=out_dir)
    lines = [f"feature maps of {len(summary['layers'])} layers for test images {summary['images']} "
             f"in {summary['seconds']:.2f} s"]
    lines += [f"  {name}: {s['shape'][0]}x{s['shape'][1]} x {s['shape'][2]} maps" for name, s in summary["layers"].items()]
    lines.append(_where(summary))
    _report(summary, as_json, lines)


@click.command("patterns")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer", default=None, help="Conv layer to read [default: the last conv layer].")
@click.option("--pooling", type=click.Choice(["mean", "max", "flatten"]), default="mean", show_default=True,
              help="How each map becomes the probe's features.")
@click.option("--train-size", type=int, default=None, help="Fit the probe on the first N training images [default: all].")
@_common_options
def patterns_command(model: Path, layer: str | None, pooling: str, train_size: int | None, dataset: str | None,
                     out_dir: Path | None, as_json: bool, quiet: bool, threads: int | None) -> None:
    """Class x map heat map of mean activations, and accuracies of the dense head vs a linear probe."""
    from mnistlab.runs.insight import patterns_of

    _setup(threads)
    summary = patterns_of(model, layer=layer, pooling=pooling, train_size=train_size, dataset=dataset,
                          out_dir=out_dir)
    lines = [f"activation patterns of {summary['layer']} ({summary['n_maps']} maps), "
             f"{summary['n_test']} test images, probe fitted on {summary['n_train']}:"]
    lines += [f"  {name:28s} {value:.4f}" for name, value in summary["accuracies"].items()]
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
def oip_command(model: Path, layer: str, map_indices: tuple[int, ...], dataset: str | None, out_dir: Path | None,
                as_json: bool, quiet: bool, threads: int | None, **oip_options: Any) -> None:
    """OIPs: input patterns that maximise a map's mean activation, by gradient ascent from noise."""
    from mnistlab.runs.insight import oips_of

    config = _oip_config(**oip_options)
    _setup(threads)
    with step_bar(not quiet, f"OIP {layer}") as on_step:
        summary = oips_of(model, layer=layer, maps=map_indices, config=config, dataset=dataset, out_dir=out_dir,
                          on_step=on_step)
    dead = set(summary["dead_maps"])
    lines = [f"OIPs of {summary['layer']}: {summary['n_converged']}/{summary['n_maps']} converged in "
             f"{summary['seconds']:.1f} s ({summary['cpu_seconds']:.1f} CPU s)"
             + (f" (converged: reaches the map's 99th-percentile activation on {summary['reference_images']} "
                "test images and moves)" if summary["reference_images"] else "")]
    lines += [f"  map {m['map']}: activation {m['activation']:.3g} (start {m['start_activation']:.3g}, "
              f"needed {m['threshold']:.3g}) {'ok' if m['converged'] else 'NOT converged'}"
              + (" - dead: no test image activates it" if m["map"] in dead else "")
              for m in summary["maps"]]
    _report(summary, as_json, lines)


@click.command("compare")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--layer", "layers", multiple=True, help="Layer to match by activations (repeatable) [default: every conv layer].")
@click.option("--oip-layer", default=None, help="Layer to match by OIPs [default: the last conv layer].")
@click.option("--no-oip", is_flag=True, help="Skip the OIP matching.")
@click.option("--n-images", type=int, default=1000, show_default=True, help="Test images to correlate activations over.")
@_oip_config_options
@_common_options
def compare_command(models: tuple[Path, ...], layers: tuple[str, ...], oip_layer: str | None, no_oip: bool,
                    n_images: int, dataset: str | None, out_dir: Path | None, as_json: bool, quiet: bool,
                    threads: int | None, **oip_options: Any) -> None:
    """Two trainings, same filters? Hungarian matching of maps by activations and OIPs, vs an untrained net.

    MODELS: two models (or run directories); figures go to --out [default: insight/ beside A's run].
    With three or more, or one sweep directory (its completed trials, e.g. one per seed), every pair
    is matched by activations and each layer's median matched correlation is given as mean ± sd.
    """
    from mnistlab.runs.insight import compare_of

    models = _expand_sweep(models)
    config = _oip_config(**oip_options)
    _setup(threads)
    if len(models) > 2:
        _compare_many(models, layers, n_images, dataset, as_json)
        return
    model_a, model_b = models
    with step_bar(not quiet, "OIPs") as on_step:
        summary = compare_of(model_a, model_b, layers=layers, oip_layer=oip_layer, oip=not no_oip,
                             n_images=n_images, config=config, dataset=dataset, out_dir=out_dir, on_step=on_step)
    lines = [f"map matching over {summary['n_images']} {summary['dataset']} test images ({summary['seconds']:.1f} s); "
             "median matched correlation [A-B | A-untrained | A-B random pairs | A-B valid pairs (n)], "
             "same position:"]
    for s in summary["activation"] + [m for m in (summary["oip"], summary["oip_self"]) if m]:
        valid = s["matched_valid"]["median"] if s["matched_valid"] else float("nan")
        lines.append(f"  {s['layer']:8s} {s['measure']:10s} {s['matched']['median']:6.3f} | "
                     f"{s['baseline_untrained']['median']:6.3f} | {s['shuffled']['median']:6.3f} | "
                     f"{valid:6.3f} ({s['n_valid_pairs']})   {s['same_position']:.0%}")
    lines.append(_where(summary))
    _report(summary, as_json, lines)


def _expand_sweep(models: tuple[Path, ...]) -> tuple[Path, ...]:
    """One sweep directory stands for its completed trials' runs; otherwise at least two models."""
    from mnistlab.sweep.results import is_sweep_dir, read_sweep

    if len(models) == 1 and is_sweep_dir(models[0]):
        sweep_dir = models[0]
        trials = sorted((read_sweep(sweep_dir) or {}).get("trials", []), key=lambda row: row["trial"])
        models = tuple(Path(row["run_dir"]) for row in trials if row["status"] == "completed" and row.get("run_dir"))
        if len(models) < 2:
            raise ConfigError(f"{sweep_dir} has fewer than two completed trials; let the sweep finish "
                              f"(mnistlab sweep --resume {sweep_dir})")
    if len(models) < 2:
        raise ConfigError("compare needs two or more models (or run directories), or one sweep directory")
    return models


def _compare_many(models: tuple[Path, ...], layers: tuple[str, ...], n_images: int, dataset: str | None,
                  as_json: bool) -> None:
    from mnistlab.runs.insight import compare_many_of

    summary = compare_many_of(models, layers=layers or None, n_images=n_images, dataset=dataset)
    lines = [f"{summary['n_models']} models, {len(summary['pairs'])} pairs, activation matching over "
             f"{summary['n_images']} {summary['dataset']} test images ({summary['seconds']:.1f} s); "
             "median matched correlation, mean ± sd [pairs | each model vs untrained]:"]
    for s in summary["layers"]:
        lines.append(f"  {s['layer']:8s} {s['mean']:6.3f} ± {s['sd']:.3f} | "
                     f"{s['untrained_mean']:6.3f} ± {s['untrained_sd']:.3f}")
    _report(summary, as_json, lines)


CNN_SUBCOMMANDS: list[click.Command] = [maps_command, patterns_command, oip_command, compare_command]
