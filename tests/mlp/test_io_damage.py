"""Damaged model.npz files: each is refused on load with one message naming the file and the damage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.errors import ModelFileError
from mnistlab.mlp.estimator import MLPClassifier


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 6)), rng.integers(0, 3, 120)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    MLPClassifier(hidden_sizes=(5,), epochs=2, n_iter_no_change=None, random_state=0).fit(X, y).save(path)
    with np.load(path) as data:
        return dict(data.items())


def _damaged(arrays, change):
    damaged = dict(arrays)
    change(damaged)
    return damaged


DAMAGE = {
    "missing weights": (lambda a: a.pop("weights_1"), "weights_1 missing"),
    "missing n_layers": (lambda a: a.pop("n_layers"), "n_layers missing"),
    "wrong n_layers": (lambda a: a.update(n_layers=np.array(5)), "n_layers is 5"),
    "wrong shape": (lambda a: a.update(weights_0=np.zeros((6, 4))), "weights_0 has shape (6, 4)"),
    "broken config_json": (lambda a: a.update(config_json=np.array("{oops")), "config_json is not valid JSON"),
    "config_json a list": (lambda a: a.update(config_json=np.array("[1, 2]")), "config_json holds a JSON list"),
    "no classes": (lambda a: a.pop("classes"), "classes missing"),
    "empty classes": (lambda a: a.update(classes=np.array([], dtype=np.int64)), "distinct labels (at least 2)"),
    "all-NaN weights": (lambda a: a.update(weights_0=np.full_like(a["weights_0"], np.nan)), "NaN"),
    "bad hidden sizes": (lambda a: a.update(config_json=np.array(json.dumps({"hidden_sizes": "abc"}))),
                         "hidden_sizes"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_model_is_refused_with_the_reason(tmp_path, arrays, case):
    change, reason = DAMAGE[case]
    path = tmp_path / "model.npz"
    np.savez(path, **_damaged(arrays, change))
    with pytest.raises(ModelFileError, match="damaged") as info:
        MLPClassifier.load(path)
    assert str(path) in str(info.value) and reason in str(info.value) and "\n" not in str(info.value)


def test_the_intact_file_still_loads_and_eval_names_the_damage(tmp_path, arrays, capsys):
    path = tmp_path / "model.npz"
    np.savez(path, **arrays)
    assert MLPClassifier.load(path).coefs_[0].shape == (6, 5)
    np.savez(path, **_damaged(arrays, DAMAGE["all-NaN weights"][0]))
    assert main(["mlp", "eval", str(path), "--dataset", "mnist"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "NaN" in err and err.count("\n") == 1
