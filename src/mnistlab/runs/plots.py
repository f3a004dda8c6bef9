"""The figures every run leaves: curves per epoch, confusion matrix, misclassified images, first-layer weights.

Each builder is pure: arrays in, a `matplotlib.figure.Figure` out (no pyplot, no global state),
so it works in threads, tests and headless machines alike. `write_run_figures` is the one call a
training command makes at its end; it saves every figure into the run directory atomically.

Examples
--------
>>> import numpy as np
>>> fig = confusion_matrix_figure(np.eye(3, dtype=int) * 5, ("a", "b", "c"))
>>> len(fig.axes) >= 1
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnistlab.errors import ConfigError
from mnistlab.runs.metrics import Metrics, epochs_axis
from mnistlab.fileio import save_figure_atomic
from mnistlab.runs.rundir import RunDir

LOSS_SERIES = (("loss", "train"), ("train_loss", "train (full pass)"), ("val_loss", "validation"),
               ("test_loss", "test"))
ACCURACY_SERIES = (("accuracy", "train (batch avg.)"), ("train_accuracy", "train"),
                   ("val_accuracy", "validation"), ("test_accuracy", "test"))
"""(metrics column, legend label) drawn in the cost and the accuracy panel, when present."""

_SPLIT_STYLE = {"train": "-", "train (full pass)": "-", "train (batch avg.)": (0, (1, 1)),
                "validation": "--", "test": "-."}
_SPLIT_COLOR = {"train": "C0", "train (full pass)": "C4", "train (batch avg.)": "C2",
                "validation": "C1", "test": "C3"}
DPI = 100

# Names of the files write_run_figures produces (without .png), in report order.
CURVES, CONFUSION, MISCLASSIFIED, WEIGHTS = "curves", "confusion_matrix", "misclassified", "first_layer_weights"
STANDARD_FIGURES = (CURVES, CONFUSION, MISCLASSIFIED, WEIGHTS)


def _draw_series(ax, metrics: Metrics, series, *, color: str | None = None, run_label: str = "") -> int:
    """Plot each present column of `series` against epochs on `ax`; return how many were drawn."""
    x = epochs_axis(metrics)
    drawn = 0
    for column, label in series:
        y = metrics.get(column)
        if y is None or not np.isfinite(y).any():
            continue
        ok = np.isfinite(y)
        ax.plot(x[ok], y[ok], linestyle=_SPLIT_STYLE[label], color=color or _SPLIT_COLOR[label],
                marker="o" if ok.sum() < 15 else None, markersize=3,
                label=f"{run_label}: {label}" if run_label else label)
        drawn += 1
    return drawn


def _finish_panel(ax, drawn: int, ylabel: str) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize="small" if drawn <= 6 else "x-small")
    else:
        ax.text(0.5, 0.5, f"no {ylabel} logged", ha="center", va="center", transform=ax.transAxes)


def curves_figure(metrics: Metrics, *, title: str | None = None) -> Figure:
    """Cost (loss) and accuracy per epoch for train/validation/test, side by side as in the seed's plots.

    Parameters
    ----------
    metrics : dict of str to ndarray of shape (n_epochs,)
        A run's per-epoch columns (see `RunDir.metrics`); absent ones are skipped.
    title : str, optional
        Figure title.
    """
    fig = Figure(figsize=(10, 4), dpi=DPI, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    _finish_panel(loss_ax, _draw_series(loss_ax, metrics, LOSS_SERIES), "loss (cost)")
    _finish_panel(acc_ax, _draw_series(acc_ax, metrics, ACCURACY_SERIES), "accuracy")
    if title:
        fig.suptitle(title)
    return fig


def overlay_curves_figure(runs: Mapping[str, Metrics]) -> Figure:
    """Cost and accuracy per epoch of several runs overlaid: one colour per run, one line style per split.

    Parameters
    ----------
    runs : mapping of run label to metrics columns (each array of shape (n_epochs,))
    """
    fig = Figure(figsize=(11, 4.5), dpi=DPI, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    drawn_loss = drawn_acc = 0
    for i, (label, metrics) in enumerate(runs.items()):
        color = f"C{i % 10}"
        drawn_loss += _draw_series(loss_ax, metrics, LOSS_SERIES, color=color, run_label=label)
        drawn_acc += _draw_series(acc_ax, metrics, ACCURACY_SERIES, color=color, run_label=label)
    _finish_panel(loss_ax, drawn_loss, "loss (cost)")
    _finish_panel(acc_ax, drawn_acc, "accuracy")
    return fig


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str]) -> Figure:
    """A confusion matrix as an annotated heat map (rows: true class, columns: predicted class).

    Parameters
    ----------
    matrix : ndarray of shape (n_classes, n_classes)
        Counts, e.g. from `sklearn.metrics.confusion_matrix`.
    class_names : sequence of str, length n_classes
    """
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    fig = Figure(figsize=(6.5, 5.5), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7 if n > 10 else 8,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_xticks(range(n), [str(c) for c in class_names], rotation=45, ha="right")
    ax.set_yticks(range(n), [str(c) for c in class_names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else float("nan")
    ax.set_title(f"confusion matrix ({total} test images, accuracy {accuracy:.4f})")
    return fig


def _as_square_images(images: np.ndarray) -> np.ndarray:
    """(n, h, w) or (n, h*w) with h == w -> (n, h, w)."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images
    side = int(round(np.sqrt(images.shape[-1]))) if images.ndim == 2 else 0
    if images.ndim != 2 or side * side != images.shape[-1]:
        raise ConfigError(f"images of shape {images.shape} are not square pictures; "
                          "pass them as (n, 28, 28) or (n, 784)")
    return images.reshape(len(images), side, side)


