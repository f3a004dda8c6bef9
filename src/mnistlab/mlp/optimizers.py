"""Gradient-descent update rules on plain lists of arrays; they know nothing about networks.

`update(params, grads)` changes `params` in place and may overwrite `grads` (scratch).
State (velocities, moments) is allocated once, at the first update, in the params' dtype.
The learning rate is an attribute the trainer sets before each batch (schedules).

Each rule is written here in NumPy, a few whole-array operations per step: the readable
reference. When Numba is installed (the `fast` extra) the same rule runs as one compiled pass
(`mnistlab.mlp.fused`) with bit-equal results; `fused=False` keeps the NumPy path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mnistlab.mlp import fused as _fused

SOLVERS = ("sgd", "rmsprop", "adam", "lbfgs")
STOCHASTIC_SOLVERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("decay", "constant", "invscaling", "adaptive", "cosine", "onecycle")
PER_BATCH_SCHEDULES = ("cosine", "onecycle")
WARMUP_SCHEDULES = ("constant", "cosine", "onecycle")
MOMENTUM_TYPES = ("seed", "classical", "nesterov")


def decayed_learning_rate(learning_rate: float, decrease_const: float, t: int) -> float:
    """The seed's decay lr_t = lr / (1 + decrease_const * t), t = epochs completed."""
    return learning_rate / (1.0 + decrease_const * t)


def scheduled_learning_rate(schedule: str, learning_rate: float, *, epochs_done: int, samples_seen: int,
                            decrease_const: float = 0.0, power_t: float = 0.5,
                            adaptive_rate: float | None = None) -> float:
    """The step size of the next epoch under `schedule` (one of SCHEDULES).

    "decay": the seed's lr / (1 + decrease_const * epochs_done); "constant": lr;
    "invscaling": scikit-learn's lr / (samples_seen + 1) ** power_t; "adaptive": the rate the
    trainer keeps, divided by 5 each time the loss stops improving (`adaptive_rate`).
    """
    if schedule == "decay":
        return decayed_learning_rate(learning_rate, decrease_const, epochs_done)
    if schedule == "invscaling":
        return learning_rate / (samples_seen + 1) ** power_t
    if schedule == "adaptive" and adaptive_rate is not None:
        return adaptive_rate
    return learning_rate


def batch_learning_rate(schedule: str, learning_rate: float, step: int, steps_per_epoch: int, epochs: int,
                        warmup_epochs: float = 0.0) -> float | None:
    """The step size of batch `step` (0-based over the whole training) under a per-batch schedule.

    A linear warm-up lr (step + 1) / warm over the first round(warmup_epochs * steps_per_epoch)
    batches, then "cosine": lr (1 + cos(pi p)) / 2, "onecycle": lr (1 - p), "constant": lr, where
    p is the share of the remaining batches of the `epochs` budget done (1 after the budget).
    None for the per-epoch schedules (no warm-up): the epoch's rate stands.
    The same numbers as `bench tta`'s recipes (`mnistlab.bench.recipes.learning_rate_at`).

    Examples
    --------
    >>> [round(batch_learning_rate("onecycle", 1.0, s, 2, 3, warmup_epochs=1), 2) for s in range(6)]
    [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    warm = int(round(warmup_epochs * steps_per_epoch))
    if schedule not in PER_BATCH_SCHEDULES and not warm:
        return None
    if step < warm:
        return learning_rate * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, epochs * steps_per_epoch - warm))
    if schedule == "cosine":
        return learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))
    if schedule == "onecycle":
        return learning_rate * (1.0 - progress)
    return learning_rate


class Optimizer:
    """Base class: holds the learning rate; subclasses write `update`.

    fused : take the compiled one-pass update (mnistlab.mlp.fused); None: when Numba is installed.
    """

    def __init__(self, learning_rate: float, fused: bool | None = None) -> None:
        self.learning_rate = float(learning_rate)
        self.fused = _fused.available() if fused is None else bool(fused)

    def _fused_pairs(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]):
        """1-D (param, grad) views for the compiled kernels, or None for the NumPy path."""
        if not self.fused or _fused.kernels() is None:
            return None
        pairs = _fused.flat_pairs(params, grads)
        if pairs is not None:
            _fused.use_threads(max(p.size for p, _ in pairs))
        return pairs

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Apply one step to `params` in place using `grads` (which may be overwritten)."""
        raise NotImplementedError

    def state(self) -> list[np.ndarray]:
        """The optimizer's arrays, for checkpoints and tests."""
        return []

    def state_dict(self) -> dict:
        """Copies of every buffer and counter (None before the first update), for checkpoints."""
        return {name: _copy(getattr(self, name)) for name in self._buffers}

    def load_state_dict(self, state: dict) -> None:
        """Restore buffers and counters saved by `state_dict` (scratch is rebuilt on demand)."""
        for name in self._buffers:
            setattr(self, name, _copy(state[name]))

    _buffers: tuple[str, ...] = ()


def _copy(value):
    if isinstance(value, list):
        return [np.array(a, copy=True) for a in value]
    return value


