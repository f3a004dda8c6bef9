"""The insight summaries as text: the lines `mnistlab cnn maps|patterns|oip|compare` print.

Each function takes the dict its analysis in `runs.insight` returns and gives a list of lines,
so a notebook can show the same summary the command line does.
"""

from __future__ import annotations

from typing import Any


def _where(summary: dict[str, Any]) -> str:
    return "figures in " + " and ".join(summary["folders"])


def maps_lines(summary: dict[str, Any]) -> list[str]:
    """`feature_maps_of`: the layers drawn and each one's map shape."""
    return ([f"feature maps of {len(summary['layers'])} layers for test images {summary['images']} "
             f"in {summary['seconds']:.2f} s"]
            + [f"  {name}: {s['shape'][0]}x{s['shape'][1]} x {s['shape'][2]} maps"
               for name, s in summary["layers"].items()] + [_where(summary)])


def patterns_lines(summary: dict[str, Any]) -> list[str]:
    """`patterns_of`: the accuracies of the dense head and of the linear probe."""
    return ([f"activation patterns of {summary['layer']} ({summary['n_maps']} maps), "
             f"{summary['n_test']} test images, probe fitted on {summary['n_train']}:"]
            + [f"  {name:28s} {value:.4f}" for name, value in summary["accuracies"].items()])


def oips_lines(summary: dict[str, Any]) -> list[str]:
    """`oips_of`: how many OIPs converged, and per map its activation against the threshold."""
    dead = set(summary["dead_maps"])
    head = (f"OIPs of {summary['layer']}: {summary['n_converged']}/{summary['n_maps']} converged in "
            f"{summary['seconds']:.1f} s ({summary['cpu_seconds']:.1f} CPU s)")
    if summary["reference_images"]:
        head += (f" (converged: reaches the map's 99th-percentile activation on {summary['reference_images']} "
                 "test images and moves)")
    return [head] + [f"  map {m['map']}: activation {m['activation']:.3g} (start {m['start_activation']:.3g}, "
                     f"needed {m['threshold']:.3g}) {'ok' if m['converged'] else 'NOT converged'}"
                     + (" - dead: no test image activates it" if m["map"] in dead else "") for m in summary["maps"]]


def compare_lines(summary: dict[str, Any]) -> list[str]:
    """`compare_of` (two models) or `compare_many_of` (three or more): matched correlations per layer."""
    if "pairs" in summary:
        return ([f"{summary['n_models']} models, {len(summary['pairs'])} pairs, activation matching over "
                 f"{summary['n_images']} {summary['dataset']} test images ({summary['seconds']:.1f} s); "
                 "median matched correlation, mean ± sd [pairs | each model vs untrained]:"]
                + [f"  {s['layer']:8s} {s['mean']:6.3f} ± {s['sd']:.3f} | {s['untrained_mean']:6.3f} ± "
                   f"{s['untrained_sd']:.3f}" for s in summary["layers"]])
    lines = [f"map matching over {summary['n_images']} {summary['dataset']} test images ({summary['seconds']:.1f} s); "
             "median matched correlation [A-B | A-untrained | A-B random pairs | A-B valid pairs (n)], "
             "same position:"]
    for s in summary["activation"] + [m for m in (summary["oip"], summary["oip_self"]) if m]:
        valid = s["matched_valid"]["median"] if s["matched_valid"] else float("nan")
        lines.append(f"  {s['layer']:8s} {s['measure']:10s} {s['matched']['median']:6.3f} | "
                     f"{s['baseline_untrained']['median']:6.3f} | {s['shuffled']['median']:6.3f} | "
                     f"{valid:6.3f} ({s['n_valid_pairs']})   {s['same_position']:.0%}")
    return lines + [_where(summary)]
