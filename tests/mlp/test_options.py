"""One declaration of the MLP's options: config, estimator, CLI and docs must agree with it."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path

import pytest

from mnistlab import MLPClassifier
from mnistlab.cli.mlp import train_command
from mnistlab.errors import ConfigError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.options import OPTIONS, options_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mlp.md"


def test_config_fields_are_the_declared_options_in_order_with_their_defaults():
    assert [(f.name, f.default) for f in fields(MLPConfig)] == [(o.name, o.default) for o in OPTIONS]


def test_estimator_parameters_are_the_declared_options_with_their_defaults():
    parameters = list(inspect.signature(MLPClassifier.__init__).parameters.values())[1:]
    assert [(p.name, p.default) for p in parameters] == [(o.name, o.default) for o in OPTIONS]


def test_cli_has_one_option_per_declared_flag():
    cli = {p.name: p for p in train_command.params}
    for option in OPTIONS:
        if option.flag:
            assert option.flag in cli[option.name].opts, option.name
        else:
            assert option.name not in cli


def test_docs_carry_the_generated_table():
    assert options_table() in DOCS.read_text(), "regenerate: python -c 'from mnistlab.mlp.options import " \
                                                 "options_table; print(options_table())'"


@pytest.mark.parametrize("name,ours", [("max_iter", "epochs"), ("learning_rate_init", "learning_rate"),
                                       ("alpha", "l2"), ("hidden_layer_sizes", "hidden_sizes")])
def test_scikit_learn_spellings_name_ours(name, ours):
    with pytest.raises(TypeError, match=f"'{name}' is scikit-learn's name; .* calls it {ours}"):
        MLPClassifier(**{name: 5})
    with pytest.raises(ValueError, match=f"calls it {ours}"):
        MLPClassifier().set_params(**{name: 5})


def test_scikit_learn_schedule_names_point_to_lr_schedule(blobs):
    X, y = blobs
    with pytest.raises(ConfigError, match="set lr_schedule='adaptive' instead"):
        MLPClassifier(learning_rate="adaptive").fit(X, y)
    with pytest.raises(ConfigError, match="mnistlab calls it 'sigmoid'"):
        MLPClassifier(activation="logistic").fit(X, y)


def test_configs_written_before_the_stopping_rule_keep_their_meaning():
    old = {"hidden_sizes": [8], "epochs": 35, "patience": 5, "min_delta": 0.0, "early_stopping": False}
    assert MLPConfig.from_dict(old).n_iter_no_change is None
    early = MLPConfig.from_dict({**old, "early_stopping": True, "patience": 3, "min_delta": 0.01})
    assert (early.n_iter_no_change, early.tol) == (3, 0.01)
