"""The benchmark engines' names, apart from their adapters: the CLI's help lists them without loading any."""

from __future__ import annotations

ENGINES = ("mnistlab", "keras-jax", "keras-tensorflow", "keras-torch", "torch", "sklearn")
MLP_ENGINES = ENGINES
CNN_ENGINES = ("keras-jax", "keras-tensorflow", "keras-torch", "torch")
