"""Sweep specs: parsing, validation before any trial starts, and the option names of the train commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnistlab.cli import main
from mnistlab.errors import ConfigError
from mnistlab.sweep import load_spec
from mnistlab.runs.kinds.cnn import ALIASES as CNN_ALIASES
from mnistlab.runs.kinds.cnn import ARCH_OPTIONS as CNN_ARCH_OPTIONS
from mnistlab.runs.kinds.mlp import NET_ALIASES as MLP_ALIASES
from mnistlab.runs.kinds.mlp import RUN_ALIASES as MLP_RUN_ALIASES
from mnistlab.sweep.options import option_names
from mnistlab.sweep.search import num_samples, seed_and_params


def test_good_spec_loads_with_its_file_name(write_spec):
    spec = load_spec(write_spec("lr_study", top={"seeds": "[0, 1]"}))
    assert spec.name == "lr_study"
    assert spec.space == {"lr": [0.001, 0.01]}
    assert spec.n_points == 2
    assert num_samples(spec) == 1


def test_distributions_and_seeds_for_random_and_optuna(write_spec):
    space = {"l2": "{ loguniform = [1e-4, 1e-1] }", "momentum": "{ choice = [0.0, 0.5] }"}
    spec = load_spec(write_spec(top={"search": '"optuna"', "samples": "3", "seeds": "[4, 5]"}, space=space))
    assert num_samples(spec) == 6  # points x seeds: Tune's Repeater trains each point once per seed
    assert seed_and_params({"lr": 0.01, "__trial_index__": 1}, spec.seeds) == (5, {"lr": 0.01})
    assert seed_and_params({"lr": 0.01, "seed": 4}, spec.seeds) == (4, {"lr": 0.01})


BAD_SPECS = [
    ({"top": {"colour": '"red"'}}, "unknown key 'colour'"),
    ({"fixed": {"lernrate": "0.1"}}, "[fixed] lernrate: unknown mlp option"),
    ({"space": {"hiden": '["16", "32"]'}}, "[space] hiden: unknown mlp option"),
    ({"space": {}}, "[space] is empty"),
    ({"space": {"lr": "[]"}}, "[space] lr is an empty list"),
    ({"fixed": {"epochs": '"ten"'}}, "epochs='ten' is not valid"),
    ({"space": {"l2": "[0.01, -5]"}}, "[space] l2 = -5"),
    ({"top": {"max_concurrent": "0"}}, "max_concurrent = 0 is not valid; give an integer >= 1"),
    ({"top": {"threads_per_trial": '"two"'}}, "threads_per_trial = 'two' is not valid"),
    ({"top": {"seeds": "[]"}}, "seeds = [] is not valid"),
    ({"top": {"search": '"hyperband"'}}, "search = 'hyperband' is not valid; choose one of grid, random, optuna"),
    ({"top": {"model": '"rnn"'}}, "model = 'rnn' is not valid"),
    ({"space": {"l2": "{ loguniform = [1e-4, 1e-1] }"}}, "grid search takes lists only"),
    ({"top": {"search": '"random"'}, "space": {"l2": "{ loguniform = [0, 1] }"}}, "loguniform needs low > 0"),
    ({"top": {"search": '"random"'}, "space": {"l2": "{ normal = [0, 1] }"}}, "[space] l2 must be a list or one of"),
    ({"fixed": {"seed": "3"}}, "[fixed] seed: not an option here; list the seeds in the top-level key seeds"),
    ({"fixed": {"threads": "2"}}, "set threads_per_trial instead"),
    ({"top": {"metric": '"val_accuracy"'}}, "metric = 'val_accuracy' is not recorded"),
    ({"top": {"base": '"nowhere/config.json"'}, "drop": ("preset",)}, "base: cannot read nowhere/config.json"),
    ({"top": {"preset": '"fast"'}}, "preset = 'fast' is not a preset of mlp; choose one of"),
    ({"top": {"model": '"cnn"', "preset": '"default"'}}, "preset = 'default' is not a preset of cnn"),
]


@pytest.mark.parametrize("changes, message", BAD_SPECS, ids=[m.split(" ")[0] + str(i) for i, (_, m) in
                                                           enumerate(BAD_SPECS)])
def test_bad_spec_is_one_error_line_before_anything_runs(write_spec, tmp_path, capsys, changes, message):
    runs = tmp_path / "runs"
    code = main(["sweep", write_spec(**changes), "--runs-dir", str(runs)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert message in err
    assert not runs.exists()  # nothing written, no Ray started


def test_a_valid_spec_passes_the_same_checks(write_spec):
    """Positive control for the table above: the unchanged spec is accepted."""
    assert load_spec(write_spec()).metric == "test_accuracy"


def test_spec_file_problems(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("model = mlp\n")
    assert main(["sweep", str(bad)]) == 1
    assert "is not valid TOML" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["sweep"]) == 1
    assert "give either SPEC.toml" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="not a sweep directory"):
        from mnistlab.sweep import resume_sweep

        resume_sweep(tmp_path)


def test_option_names_follow_the_train_commands():
    """Every name a spec accepts is an option of `mnistlab <model> train` (one declaration, checked here)."""
    from mnistlab.cli import cli

    cnn_flags = {p.name for p in cli.commands["cnn"].commands["train"].params}
    mlp_flags = {p.name for p in cli.commands["mlp"].commands["train"].params}
    assert MLP_ALIASES["lr"] == "learning_rate" and MLP_ALIASES["hidden"] == "hidden_sizes"
    assert set(MLP_RUN_ALIASES) <= mlp_flags
    mlp_names = set(option_names("mlp"))
    assert {"lr", "hidden", "train_size", "pca", "clusters", "scaler", "learning_rate"} <= mlp_names
    assert "seed" not in mlp_names and "random_state" not in mlp_names  # seeds have their own key
    assert set(CNN_ARCH_OPTIONS) | set(CNN_ALIASES) <= cnn_flags
    assert CNN_ALIASES["lr"] == "learning_rate"
    assert {"conv", "dense", "lr", "dropout", "validation_split"} <= set(option_names("cnn"))


def test_cnn_spec_builds_layers_from_the_cli_form(write_spec):
    spec = load_spec(write_spec(top={"model": '"cnn"', "preset": '"fast"', "metric": '"val_accuracy"'},
                                fixed={"validation_split": "0.1", "hidden": None},
                                space={"conv": '["8,16", "16"]'}, drop=("hidden",)))
    assert spec.model == "cnn" and spec.n_points == 4
    config = spec.trial_config({"conv": "8,16"}, seed=3)
    assert [layer.size for layer in config.layers if layer.kind == "conv"] == [8, 16]
    assert (config.seed, config.threads, config.validation_split) == (3, 1, 0.1)


def test_base_is_a_runs_config_json_kept_absolute(write_spec, tmp_path, monkeypatch):
    from mnistlab.mlp.run import PRESETS

    config = tmp_path / "run" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(PRESETS["seed"].to_dict()))
    monkeypatch.chdir(tmp_path)
    spec = load_spec(write_spec(top={"base": '"run/config.json"'}, drop=("preset",)))
    assert spec.preset is None and spec.base == str(config)
    assert spec.base_config()["mlp"]["hidden_sizes"] == [70, 30]


@pytest.mark.parametrize("spec", sorted((Path(__file__).parents[2] / "benchmarks" / "sweeps").glob("*.toml")),
                         ids=lambda path: path.name)
def test_the_shipped_study_specs_load(spec):
    # A train option renamed or removed must not silently break the documented studies.
    assert load_spec(spec).fixed
