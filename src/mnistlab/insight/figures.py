"""Figures of the insight tools: feature-map grids, kernels, class patterns, OIP grids, map matching.

Plotting only: every function takes computed arrays/results and returns a matplotlib `Figure`
(object-oriented API, no pyplot state); `mnistlab.runs.insight` saves them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def _grid_shape(n: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def _image_grid(images: np.ndarray, labels: list[str], title: str, cmap: str = "viridis",
                shared_scale: bool = False, colors: list[str] | None = None, cell: float = 1.1) -> Figure:
    """A grid of 2-D images (n, h, w), each titled by its label."""
    rows, cols = _grid_shape(len(images))
    figure = Figure(figsize=(cols * cell + 0.4, rows * cell * 1.12 + 0.6))
    axes = figure.subplots(rows, cols, squeeze=False)
    vmin, vmax = (float(images.min()), float(images.max())) if shared_scale else (None, None)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= len(images):
            continue
        ax.imshow(images[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(labels[k], fontsize=7, color=colors[k] if colors else "black", pad=2)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.97), pad=0.3, h_pad=0.3, w_pad=0.2)
    return figure


def plot_input_image(image: np.ndarray, title: str = "input") -> Figure:
    """The input image (28, 28) the feature maps were computed for."""
    figure = Figure(figsize=(2.2, 2.4))
    ax = figure.subplots()
    ax.imshow(image, cmap="gray_r", interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return figure


def plot_feature_maps(maps: np.ndarray, layer: str, image_label: str = "") -> Figure:
    """One layer's maps for one image: (h, w, c) -> a grid of c images labelled "map i" (max value)."""
    stack = np.transpose(maps, (2, 0, 1))  # (c, h, w)
    labels = [f"map {i} ({stack[i].max():.2g})" for i in range(len(stack))]
    title = f"{layer}: {stack.shape[0]} maps of {stack.shape[1]}x{stack.shape[2]}" + (f" - {image_label}" if image_label else "")
    return _image_grid(stack, labels, title)


def plot_kernels(kernels: np.ndarray, layer: str = "conv1") -> Figure:
    """First-layer kernels (c, kh, kw) as images on one shared, zero-centred red-blue scale."""
    limit = float(np.abs(kernels).max()) or 1.0
    rows, cols = _grid_shape(len(kernels))
    figure = Figure(figsize=(cols * 0.9 + 1.0, rows * 1.0 + 0.6))
    axes = figure.subplots(rows, cols, squeeze=False)
    shown = None
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(kernels):
            shown = ax.imshow(kernels[k], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title(f"{k}", fontsize=7, pad=2)
    figure.suptitle(f"{layer} kernels ({kernels.shape[1]}x{kernels.shape[2]})", fontsize=10)
    if shown is not None:
        figure.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.6)
    return figure


def plot_class_patterns(patterns: np.ndarray, class_names: tuple[str, ...], layer: str,
                        accuracies: dict[str, float] | None = None) -> Figure:
    """Heat map of mean activation per class (rows) and map (columns): patterns (n_classes, n_maps)."""
    figure = Figure(figsize=(max(6.0, patterns.shape[1] * 0.16 + 2), 0.38 * len(class_names) + 1.8))
    ax = figure.subplots()
    shown = ax.imshow(patterns, aspect="auto", cmap="magma", interpolation="nearest")
    ax.set_yticks(range(len(class_names)), labels=class_names, fontsize=8)
    ax.set_xlabel(f"map of {layer}")
    title = f"Mean activation of each {layer} map per class (test set)"
    if accuracies:
        title += "\n" + ", ".join(f"{name}: {value:.2%}" for name, value in accuracies.items())
    ax.set_title(title, fontsize=9)
    figure.colorbar(shown, ax=ax, fraction=0.03)
    figure.tight_layout()
    return figure


def plot_oips(result: Any, unit_names: tuple[str, ...] | None = None) -> Figure:
    """Grid of OIPs (an `OIPResult`), titled "map i: activation"; red titles mark maps that did not converge.

    `unit_names` (e.g. the class names, for the output layer) replace the map numbers in the titles.
    """
    labels = [f"{unit_names[m] if unit_names else m}: {a:.3g}" for m, a in zip(result.maps, result.activation)]
    colors = ["black" if ok else "red" for ok in result.converged]
    title = (f"OIPs of {result.layer} ({int(result.converged.sum())}/{len(result.maps)} converged; "
             "red: not converged)")
    return _image_grid(result.images, labels, title, cmap="gray", colors=colors)


def plot_similarity_distributions(matches: list[Any], title: str) -> Figure:
    """Box plots per layer of matched, untrained-baseline and shuffled similarities (list of LayerMatch)."""
    figure = Figure(figsize=(2.6 * len(matches) + 1.5, 3.8))
    axes = figure.subplots(1, len(matches), squeeze=False)[0]
    for ax, match in zip(axes, matches):
        data = [match.matched, match.baseline_untrained, match.shuffled]
        ax.boxplot(data, tick_labels=["A-B\nmatched", "A-untrained\nmatched", "A-B\nshuffled"])
        ax.set_title(f"{match.layer} ({match.measure})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.axhline(0, color="grey", linewidth=0.5)
    axes[0].set_ylabel("correlation")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def plot_matched_pairs(images_a: np.ndarray, images_b: np.ndarray, partner: np.ndarray, matched: np.ndarray,
                       layer: str, n_pairs: int = 12) -> Figure:
    """The best `n_pairs` matched pairs side by side: A's OIP above its partner in B, with their correlation."""
    order = np.argsort(-matched)[:n_pairs]
    figure = Figure(figsize=(1.1 * len(order) + 0.5, 3.3))
    axes = figure.subplots(2, len(order), squeeze=False)
    for col, i in enumerate(order):
        for row, (image, label) in enumerate(((images_a[i], f"A {i}"), (images_b[partner[i]], f"B {partner[i]}"))):
            ax = axes[row, col]
            ax.imshow(image, cmap="gray", interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(label + (f"\nr={matched[i]:.2f}" if row == 0 else ""), fontsize=7, pad=2)
    figure.suptitle(f"{layer}: best matched OIP pairs (run A above, run B below)", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.92), pad=0.3)
    return figure
