"""Benchmark engines, one adapter per framework behind the `Engine` interface of `base`."""

from __future__ import annotations

from mnistlab.bench.engines.base import Engine
from mnistlab.errors import ConfigError

MLP_ENGINES = ("mnistlab", "keras-jax", "keras-tensorflow", "keras-torch", "torch", "sklearn")


def get_engine(name: str) -> Engine:
    """The engine called `name` (MLP_ENGINES, or a `cnn.CNN_ENGINES` name); importing it loads no framework."""
    if name == "mnistlab":
        from mnistlab.bench.engines.mnistlab_engine import MnistlabEngine

        return MnistlabEngine()
    if name.startswith("keras-") and name in MLP_ENGINES:
        from mnistlab.bench.engines.keras_engine import KerasEngine

        return KerasEngine(name.removeprefix("keras-"))
    if name == "torch":
        from mnistlab.bench.engines.torch_engine import TorchEngine

        return TorchEngine()
    if name.startswith("cnn-"):
        from mnistlab.bench.cnn import get_cnn_engine

        return get_cnn_engine(name)
    if name == "sklearn":
        from mnistlab.bench.engines.sklearn_engine import SklearnEngine

        return SklearnEngine()
    raise ConfigError(f"unknown engine {name!r}; choose from {', '.join(MLP_ENGINES)}")