class SGD(Optimizer):
    """Mini-batch gradient descent, optionally with momentum.

    momentum_type:
    - "seed": the seed's one-step form, p -= lr*g + momentum * (lr*g of the previous step);
    - "classical": v = momentum*v - lr*g; p += v (heavy ball);
    - "nesterov": v = momentum*v - lr*g; p += momentum*v - lr*g (look-ahead form).
    """

    def __init__(self, learning_rate: float, momentum: float = 0.0, momentum_type: str = "classical",
                 fused: bool | None = None) -> None:
        super().__init__(learning_rate, fused)
        self.momentum = float(momentum)
        self.momentum_type = momentum_type
        self._velocity: list[np.ndarray] | None = None

    _buffers = ("_velocity",)

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        mu = self.momentum
        if mu == 0.0:
            for p, g in zip(params, grads):
                g *= p.dtype.type(self.learning_rate)
                p -= g
            return
        if self._velocity is None:
            self._velocity = [np.zeros_like(p) for p in params]
        lr, kind = self.learning_rate, self.momentum_type
        pairs = self._fused_pairs(params, grads)
        if pairs is not None:
            kernel, code = _fused.kernels().momentum, _fused.MOMENTUM_KINDS[kind]
            for (p, g), v in zip(pairs, self._velocity):
                f = p.dtype.type
                kernel(p, g, v.reshape(-1), f(lr), f(mu), code)
            return
        for p, g, v in zip(params, grads, self._velocity):
            g *= p.dtype.type(lr)  # g is now the plain step lr*g
            if kind == "seed":
                v *= p.dtype.type(mu)
                p -= v
                p -= g
                np.copyto(v, g)
            else:
                v *= p.dtype.type(mu)
                v -= g
                if kind == "nesterov":
                    p -= g
                    g[...] = v
                    g *= p.dtype.type(mu)
                    p += g
                else:
                    p += v

    def state(self) -> list[np.ndarray]:
        return list(self._velocity or [])


class RMSprop(Optimizer):
    """RMSprop as in Keras: s = rho*s + (1-rho)*g**2; p -= lr * g / (sqrt(s) + eps)."""

    def __init__(self, learning_rate: float, rho: float = 0.9, epsilon: float = 1e-7,
                 fused: bool | None = None) -> None:
        super().__init__(learning_rate, fused)
        self.rho, self.epsilon = float(rho), float(epsilon)
        self._square: list[np.ndarray] | None = None
        self._scratch: list[np.ndarray] | None = None

    _buffers = ("_square",)

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        if self._square is None:
            self._square = [np.zeros_like(p) for p in params]
        pairs = self._fused_pairs(params, grads)
        if pairs is not None:
            for (p, g), s in zip(pairs, self._square):
                f = p.dtype.type
                _fused.kernels().rmsprop(p, g, s.reshape(-1), f(self.rho), f(1 - self.rho), f(self.learning_rate),
                                         f(self.epsilon))
            return
        if self._scratch is None:
            self._scratch = [np.empty_like(p) for p in params]
        for p, g, s, tmp in zip(params, grads, self._square, self._scratch):
            f = p.dtype.type
            np.multiply(g, g, out=tmp)
            tmp *= f(1 - self.rho)
            s *= f(self.rho)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += f(self.epsilon)
            g *= f(self.learning_rate)
            g /= tmp
            p -= g

    def state(self) -> list[np.ndarray]:
        return list(self._square or [])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias-corrected step size, as in scikit-learn and Keras."""

    def __init__(self, learning_rate: float, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, fused: bool | None = None) -> None:
        super().__init__(learning_rate, fused)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self._m: list[np.ndarray] | None = None
        self._v: list[np.ndarray] | None = None
        self._scratch: list[np.ndarray] | None = None

    _buffers = ("t", "_m", "_v")

    def update(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        if self._m is None:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        step = self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        pairs = self._fused_pairs(params, grads)
        if pairs is not None:
            for (p, g), m, v in zip(pairs, self._m, self._v):
                f = p.dtype.type
                _fused.kernels().adam(p, g, m.reshape(-1), v.reshape(-1), f(b1), f(1 - b1), f(b2), f(1 - b2),
                                      f(step), f(self.epsilon))
            return
        if self._scratch is None:
            self._scratch = [np.empty_like(p) for p in params]
        for p, g, m, v, tmp in zip(params, grads, self._m, self._v, self._scratch):
            f = p.dtype.type
            m *= f(b1)
            np.multiply(g, f(1 - b1), out=tmp)
            m += tmp
            g *= g
            g *= f(1 - b2)
            v *= f(b2)
            v += g
            np.sqrt(v, out=tmp)
            tmp += f(self.epsilon)
            np.divide(m, tmp, out=tmp)
            tmp *= f(step)
            p -= tmp

    def state(self) -> list[np.ndarray]:
        return list(self._m or []) + list(self._v or [])


def make_optimizer(solver: str, learning_rate: float, *, momentum: float = 0.0,
                   momentum_type: str = "classical", rho: float = 0.9, beta_1: float = 0.9,
                   beta_2: float = 0.999, epsilon: float = 1e-7, fused: bool | None = None) -> Optimizer:
    """Build the optimizer called `solver` ("sgd", "rmsprop", "adam"; "lbfgs" gets an inert one).

    fused: the compiled one-pass update (None: when Numba is installed), else the NumPy reference.
    """
    if solver == "sgd":
        return SGD(learning_rate, momentum, momentum_type, fused)
    if solver == "rmsprop":
        return RMSprop(learning_rate, rho, epsilon, fused)
    if solver == "adam":
        return Adam(learning_rate, beta_1, beta_2, epsilon, fused)
    if solver == "lbfgs":  # L-BFGS-B takes its own steps (mnistlab.mlp.lbfgs); nothing to update
        return Optimizer(learning_rate)
    raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
