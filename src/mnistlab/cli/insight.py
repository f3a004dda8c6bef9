"""`mnistlab cnn maps|patterns|oip|compare`: looking inside a trained CNN.

Each command parses its options, calls the matching function of `mnistlab.runs.insight` (which
loads the model or run directory, computes, and writes PNG figures into the model's run directory
and `--out`) and prints its summary (`mnistlab.runs.insight_lines`; `--json`: one JSON object).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mnistlab.cli.options import stacked
from mnistlab.cli.progress import step_bar
from mnistlab.data.catalog import DATASET_NAMES


_common_options = stacked(  # every insight command: dataset, output, JSON, quiet, threads
    click.option("--dataset", type=click.Choice(DATASET_NAMES), default=None,
                 help="Dataset whose test images are used [default: the run's dataset, else mnist]."),
    click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Also write the PNG figures here [default: only the model's run directory; "
                      "runs/insight for a model outside a run]."),
    click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON summary on stdout."),
    click.option("--quiet", is_flag=True, help="No progress bars."),
    click.option("--threads", type=int, default=None, help="Bound the CPU threads (default: all cores)."))

_oip_config_options = stacked(  # the fields of an OIPConfig
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
    click.option("--seed", "random_state", type=int, default=0, show_default=True, help="Seed of noise and jitter."))


def _oip_config(starts: tuple[str, ...], **fields: Any) -> Any:
    from mnistlab.insight.oip import OIPConfig

    return OIPConfig(**fields, **({"starts": starts} if starts else {}))


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)  # NumPy values in a summary


def _run(analysis: str, lines: str, threads: int | None, as_json: bool, **arguments: Any) -> None:
    """Bound the threads, call `mnistlab.runs.insight.<analysis>`, print `insight_lines.<lines>` of its summary."""
    from mnistlab.cnn.backend import import_keras
    from mnistlab.runs import insight, insight_lines

    import_keras(threads=threads)
    summary = getattr(insight, analysis)(**arguments)
    click.echo(json.dumps(summary, default=_plain) if as_json else "\n".join(getattr(insight_lines, lines)(summary)))


@click.command("maps")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--image", "images", type=int, multiple=True, help="Test-image index (repeatable) [default: 0].")
@click.option("--layer", "layers", multiple=True, help="Layer name or index (repeatable) [default: every conv/pool layer].")
@_common_options
def maps_command(images: tuple[int, ...], quiet: bool, **options: Any) -> None:
    """Feature maps of every conv and pooling layer for chosen test images, and the first layer's kernels."""
    _run("feature_maps_of", "maps_lines", images=images or (0,), **options)


@click.command("patterns")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer", default=None, help="Conv layer to read [default: the last conv layer].")
@click.option("--pooling", type=click.Choice(["mean", "max", "flatten"]), default="mean", show_default=True,
              help="How each map becomes the probe's features.")
@click.option("--train-size", type=int, default=None, help="Fit the probe on the first N training images [default: all].")
@_common_options
def patterns_command(quiet: bool, **options: Any) -> None:
    """Class x map heat map of mean activations, and accuracies of the dense head vs a linear probe."""
    _run("patterns_of", "patterns_lines", **options)


@click.command("oip")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--layer", required=True, help="Layer name or index (conv, pooling or dense; 'output' = class logits).")
@click.option("--map", "maps", type=int, multiple=True, help="Map/unit index (repeatable) [default: all].")
@_oip_config_options
@_common_options
def oip_command(model: Path, layer: str, maps: tuple[int, ...], dataset: str | None, out_dir: Path | None,
                as_json: bool, quiet: bool, threads: int | None, **oip_options: Any) -> None:
    """OIPs: input patterns that maximise a map's mean activation, by gradient ascent from noise."""
    config = _oip_config(**oip_options)
    with step_bar(not quiet, f"OIP {layer}") as on_step:
        _run("oips_of", "oips_lines", threads, as_json, model=model, layer=layer, maps=maps, config=config,
             dataset=dataset, out_dir=out_dir, on_step=on_step)


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
    config = _oip_config(**oip_options)
    with step_bar(not quiet, "OIPs") as on_step:
        _run("compare_models_of", "compare_lines", threads, as_json, models=models, layers=layers,
             oip_layer=oip_layer, oip=not no_oip, n_images=n_images, config=config, dataset=dataset,
             out_dir=out_dir, on_step=on_step)


CNN_SUBCOMMANDS: list[click.Command] = [maps_command, patterns_command, oip_command, compare_command]
