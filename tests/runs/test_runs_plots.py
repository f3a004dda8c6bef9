"""The run figures: pure builders on synthetic data, and write_run_figures into a real run directory."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from mnistlab.errors import ConfigError
from mnistlab.runs import RunDir
from mnistlab.runs import plots
from mnistlab.runs.metrics import read_metrics

CLASSES = tuple("0123456789")


def _legend_labels(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


@pytest.fixture
def run(runs_dir):
    run = RunDir.create(runs_dir, "synthetic", "mlp", {"hidden_sizes": [16]})
    for epoch in range(1, 5):
        run.log_epoch({"epoch": epoch, "loss": 1 / epoch, "accuracy": 1 - 0.5 / epoch,
                       "val_loss": 1.1 / epoch, "val_accuracy": 1 - 0.6 / epoch,
                       "test_accuracy": 1 - 0.55 / epoch, "epoch_seconds": 0.1})
    return run


def test_curves_plot_only_the_columns_that_exist():
    metrics = {"epoch": np.array([1.0, 2, 3]), "loss": np.array([1.0, 0.5, 0.3]),
               "val_accuracy": np.array([0.5, 0.7, 0.8])}
    loss_ax, acc_ax = plots.curves_figure(metrics).axes
    assert _legend_labels(loss_ax) == ["train"]
    assert _legend_labels(acc_ax) == ["validation"]
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), [1.0, 0.5, 0.3])


def test_curves_skip_nan_and_say_when_nothing_was_logged():
    metrics = {"loss": np.array([1.0, np.nan, 0.3])}
    loss_ax, acc_ax = plots.curves_figure(metrics).axes
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), [1, 3])
    assert any("no accuracy logged" in t.get_text() for t in acc_ax.texts)


def test_overlay_has_one_colour_per_run():
    a = {"loss": np.array([1.0, 0.5]), "test_accuracy": np.array([0.8, 0.9])}
    b = {"loss": np.array([2.0, 1.0, 0.5]), "test_accuracy": np.array([0.7, 0.8, 0.85])}
    loss_ax, acc_ax = plots.overlay_curves_figure({"a": a, "b": b}).axes
    assert _legend_labels(acc_ax) == ["a: test", "b: test"]
    assert loss_ax.lines[0].get_color() != loss_ax.lines[1].get_color()


def test_confusion_matrix_annotates_every_cell():
    matrix = np.array([[5, 1], [2, 7]])
    ax = plots.confusion_matrix_figure(matrix, ("cat", "dog")).axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    assert "accuracy 0.8000" in ax.get_title()


def test_misclassified_grid_titles_true_and_predicted():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 784), dtype=np.uint8)
    y_true = np.arange(20) % 10
    y_pred = y_true.copy()
    y_pred[[3, 7]] = [9, 0]
    idx = plots.misclassified_indices(y_true, y_pred)
    np.testing.assert_array_equal(idx, [3, 7])
    fig = plots.misclassified_figure(images, y_true, y_pred, CLASSES, idx)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["true: 3\npred: 9", "true: 7\npred: 0"]


def test_weights_are_shown_as_28x28_pictures():
    weights = np.random.default_rng(1).normal(size=(784, 12))
    fig = plots.weights_figure(weights)
    pictures = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(pictures) == 12 and pictures[0].shape == (28, 28)
    np.testing.assert_allclose(pictures[5], weights[:, 5].reshape(28, 28))


def test_weights_of_the_wrong_shape_are_refused():
    with pytest.raises(ConfigError, match="square"):
        plots.weights_figure(np.zeros((100 + 1, 4)))


def test_write_run_figures_saves_readable_pngs(figure_run):
    run, paths = figure_run
    assert [p.name for p in paths] == ["curves.png", "confusion_matrix.png", "misclassified.png",
                                       "first_layer_weights.png"]
    for path in paths:
        assert path.parent == run.path
        assert imread(path).shape[0] > 100
    assert not list(run.path.glob("*.tmp")), "temporary files must not be left behind"


def test_write_run_figures_rejects_mismatched_lengths(run):
    with pytest.raises(ConfigError, match="same length"):
        plots.write_run_figures(run, images=np.zeros((3, 28, 28)), y_true=[0, 1], y_pred=[0, 1, 2],
                                class_names=CLASSES)
    with pytest.raises(ConfigError, match="outside 0..9"):
        plots.write_run_figures(run, images=np.zeros((2, 28, 28)), y_true=[0, 10], y_pred=[0, 1],
                                class_names=CLASSES)


def test_a_failed_save_leaves_no_file(tmp_path, monkeypatch):
    fig = plots.curves_figure({})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(OSError):
        plots.save_figure(fig, tmp_path / "curves.png")
    assert list(tmp_path.iterdir()) == []


def test_read_metrics_survives_a_row_cut_off_mid_write(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss,accuracy\n1,0.9,0.5\n2,0.7,0.6\n3,0.6")
    metrics = read_metrics(path)
    np.testing.assert_allclose(metrics["loss"], [0.9, 0.7, 0.6])
    assert np.isnan(metrics["accuracy"][2])
    assert read_metrics(tmp_path / "absent.csv") == {}
