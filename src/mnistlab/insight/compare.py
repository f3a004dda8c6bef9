"""Do two trainings learn the same filters (in the same order)? Match maps between two CNNs.

Seed article I asks whether two independent trainings of one architecture produce the same
filters in the same order. For a layer of each model we correlate every map of A with every map
of B, by their activations over the test set (all images and positions) or by their OIPs, and
pair them one-to-one with the Hungarian algorithm (`scipy.optimize.linear_sum_assignment`).
OIPs are compared by their amplitude spectra (translation-invariant), and A's OIPs are also
matched against A's own OIPs from other noise, the best any OIP matching can do.

A high matched similarity alone proves little: choosing the best of 64 partners inflates it. So
every number comes with two baselines: the same matching against an *untrained* network of the
same architecture, and A's maps paired with B's at random ("shuffled").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from mnistlab.cnn.train import train
from mnistlab.errors import ConfigError
from mnistlab.insight.backend import import_keras
from mnistlab.insight.extract import LayerRef, get_layer, layers_of_kind, predict_layers
from mnistlab.insight.oip import OIPConfig, compute_oips


def correlation_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of `a` (n, p) with every column of `b` (n, q): (p, q).

    A constant column (a dead map) has correlation 0 with everything.
    """
    if a.shape[0] != b.shape[0]:
        raise ConfigError(f"cannot correlate {a.shape[0]} samples with {b.shape[0]}; use the same images for both")
    za = _standardise(np.asarray(a, dtype=np.float64))
    zb = _standardise(np.asarray(b, dtype=np.float64))
    return za.T @ zb / a.shape[0]


def _standardise(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    std = centred.std(axis=0)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 1e-12)


def activation_similarity(acts_a: np.ndarray, acts_b: np.ndarray) -> np.ndarray:
    """Correlation of maps over all images and positions: acts (n, h, w, c_a), (n, h, w, c_b) -> (c_a, c_b)."""
    return correlation_matrix(acts_a.reshape(-1, acts_a.shape[-1]), acts_b.reshape(-1, acts_b.shape[-1]))


def image_similarity(images_a: np.ndarray, images_b: np.ndarray) -> np.ndarray:
    """Correlation of images (e.g. OIPs) over pixels: (m_a, 28, 28), (m_b, 28, 28) -> (m_a, m_b)."""
    return correlation_matrix(images_a.reshape(len(images_a), -1).T, images_b.reshape(len(images_b), -1).T)


def oip_similarity(images_a: np.ndarray, images_b: np.ndarray) -> np.ndarray:
    """Translation-invariant similarity of OIPs: correlation of their 2-D amplitude spectra, (m_a, m_b).

    A map's mean activation does not care where its pattern sits, so two ascents for the same
    map (from different noise) give shifted stripes whose pixels barely correlate; the amplitude
    of the Fourier transform ignores the shift and keeps orientation and stroke spacing.
    """
    def spectrum(images: np.ndarray) -> np.ndarray:
        centred = images - images.mean(axis=(1, 2), keepdims=True)
        return np.abs(np.fft.fft2(centred))  # (m, 28, 28)

    return image_similarity(spectrum(images_a), spectrum(images_b))