def _tile_grid(n: int, *, max_cols: int, tile_size: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    """A figure with a grid of at least `n` (and at least one) axes without frames; the axes flattened."""
    cols = min(max(n, 1), max_cols)
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(tile_size[0] * cols + 0.4, tile_size[1] * rows + 0.6), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.set_axis_off()
    return fig, axes


def misclassified_indices(y_true: np.ndarray, y_pred: np.ndarray, limit: int = 24) -> np.ndarray:
    """Indices of the first `limit` samples whose prediction differs from the label, shape (<= limit,)."""
    return np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:limit]


def misclassified_figure(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                         class_names: Sequence[str], indices: np.ndarray) -> Figure:
    """A grid of the images at `indices`, each titled with its true and predicted label.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28) or (n, 784)
    y_true, y_pred : ndarray of shape (n,)
        Class indices into `class_names`.
    class_names : sequence of str
    indices : ndarray of int, shape (k,)
        Which samples to show (e.g. from `misclassified_indices`).
    """
    pictures = _as_square_images(images)
    k = len(indices)
    fig, axes = _tile_grid(k, max_cols=6, tile_size=(1.5, 1.7))
    for ax, i in zip(axes, indices):
        ax.imshow(pictures[i], cmap="binary", interpolation="nearest")
        ax.set_title(f"true: {class_names[int(y_true[i])]}\npred: {class_names[int(y_pred[i])]}",
                     fontsize=8)
    n_wrong = int(np.sum(np.asarray(y_true) != np.asarray(y_pred)))
    if k == 0:
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center",
                     transform=axes[0].transAxes)
    fig.suptitle(f"misclassified test images: {k} of {n_wrong} shown ({len(pictures)} tested)")
    return fig


def weights_figure(weights: np.ndarray, *, max_units: int = 64) -> Figure:
    """The first layer's weights into each hidden unit as 28×28 pictures (red positive, blue negative).

    Parameters
    ----------
    weights : ndarray of shape (784, n_hidden)
        Dense weights (fan_in, fan_out); fan_in must be a square number of pixels.
    max_units : int
        Show at most this many units (the first ones).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ConfigError(f"first-layer weights must be 2-D (784, n_hidden), got shape {weights.shape}")
    side = int(round(np.sqrt(weights.shape[0])))
    if side * side != weights.shape[0]:
        raise ConfigError(f"first-layer weights of shape {weights.shape} do not map to square images; "
                          "pass the input layer's (784, n_hidden) matrix")
    n_units = weights.shape[1]
    shown = min(n_units, max_units)
    fig, axes = _tile_grid(shown, max_cols=10, tile_size=(1.2, 1.2))
    for unit, ax in zip(range(shown), axes):
        picture = weights[:, unit].reshape(side, side)  # (28, 28)
        limit = float(np.max(np.abs(picture))) or 1.0
        ax.imshow(picture, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(str(unit), fontsize=7)
    fig.suptitle(f"first-layer weights: {shown} of {n_units} hidden units")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Save `fig` as PNG to `path` through a temporary file and a rename (never half a file)."""
    return save_figure_atomic(fig, path, dpi=DPI)


def write_run_figures(run: RunDir | str | os.PathLike, *, images: np.ndarray, y_true: np.ndarray,
                      y_pred: np.ndarray, class_names: Sequence[str],
                      first_layer_weights: np.ndarray | None = None) -> list[Path]:
    """Save a run's standard figures into its directory and return their paths.

    Writes curves.png (from the run's logged epochs), confusion_matrix.png, misclassified.png and, when
    `first_layer_weights` is given, first_layer_weights.png.

    Parameters
    ----------
    run : RunDir or path of the run directory
    images : ndarray of shape (n, 28, 28) or (n, 784)
        The test images (raw or preprocessed; only used for the misclassified grid).
    y_true, y_pred : ndarray of int, shape (n,)
        True and predicted class indices of those images.
    class_names : sequence of str
    first_layer_weights : ndarray of shape (784, n_hidden), optional
        The MLP's input-layer weights.
    """
    run = run if isinstance(run, RunDir) else RunDir(Path(run))
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    if not len(images) == len(y_true) == len(y_pred):
        raise ConfigError(f"images, y_true and y_pred must have the same length, got "
                          f"{len(images)}, {len(y_true)}, {len(y_pred)}")
    from sklearn.metrics import confusion_matrix  # about a second to import: not for what only reads runs

    n_classes = len(class_names)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ConfigError(f"{name} holds labels outside 0..{n_classes - 1}; "
                              "pass class indices that match class_names")

    figures = [
        (CURVES, curves_figure(run.metrics())),
        (CONFUSION, confusion_matrix_figure(confusion_matrix(y_true, y_pred, labels=range(n_classes)),
                                            class_names)),
        (MISCLASSIFIED, misclassified_figure(images, y_true, y_pred, class_names,
                                             misclassified_indices(y_true, y_pred))),
    ]
    if first_layer_weights is not None:
        figures.append((WEIGHTS, weights_figure(first_layer_weights)))
    return [save_figure(fig, run.figure_path(name)) for name, fig in figures]
