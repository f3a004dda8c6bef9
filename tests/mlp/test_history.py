"""History: arrays, CSV and JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mnistlab.mlp.history import History


def test_rows_to_arrays_csv_json(tmp_path):
    h = History(n_weight_layers=2)
    h.append({"epoch": 1, "loss": 0.5, "mean_abs_weight_0": 0.1})
    h.append({"epoch": 2, "loss": 0.25, "train_accuracy": 0.9})
    arrays = h.as_arrays()
    assert arrays["loss"].tolist() == [0.5, 0.25] and math.isnan(arrays["train_accuracy"][0])
    text = h.to_csv(tmp_path / "h.csv")
    assert text.splitlines()[2].startswith("2,0.25,")
    data = json.loads(h.to_json(tmp_path / "h.json"))
    assert data["train_accuracy"] == [None, 0.9] and (tmp_path / "h.json").exists()
    again = History.from_arrays(arrays)
    np.testing.assert_array_equal(again.as_arrays()["loss"], arrays["loss"])


def test_unknown_column_is_refused():
    with pytest.raises(KeyError, match="bogus"):
        History(1).append({"bogus": 1.0})
