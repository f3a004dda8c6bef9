"""One source for the dataset list: every --dataset choice and every config check follows data.catalog."""

from __future__ import annotations

import click
import pytest

from mnistlab.cli import cli
from mnistlab.cnn.config import CNNConfig
from mnistlab.data.catalog import DATASET_NAMES, DATASETS
from mnistlab.errors import ConfigError
from mnistlab.mlp.run import MLPRunConfig


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def _dataset_parameters():
    for path, command in _commands(cli):
        for param in command.params:
            if param.name == "dataset" or (path == "data fetch" and param.name == "name"):
                yield path, param


def test_the_catalog_names_every_dataset_once():
    assert DATASET_NAMES == tuple(DATASETS) and len(set(DATASET_NAMES)) == len(DATASET_NAMES) >= 2


def test_every_dataset_choice_of_the_cli_is_the_catalog():
    found = {path: tuple(param.type.choices) for path, param in _dataset_parameters()}
    assert {"mlp train", "mlp eval", "cnn train", "cnn eval", "cnn maps", "cnn oip", "data fetch"} <= set(found)
    assert {path: choices for path, choices in found.items() if choices != DATASET_NAMES} == {}


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_configs_accept_every_catalog_dataset(name):
    MLPRunConfig(dataset=name).validate()
    CNNConfig(dataset=name).validate()


def test_configs_reject_a_dataset_outside_the_catalog():
    with pytest.raises(ConfigError, match="mnist"):
        MLPRunConfig(dataset="cifar10").validate()
    with pytest.raises(ConfigError, match="mnist"):
        CNNConfig(dataset="cifar10").validate()
