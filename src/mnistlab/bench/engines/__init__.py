"""Benchmark engines, one adapter per framework behind the one `Engine` interface of `base`."""

from __future__ import annotations

from mnistlab.bench.engines.base import Engine
from mnistlab.bench.engines.keras_engine import KerasEngine
from mnistlab.bench.engines.mnistlab_engine import MnistlabEngine
from mnistlab.bench.engines.sklearn_engine import SklearnEngine
from mnistlab.bench.engines.torch_engine import TorchEngine
from mnistlab.errors import ConfigError

ENGINES = ("mnistlab", "keras-jax", "keras-tensorflow", "keras-torch", "torch", "sklearn")
MLP_ENGINES = ENGINES
CNN_ENGINES = ("keras-jax", "keras-tensorflow", "keras-torch", "torch")


def get_engine(name: str) -> Engine:
    """The engine called `name` (one of ENGINES); making it loads no framework."""
    if name == "mnistlab":
        return MnistlabEngine()
    if name.startswith("keras-") and name in ENGINES:
        return KerasEngine(name.removeprefix("keras-"))
    if name == "torch":
        return TorchEngine()
    if name == "sklearn":
        return SklearnEngine()
    raise ConfigError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
