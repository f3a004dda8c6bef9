"""Benchmark engines, one adapter per framework behind the one `Engine` interface of `base`."""

from __future__ import annotations

from mnistlab.bench.engine_names import CNN_ENGINES, ENGINES, MLP_ENGINES
from mnistlab.bench.engines.base import Engine
from mnistlab.bench.engines.keras_engine import KerasEngine
from mnistlab.bench.engines.mnistlab_engine import MnistlabEngine
from mnistlab.bench.engines.sklearn_engine import SklearnEngine
from mnistlab.bench.engines.torch_engine import TorchEngine
from mnistlab.errors import ConfigError

__all__ = ["CNN_ENGINES", "ENGINES", "MLP_ENGINES", "Engine", "get_engine"]


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
