"""Weight initialisers: the seed's "sqrt_nodes" and constant intervals, Glorot and He.

Weights are `(fan_in, fan_out)` float arrays; biases are separate zero vectors `(fan_out,)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

INIT_METHODS = ("sqrt_nodes", "const", "glorot", "he")


def init_layer(method: str, fan_in: int, fan_out: int, rng: np.random.Generator, *,
               factor: float = 1.0, interval: tuple[float, float] = (-0.5, 0.5),
               dtype: np.dtype = np.float32) -> np.ndarray:
    """Draw one weight matrix (fan_in, fan_out).

    - "sqrt_nodes": uniform in +-factor / sqrt(fan_in) (the seed's default);
    - "const": uniform in the fixed `interval` (lo, hi), times `factor`;
    - "glorot": uniform in +-sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010);
    - "he": normal with std sqrt(2 / fan_in) (He et al. 2015), for ReLU layers.
    """
    shape = (fan_in, fan_out)
    if method == "sqrt_nodes":
        bound = factor / np.sqrt(fan_in)
        weights = rng.uniform(-bound, bound, shape)
    elif method == "const":
        lo, hi = interval
        weights = factor * rng.uniform(lo, hi, shape)
    elif method == "glorot":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        weights = rng.uniform(-bound, bound, shape)
    elif method == "he":
        weights = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    else:
        raise ValueError(f"unknown init method {method!r}; choose one of {', '.join(INIT_METHODS)}")
    return np.ascontiguousarray(weights, dtype=dtype)


def init_params(layer_sizes: Sequence[int], methods: Sequence[str], rng: np.random.Generator, *,
                factor: float = 1.0, intervals: Sequence[tuple[float, float]] | None = None,
                dtype: np.dtype = np.float32) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights and zero biases for a net with `layer_sizes` (inputs, hidden..., outputs).

    `methods[i]` initialises layer i; `intervals[i]` is its (lo, hi) for "const".
    """
    weights, biases = [], []
    for i, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        interval = intervals[i] if intervals else (-0.5, 0.5)
        weights.append(init_layer(methods[i], fan_in, fan_out, rng, factor=factor, interval=interval, dtype=dtype))
        biases.append(np.zeros(fan_out, dtype=dtype))
    return weights, biases


def make_rng(random_state) -> np.random.Generator:
    """A Generator from an int seed, None, a RandomState (a seed drawn from it) or a Generator (itself)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)