def match_maps(similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair maps one-to-one maximising total similarity (Hungarian algorithm).

    Parameters
    ----------
    similarity : ndarray (p, q)
        similarity[i, j] between map i of A and map j of B.

    Returns
    -------
    partner : ndarray (min(p, q),)
        partner[k] is B's map matched to A's map `rows[k]` (rows are 0..p-1 when p <= q).
    matched : ndarray (min(p, q),)
        The similarity of each matched pair.
    """
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return cols, similarity[rows, cols]


def shuffled_similarities(similarity: np.ndarray, rng: np.random.Generator, n_permutations: int = 20) -> np.ndarray:
    """Similarities of random one-to-one pairings (the "shuffled maps" baseline): (n_permutations * p,)."""
    p, q = similarity.shape
    rows = np.arange(min(p, q))
    return np.concatenate([similarity[rows, rng.permutation(q)[: len(rows)]] for _ in range(n_permutations)])


def untrained_like(model: Any, random_state: int = 0) -> Any:
    """A copy of `model`'s architecture with fresh Keras-default weights (Glorot-uniform kernels, zero biases).

    Weights are drawn from NumPy's generator seeded by `random_state`; Keras' global seed is untouched.
    """
    keras = import_keras()
    rng = np.random.default_rng(random_state)
    clone = keras.models.clone_model(model)
    for layer in clone.layers:
        weights = layer.get_weights()
        if not weights or not hasattr(layer, "kernel"):
            continue
        kernel = weights[0]
        receptive = int(np.prod(kernel.shape[:-2])) if kernel.ndim > 2 else 1
        fan_in, fan_out = kernel.shape[-2] * receptive, kernel.shape[-1] * receptive
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        fresh = [rng.uniform(-limit, limit, kernel.shape).astype(np.float32)]
        fresh += [np.zeros_like(w) for w in weights[1:]]
        layer.set_weights(fresh)
    return clone


@dataclass
class LayerMatch:
    """Matching of one layer's maps between model A and model B, with baselines."""

    layer: str
    measure: str                   # "activation" or "oip"
    partner: np.ndarray            # (c,) B's map matched to each of A's maps
    matched: np.ndarray            # (c,) similarity of each matched pair (A vs B)
    baseline_untrained: np.ndarray  # (c,) same matching of A against an untrained network
    shuffled: np.ndarray           # A vs B at random pairings
    same_position: float           # fraction of A's maps matched to B's map with the same index
    valid: np.ndarray | None = None  # (c,) pairs where both maps are alive (activation) or both OIPs converged

    def summary(self) -> dict[str, Any]:
        """JSON-ready distribution summaries (median, quartiles, mean) of each similarity set."""
        return {
            "layer": self.layer,
            "measure": self.measure,
            "n_maps": len(self.matched),
            "matched": _describe(self.matched),
            "baseline_untrained": _describe(self.baseline_untrained),
            "shuffled": _describe(self.shuffled),
            "fraction_above_untrained_p90": float((self.matched > np.percentile(self.baseline_untrained, 90)).mean()),
            "same_position": round(self.same_position, 4),
            "n_valid_pairs": int(self.valid.sum()) if self.valid is not None else len(self.matched),
            "matched_valid": _describe(self.matched[self.valid]) if self.valid is not None and self.valid.any() else None,
            "partner": self.partner.tolist(),
            "matched_values": np.round(self.matched, 4).tolist(),
        }


def _describe(values: np.ndarray) -> dict[str, float] | None:
    if len(values) == 0:
        return None
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"mean": round(float(values.mean()), 4), "q1": round(float(q1), 4),
            "median": round(float(median), 4), "q3": round(float(q3), 4)}


def match_layer(similarity_ab: np.ndarray, similarity_a_untrained: np.ndarray, layer: str, measure: str,
                rng: np.random.Generator, valid_a: np.ndarray | None = None,
                valid_b: np.ndarray | None = None) -> LayerMatch:
    """Build a LayerMatch from the A-B and A-untrained similarity matrices (c, c).

    `valid_a`, `valid_b` (c,) flag maps worth comparing (alive, or OIP converged); a matched pair
    counts as valid when both of its maps are.
    """
    partner, matched = match_maps(similarity_ab)
    _, baseline = match_maps(similarity_a_untrained)
    same = float((partner == np.arange(len(partner))).mean())
    valid = None
    if valid_a is not None and valid_b is not None:
        valid = np.asarray(valid_a)[: len(partner)] & np.asarray(valid_b)[partner]
    return LayerMatch(layer, measure, partner, matched, baseline, shuffled_similarities(similarity_ab, rng), same,
                      valid)


def _alive(acts: np.ndarray) -> np.ndarray:
    """(c,) True for maps whose activation varies over the images and positions (not dead)."""
    return acts.reshape(-1, acts.shape[-1]).std(axis=0) > 1e-12


@dataclass
class Comparison:
    """Run-to-run comparison: activation matching per conv layer, OIP matching for one layer."""

    activation: list[LayerMatch]
    oip: LayerMatch | None = None
    oip_self: LayerMatch | None = None  # A against itself from other noise: the ceiling for OIP matching
    oip_images: dict[str, np.ndarray] = field(default_factory=dict)  # "a", "b", "untrained" -> (c, 28, 28)
    n_images: int = 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready dict of every layer's matching."""
        return {"n_images": self.n_images,
                "activation": [m.summary() for m in self.activation],
                "oip": self.oip.summary() if self.oip else None,
                "oip_self": self.oip_self.summary() if self.oip_self else None}


