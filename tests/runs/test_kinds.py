"""The registry of model kinds and the one config resolution every entry point shares.

For each kind and preset, and for option sets such as PCA on the default preset, the config the
CLI resolves after parsing, the config a sweep builds for a trial, and the config the lab's form
trains are equal: each is built through its entry point's own code path.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from mnistlab.cli import cli
from mnistlab.cli.options import resolve_train_config
from mnistlab.errors import ConfigError
from mnistlab.lab.training import form_config, train_command
from mnistlab.runs.kinds import KIND_NAMES, KINDS, get_kind
from mnistlab.sweep.spec import SweepSpec

# (kind, preset, options as a user types them on the command line / in a spec)
CASES = [(name, preset, {}) for name in KIND_NAMES for preset in KINDS[name].presets] + [
    ("mlp", "default", {"pca": 50}),
    ("mlp", "default", {"pca": 0.9}),
    ("mlp", "default", {"clusters": 40}),
    ("mlp", "seed", {"pca": 50, "clusters": 40}),
    ("mlp", "default", {"hidden": "64,32", "lr": 0.01, "epochs": 3, "train_size": 1000}),
    ("mlp", "seed", {"batch_size": "auto", "n_iter_no_change": "none", "scaler": "minmax"}),
    ("cnn", "seed", {"conv": "8,16", "dense": "32", "lr": 0.01}),
    ("cnn", "fast", {"epochs": 2, "train_size": 1000, "validation_split": 0.1}),
]


def cli_config(kind: str, preset: str, options: dict, *, dataset: str, threads: int, seed: int):
    """`mnistlab <kind> train --preset P --opt value ...`: parsed by click, resolved as the command does."""
    argv = ["--preset", preset, "--dataset", dataset, "--threads", str(threads), "--seed", str(seed)]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    command = cli.commands[kind].commands["train"]
    return resolve_train_config(kind, command.make_context("train", argv).params)


def sweep_config(kind: str, preset: str, options: dict, *, dataset: str, threads: int, seed: int):
    """A spec with these options in [fixed] but the first, which is searched; built as its trial's config."""
    (first, value), *_ = options.items()
    fixed = {k: v for k, v in options.items() if k != first}
    spec = SweepSpec.from_dict({"model": kind, "preset": preset, "dataset": dataset, "seeds": [seed],
                                "threads_per_trial": threads, "metric": "loss", "mode": "min",
                                "fixed": fixed, "space": {first: [value]}})
    return spec.trial_config({first: value}, seed)


@pytest.mark.parametrize("kind, preset, options", CASES, ids=lambda v: str(v) if not isinstance(v, dict) else
                         ",".join(f"{k}={o}" for k, o in v.items()) or "-")
def test_the_cli_and_the_sweep_resolve_the_same_config(kind, preset, options):
    where = {"dataset": "fashion-mnist", "threads": 1, "seed": 3}
    options = {"epochs": 2, **options}  # a sweep searches at least one option (2: one-cycle presets warm up 1 epoch)
    from_cli = cli_config(kind, preset, options, **where)
    from_sweep = sweep_config(kind, preset, options, **where)
    assert from_cli.to_dict() == from_sweep.to_dict()
    assert (from_cli.dataset, from_cli.threads) == ("fashion-mnist", 1)  # the options did arrive


FORMS = [{"kind": name, "preset": preset, **extra} for name in KIND_NAMES for preset in KINDS[name].presets
         for extra in ({}, {"epochs": 2, "train_size": 1000, "dataset": "fashion-mnist"},
                       {"hidden" if name == "mlp" else "conv": "16,8"})]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_the_lab_trains_what_the_cli_resolves_from_its_command(form, tmp_path):
    argv = train_command(form, tmp_path, "job")
    kind = argv[3]
    command = cli.commands[kind].commands["train"]
    from_cli = resolve_train_config(kind, command.make_context("train", argv[5:]).params)
    assert from_cli.to_dict() == form_config(form).to_dict()


def test_the_pca_rule_holds_everywhere():
    """PCA/k-means features turn the default preset's shifts off; an explicit shift with them is one error."""
    where = {"dataset": "mnist", "threads": 1, "seed": 0}
    assert cli_config("mlp", "default", {}, **where).mlp.shift_pixels == 1  # positive control: shifts are on
    for build in (cli_config, sweep_config):
        assert build("mlp", "default", {"pca": 50}, **where).mlp.shift_pixels == 0
        with pytest.raises(ConfigError, match="shift_pixels moves images"):
            build("mlp", "default", {"pca": 50, "shift_pixels": 2}, **where)


def test_the_cli_offers_exactly_the_kinds_presets():
    """`--preset` is a literal list (so `--help` starts without the library); it must equal the kind's."""
    assert set(cli.commands) >= set(KIND_NAMES)
    for name in KIND_NAMES:
        option = next(p for p in cli.commands[name].commands["train"].params if p.name == "preset")
        assert tuple(option.type.choices) == KINDS[name].presets


def test_unknown_kinds_presets_and_options_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="'rnn' is not a model kind; choose one of mlp, cnn"):
        get_kind("rnn")
    with pytest.raises(ConfigError, match="preset 'fast' is not a mlp preset"):
        get_kind("mlp").resolve_config(preset="fast")
    with pytest.raises(ConfigError, match="unknown cnn option"):
        get_kind("cnn").resolve_config(overrides={"hidden": "16"})
    with pytest.raises(ConfigError, match="lr and learning_rate both set"):
        get_kind("mlp").resolve_config(overrides={"lr": 0.1, "learning_rate": 0.2})
    with pytest.raises(ConfigError, match="--preset and --config both"):
        get_kind("cnn").resolve_config(preset="seed", config_file=tmp_path / "c.json")


def test_a_config_file_is_the_starting_point_and_options_override_it(tmp_path):
    for name in KIND_NAMES:
        kind = get_kind(name)
        config = kind.resolve_config(overrides={"epochs": 2})
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(config.to_dict()))
        again = kind.resolve_config(config_file=path, overrides={"epochs": 4})
        assert kind.epochs_of(again) == 4
        assert kind.epochs_of(kind.resumed_to(kind.resolve_config(preset="seed"), 5)) == 5
        assert kind.resolve_config(base=config.to_dict()).to_dict() == config.to_dict()


def kind_comparisons(source: str) -> list[int]:
    """Line numbers of `x == "mlp"` / `x != "cnn"`-style comparisons in Python source (code, not text)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            if any(isinstance(part, ast.Constant) and part.value in KIND_NAMES
                   for part in (node.left, *node.comparators)):
                lines.append(node.lineno)
    return lines


def test_the_kind_comparison_finder_finds_one():
    """Positive control for the test below."""
    assert kind_comparisons('if kind == "mlp":\n    pass\nx = "a == \\"cnn\\""\n') == [1]


def test_no_module_branches_on_a_kind_name_outside_the_registry():
    src = Path(__file__).parents[2] / "src" / "mnistlab"
    kinds = src / "runs" / "kinds"
    found = [f"{path.relative_to(src)}:{line}" for path in sorted(src.rglob("*.py")) if kinds not in path.parents
             for line in kind_comparisons(path.read_text())]
    assert found == []
