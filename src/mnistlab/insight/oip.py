"""OIPs: the input patterns that make a map (or a dense unit) fire most, by gradient ascent on the input.

Seed articles VII-XI. Start from a noisy grey image, and repeatedly step the *image* along the
normalised gradient of the target's mean activation (the weights stay fixed). Where the start is
plain pixel noise, some maps never fire (ReLU is zero everywhere, so is the gradient) and the
ascent finds nothing; the seed's article X fills those gaps by starting again from noise with
longer wavelengths ("low-frequency" noise). `OIPConfig.starts` lists the starts to try in order;
with `strategy="fill"` a later start is only tried for the maps that have not converged yet.

All maps of a layer are optimised together as one batch: image i targets map `maps[i]`.

Example
-------
>>> result = compute_oips(model, "conv3")                        # doctest: +SKIP
>>> result.images.shape, result.converged.mean()                 # doctest: +SKIP
((64, 28, 28), 0.97)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter, zoom

from mnistlab.errors import ConfigError
from mnistlab.insight.backend import GradientFn, import_keras, input_gradient_fn
from mnistlab.insight.extract import (LayerRef, check_cnn, check_map_index, get_layer, layer_kind, model_input, n_units,
                                      predict_layers)

STRATEGIES = ("fill", "best")


@dataclass
class OIPConfig:
    """Settings of the gradient ascent (pixel values live in [0, 1], like the CNN's input).

    Parameters
    ----------
    steps : int
        Gradient steps per start.
    step_size : float
        RMS pixel change of one step (the gradient is normalised to unit RMS per image).
    starts : tuple of (wavelength, amplitude) or "WAVELENGTH:AMPLITUDE" texts
        Starting noise to try, in order: wavelength 1 is pixel noise, larger wavelengths are
        smooth (low-frequency) noise with features about that many pixels wide; amplitude is the
        noise's standard deviation around a grey of 0.5.
    strategy : {"fill", "best"}
        "fill": try the next start only for maps not converged yet (the seed's gap filling);
        "best": run every start for every map and keep the highest activation.
    l2_decay : float
        Each step shrinks the image towards black by this fraction (keeps patterns sparse).
    blur_sigma, blur_every : float, int
        Gaussian blur of this sigma (pixels) every `blur_every` steps; 0 disables.
    jitter : int
        Random shift of up to this many pixels before each gradient (robust, less noisy OIPs).
    clip : bool
        Keep pixels in [0, 1] after each step.
    min_activation : float
        An OIP counts as converged when its activation reaches this (or the map's reference
        activation on real images, when one is given) ...
    min_change : float
        ... and the image moved at least this far (RMS) from its start: not blank, not the noise.
    random_state : int
        Seed of the starting noise and the jitter.
    """

    steps: int = 60
    step_size: float = 0.05
    starts: tuple[tuple[int, float], ...] = ((1, 0.1), (7, 0.3), (14, 0.5))
    strategy: str = "fill"
    l2_decay: float = 0.0
    blur_sigma: float = 0.0
    blur_every: int = 4
    jitter: int = 0
    clip: bool = True
    min_activation: float = 0.1
    min_change: float = 0.02
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"steps must be at least 1, got {self.steps}")
        if not self.step_size > 0:
            raise ConfigError(f"step_size must be positive, got {self.step_size}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if not self.starts:
            raise ConfigError("starts is empty; give at least one (wavelength, amplitude), e.g. (1, 0.1)")
        self.starts = tuple(parse_start(s) if isinstance(s, str) else (int(s[0]), float(s[1])) for s in self.starts)
        for wavelength, amplitude in self.starts:
            if not 1 <= wavelength <= 28 or amplitude < 0:
                raise ConfigError(f"start ({wavelength}, {amplitude}): wavelength must be 1..28 and amplitude >= 0")
        if not 0 <= self.l2_decay < 1:
            raise ConfigError(f"l2_decay must be in [0, 1), got {self.l2_decay}")
        if self.blur_sigma < 0 or self.blur_every < 1 or self.jitter < 0:
            raise ConfigError("blur_sigma and jitter must be >= 0 and blur_every >= 1")


def parse_start(text: str) -> tuple[int, float]:
    """Parse "WAVELENGTH:AMPLITUDE" (e.g. "7:0.3") into a start for `OIPConfig.starts`."""
    try:
        wavelength, amplitude = text.split(":")
        return int(wavelength), float(amplitude)
    except ValueError:
        raise ConfigError(f"start {text!r} is not WAVELENGTH:AMPLITUDE, e.g. 1:0.1 (pixel noise) or 7:0.3") from None


def initial_images(n: int, wavelength: int, amplitude: float, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """Starting images (n, size, size): grey 0.5 plus noise of the given wavelength and std `amplitude`.

    Wavelength 1 is independent pixel noise; a wavelength w draws noise on a grid of cells w pixels
    apart and interpolates it cubically, so the features are about w pixels wide.
    """
    if wavelength <= 1:
        noise = rng.standard_normal((n, size, size))
    else:
        cells = int(np.ceil(size / wavelength)) + 1
        coarse = rng.standard_normal((n, cells, cells))
        noise = zoom(coarse, (1, wavelength, wavelength), order=3)[:, :size, :size]
        noise /= noise.std(axis=(1, 2), keepdims=True) + 1e-12
    return (0.5 + amplitude * noise).astype(np.float32)


def gradient_ascent(value_and_grad: GradientFn, images: np.ndarray, config: OIPConfig,
                    rng: np.random.Generator, on_step: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run `config.steps` normalised gradient-ascent steps on `images` (n, 28, 28); `on_step()` after each.

    Returns
    -------
    images : ndarray (n, 28, 28)
        The optimised images (a new array).
    history : ndarray (steps + 1, n)
        The objective of each image before each step and after the last one.
    """
    x = np.array(images, dtype=np.float32)
    history = []
    for step in range(config.steps):
        dy, dx = rng.integers(-config.jitter, config.jitter + 1, size=2) if config.jitter else (0, 0)
        shifted = np.roll(x, (dy, dx), axis=(1, 2))
        values, grads = value_and_grad(shifted[..., None])
        grads = np.roll(grads[..., 0], (-dy, -dx), axis=(1, 2))  # (n, 28, 28)
        history.append(values)
        rms = np.sqrt((grads ** 2).mean(axis=(1, 2), keepdims=True))
        x += config.step_size * grads / (rms + 1e-8)
        if config.l2_decay:
            x *= 1.0 - config.l2_decay
        if config.blur_sigma and (step + 1) % config.blur_every == 0:
            x = gaussian_filter(x, sigma=(0, config.blur_sigma, config.blur_sigma)).astype(np.float32)
        if config.clip:
            np.clip(x, 0.0, 1.0, out=x)
        if on_step is not None:
            on_step()
    values, _ = value_and_grad(x[..., None])
    history.append(values)
    return x, np.array(history)


def unit_objective(layer: Any, units: np.ndarray, use_logits: bool) -> Any:
    """The objective `f(output) -> (n,)`: mean activation of map `units[i]` (or unit) for image i.

    With `use_logits` the output is the softmax layer's input and the objective is the class's
    log-probability: it rises only when the class gains on the others (a raw logit can rise with
    every class's logit), and unlike the probability it does not flatten out near 1.
    """
    keras = import_keras()
    ops = keras.ops
    n_out = n_units(layer)
    onehot = np.zeros((len(units), n_out), dtype=np.float32)
    onehot[np.arange(len(units)), units] = 1.0
    select = ops.convert_to_tensor(onehot)
    kernel, bias = (layer.kernel, layer.bias) if use_logits else (None, None)

    def objective(output: Any) -> Any:
        if use_logits:  # output is the softmax layer's input: recompute its logits
            output = ops.log_softmax(ops.matmul(output, kernel) + bias, axis=-1)
        if len(output.shape) == 4:
            output = ops.mean(output, axis=(1, 2))  # (n, c): mean activation of every map
        return ops.sum(output * select, axis=1)

    return objective


@dataclass
class OIPResult:
    """OIPs of some maps (or units) of one layer, and whether each ascent succeeded."""

    layer: str
    maps: np.ndarray               # (m,) map/unit index each OIP targets
    images: np.ndarray             # (m, 28, 28) the OIPs, pixels in [0, 1] when clipped
    activation: np.ndarray         # (m,) activation the OIP reaches
    start_activation: np.ndarray   # (m,) activation of its starting noise
    threshold: np.ndarray          # (m,) activation needed to count as converged
    change: np.ndarray             # (m,) RMS pixel change from the start
    converged: np.ndarray          # (m,) bool: threshold reached and image moved
    start_used: list[str]          # (m,) "wavelength:amplitude" of the start each OIP came from
    seconds: float                 # wall-clock seconds of the ascent
    cpu_seconds: float             # CPU seconds of this process (all threads) during the ascent
    config: OIPConfig = field(repr=False, default_factory=OIPConfig)

    def summary(self) -> dict[str, Any]:
        """JSON-ready dict: per map its activation, convergence and start; totals."""
        return {
            "layer": self.layer,
            "n_maps": len(self.maps),
            "n_converged": int(self.converged.sum()),
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "maps": [
                {"map": int(m), "activation": round(float(a), 5), "start_activation": round(float(s), 5),
                 "threshold": round(float(t), 5), "change": round(float(c), 5), "converged": bool(ok), "start": st}
                for m, a, s, t, c, ok, st in zip(self.maps, self.activation, self.start_activation,
                                                 self.threshold, self.change, self.converged, self.start_used)
            ],
        }


def compute_oips(model: Any, layer: LayerRef, maps: Sequence[int] | None = None, config: OIPConfig | None = None,
                 references: np.ndarray | None = None,
                 on_step: Callable[[int, int], None] | None = None) -> OIPResult:
    """Find an OIP for each of `maps` (default all) of `layer` by gradient ascent, as one batch.

    Parameters
    ----------
    model : keras.Model
        A CNN.
    layer : str or int
        A conv or pooling layer (maps) or a dense layer (units). For the softmax output layer
        the ascent maximises the class's log-probability and `activation` reports the
        probability (converged: at least max(min_activation, 0.5)).
    maps : sequence of int, optional
        Map/unit indices; default every one.
    config : OIPConfig, optional
    references : ndarray (n_units,), optional
        A typical strong activation of each map on real images (see `reference_activations`);
        when given, an OIP must reach it to count as converged.
    on_step : callable, optional
        Called as `on_step(done, total)` after each gradient step (for a progress bar).

    Returns
    -------
    OIPResult
    """
    keras = import_keras()
    config = config or OIPConfig()
    check_cnn(model)
    target = get_layer(model, layer)
    kind = layer_kind(target)
    if kind not in ("conv", "pool", "dense"):
        raise ConfigError(f"layer {target.name!r} is a {type(target).__name__}; choose a conv, pooling or dense layer")
    units = np.arange(n_units(target)) if maps is None else np.array([check_map_index(target, m) for m in maps])
    use_logits = kind == "dense" and getattr(target.activation, "__name__", "") == "softmax"
    extractor = keras.Model(inputs=model_input(model), outputs=target.input if use_logits else target.output)
    floor = np.full(len(units), max(config.min_activation, 0.5) if use_logits else config.min_activation,
                    dtype=np.float32)
    threshold = floor if references is None else np.maximum(floor, np.asarray(references, dtype=np.float32)[units])

    rng = np.random.default_rng(config.random_state)
    best_x = np.zeros((len(units), 28, 28), dtype=np.float32)
    best_value = np.full(len(units), -np.inf, dtype=np.float32)
    start_value = np.zeros(len(units), dtype=np.float32)
    change = np.zeros(len(units), dtype=np.float32)
    start_used = [""] * len(units)
    done = np.zeros(len(units), dtype=bool)
    began, began_cpu = time.perf_counter(), time.process_time()
    total_steps, steps_done = config.steps * len(config.starts), 0

    def step_done() -> None:
        nonlocal steps_done
        steps_done += 1
        if on_step is not None:
            on_step(steps_done, total_steps)

    for wavelength, amplitude in config.starts:
        todo = np.flatnonzero(~done) if config.strategy == "fill" else np.arange(len(units))
        if len(todo) == 0:
            break
        grad_fn = input_gradient_fn(extractor, unit_objective(target, units[todo], use_logits))
        x0 = initial_images(len(todo), wavelength, amplitude, rng)
        x, history = gradient_ascent(grad_fn, x0, config, rng, on_step=step_done)
        if use_logits:
            history = np.exp(history)  # log-probability -> probability
        moved = np.sqrt(((x - x0) ** 2).mean(axis=(1, 2)))
        better = history[-1] > best_value[todo]
        for j in np.flatnonzero(better):
            i = todo[j]
            best_x[i], best_value[i], start_value[i], change[i] = x[j], history[-1, j], history[0, j], moved[j]
            start_used[i] = f"{wavelength}:{amplitude:g}"
        done = (best_value >= threshold) & (change >= config.min_change)
    return OIPResult(layer=target.name, maps=units, images=best_x, activation=best_value,
                     start_activation=start_value, threshold=threshold, change=change, converged=done,
                     start_used=start_used, seconds=time.perf_counter() - began,
                     cpu_seconds=time.process_time() - began_cpu, config=config)


def reference_activations(model: Any, layer: LayerRef, images: np.ndarray, percentile: float = 99) -> np.ndarray:
    """Per map/unit of `layer`: a percentile over `images` (n, 28, 28) of its mean activation, (n_units,).

    The 99th percentile is a strong activation real images reach; the 100th (the maximum) is 0
    for a ReLU map that no image activates (a "dead" map, for which no OIP can be found).
    """
    (acts,) = predict_layers(model, [get_layer(model, layer).name], images)
    per_image = acts.mean(axis=(1, 2)) if acts.ndim == 4 else acts  # (n, c)
    return np.percentile(per_image, percentile, axis=0).astype(np.float32)
