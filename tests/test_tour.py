"""docs/tour.ipynb: stored without outputs, and it runs end to end (small sizes) through the library functions."""

from __future__ import annotations

from pathlib import Path

import pytest

TOUR = Path(__file__).resolve().parents[1] / "docs" / "tour.ipynb"
QUICK = 'TRAIN_SIZE = 1000\nMLP_EPOCHS = 2\nCNN_EPOCHS = 1\nOIP_STEPS = 4\nRUNS_DIR = {runs!r}\n'


def _read():
    nbformat = pytest.importorskip("nbformat")
    return nbformat, nbformat.read(TOUR, as_version=4)


def test_the_tour_is_stored_without_outputs():
    _, notebook = _read()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 6
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "parameters" in code[0].metadata.get("tags", [])


@pytest.mark.cnn
@pytest.mark.slow  # about 100 s on two busy cores: a kernel, TensorFlow, two trainings, OIPs
def test_the_tour_runs_on_a_small_training_size(tmp_path):
    pytest.importorskip("keras")
    nbclient = pytest.importorskip("nbclient")
    _, notebook = _read()
    runs = tmp_path / "runs"
    runs.mkdir()
    parameters = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    parameters.source = QUICK.format(runs=str(runs))
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs)
    assert "test accuracy" in text and "conv3 maps have a converged OIP" in text
    assert (runs / "tour-report.html").exists()
    assert {p.name.split("-", 2)[-1] for p in runs.iterdir() if p.is_dir()} == {"tour-mlp", "tour-cnn"}
    assert not any(out.get("output_type") == "error" for cell in notebook.cells for out in cell.get("outputs", []))