def compare_models(model_a: Any, model_b: Any, images: np.ndarray, *, layers: Sequence[LayerRef] | None = None,
                   oip_layer: LayerRef | None = None, oip_config: Any = None, random_state: int = 0,
                   on_step: Callable[[int, int], None] | None = None) -> Comparison:
    """Match the maps of two CNNs of the same architecture, against an untrained baseline.

    Parameters
    ----------
    model_a, model_b : keras.Model
        Two trainings of one architecture (layer names and map counts must agree).
    images : ndarray (n, 28, 28)
        Test images over which activations are correlated.
    layers : sequence of str or int, optional
        Layers to match by activation; default every Conv2D layer.
    oip_layer : str or int, optional
        Also match this layer's maps by their OIPs (`oip_similarity`), one batch per model, each
        from its own starting noise (seeds random_state, +1, +2); A is run a second time from
        other noise (+3) to measure the ceiling: how well OIPs identify the *same* map. None skips OIPs.
    oip_config : OIPConfig, optional
    random_state : int
        Seeds the untrained network and the shuffled pairings.
    on_step : callable, optional
        `on_step(done, total)` after each OIP gradient step, counted over the four OIP runs.

    Returns
    -------
    Comparison
    """
    names = [get_layer(model_a, ref).name for ref in layers] if layers else \
        [layer.name for layer in layers_of_kind(model_a, ("conv",))]
    for name in names:
        _check_same_shape(model_a, model_b, name)
    rng = np.random.default_rng(random_state)
    untrained = untrained_like(model_a, random_state)
    acts_a = predict_layers(model_a, names, images)
    acts_b = predict_layers(model_b, names, images)
    acts_u = predict_layers(untrained, names, images)
    activation = [match_layer(activation_similarity(a, b), activation_similarity(a, u), name, "activation", rng,
                              _alive(a), _alive(b))
                  for name, a, b, u in zip(names, acts_a, acts_b, acts_u)]
    comparison = Comparison(activation=activation, n_images=len(images))
    if oip_layer is not None:
        name = get_layer(model_a, oip_layer).name
        _check_same_shape(model_a, model_b, name)
        base = oip_config or OIPConfig()
        # Each model starts from its own noise: with shared noise, maps the ascent barely moves
        # would correlate through the noise they kept, not through what they detect.
        runs = (("a", model_a), ("b", model_b), ("untrained", untrained), ("a_again", model_a))
        steps = base.steps * len(base.starts)

        def step_of(k: int) -> Callable[[int, int], None] | None:
            if on_step is None:
                return None
            return lambda done, total: on_step(k * steps + done, len(runs) * steps)

        results = {key: compute_oips(model, name, config=replace(base, random_state=base.random_state + k),
                                     on_step=step_of(k))
                   for k, (key, model) in enumerate(runs)}
        oips = {key: result.images for key, result in results.items()}
        baseline = oip_similarity(oips["a"], oips["untrained"])
        comparison.oip = match_layer(oip_similarity(oips["a"], oips["b"]), baseline, name, "oip", rng,
                                     results["a"].converged, results["b"].converged)
        comparison.oip_self = match_layer(oip_similarity(oips["a"], oips["a_again"]), baseline, name, "oip-self",
                                          rng, results["a"].converged, results["a_again"].converged)
        comparison.oip_images = oips
    return comparison


def train_twice(config: Any, images: np.ndarray, labels: np.ndarray, seeds: Sequence[int] = (1, 2)) -> list[Any]:
    """Train the architecture of `config` (a CNNConfig) once per seed with the CNN area's `train`; the models.

    Examples
    --------
    >>> a, b = train_twice(CNNConfig(epochs=1), ds.images, ds.labels)   # doctest: +SKIP
    >>> compare_models(a, b, test.images[:1000], oip_layer="conv3")      # doctest: +SKIP
    """
    return [train(replace(config, seed=seed), images, labels).model for seed in seeds]


def _check_same_shape(model_a: Any, model_b: Any, name: str) -> None:
    shape_a = tuple(get_layer(model_a, name).output.shape[1:])
    shape_b = tuple(get_layer(model_b, name).output.shape[1:])
    if shape_a != shape_b:
        raise ConfigError(f"layer {name!r} outputs {shape_a} in model A but {shape_b} in model B; "
                          "compare two trainings of the same architecture")


def compare_many(models: Sequence[Any], images: np.ndarray, *, layers: Sequence[LayerRef] | None = None,
                 random_state: int = 0) -> dict[str, Any]:
    """Do N trainings learn the same maps? Activation matching of every pair, summarised per layer.

    The question of `compare_models` over N seeds instead of one pair: for each layer, the median
    matched correlation of each of the N(N-1)/2 pairs, their mean ± sd, and the same for each model
    against an untrained network (the baseline). OIP matching stays with the pairwise comparison.
    """
    if len(models) < 2:
        raise ConfigError(f"compare needs at least two models, got {len(models)}")
    names = [get_layer(models[0], ref).name for ref in layers] if layers else \
        [layer.name for layer in layers_of_kind(models[0], ("conv",))]
    for other in models[1:]:
        for name in names:
            _check_same_shape(models[0], other, name)
    untrained = predict_layers(untrained_like(models[0], random_state), names, images)
    acts = [predict_layers(model, names, images) for model in models]  # [model][layer] (n, h, w, c)
    pairs = [(i, j) for i in range(len(models)) for j in range(i + 1, len(models))]
    summary = []
    for k, name in enumerate(names):
        pair = [float(np.median(match_maps(activation_similarity(acts[i][k], acts[j][k]))[1])) for i, j in pairs]
        base = [float(np.median(match_maps(activation_similarity(a[k], untrained[k]))[1])) for a in acts]
        summary.append({"layer": name, "pair_medians": [round(p, 4) for p in pair],
                        "mean": round(float(np.mean(pair)), 4), "sd": round(float(np.std(pair, ddof=1)), 4)
                        if len(pair) > 1 else 0.0, "untrained_mean": round(float(np.mean(base)), 4),
                        "untrained_sd": round(float(np.std(base, ddof=1)), 4)})
    return {"n_models": len(models), "n_images": len(images), "pairs": pairs, "layers": summary}
