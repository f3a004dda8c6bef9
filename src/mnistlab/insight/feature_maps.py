"""What the CNN sees at each layer: the feature maps of conv and pooling layers, and the first kernels.

Seed article IV: run a test image through the network and look at the output of every map of
every convolutional and pooling layer. One forward pass through a feature extractor returns
all of them at once.

Example
-------
>>> maps = feature_maps(model, test_images[:1])            # doctest: +SKIP
>>> {name: m.shape for name, m in maps.items()}             # doctest: +SKIP
{'conv1': (1, 26, 26, 32), 'pool1': (1, 13, 13, 32), ...}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnistlab.errors import ConfigError
from mnistlab.insight.extract import LayerRef, check_cnn, get_layer, layer_kind, layers_of_kind, predict_layers


def feature_maps(model: Any, images: np.ndarray, layers: Sequence[LayerRef] | None = None) -> dict[str, np.ndarray]:
    """Activations of every map of the chosen layers for `images`.

    Parameters
    ----------
    model : keras.Model
        A trained (or untrained) CNN.
    images : ndarray, shape (n, 28, 28)
        uint8 images (or floats in [0, 1]).
    layers : sequence of str or int, optional
        Layer names or indices; default every Conv2D and pooling layer.

    Returns
    -------
    dict
        Layer name -> float32 array (n, height, width, n_maps), in network order.
    """
    check_cnn(model)
    if layers is None:
        chosen = layers_of_kind(model, ("conv", "pool"))
    else:
        chosen = [get_layer(model, ref) for ref in layers]
    for layer in chosen:
        if len(layer.output.shape) != 4:
            raise ConfigError(
                f"layer {layer.name!r} has no 2-D maps (output shape {tuple(layer.output.shape)}); "
                f"choose a conv or pooling layer: {', '.join(l.name for l in layers_of_kind(model))}"
            )
    outputs = predict_layers(model, [layer.name for layer in chosen], images)
    return {layer.name: out for layer, out in zip(chosen, outputs)}


def first_layer_kernels(model: Any) -> np.ndarray:
    """The first Conv2D layer's kernels as images, float32 (n_maps, kernel_h, kernel_w).

    Input channels are averaged (MNIST images have one channel, so nothing is lost there).
    """
    check_cnn(model)
    conv = next(layer for layer in model.layers if layer_kind(layer) == "conv")
    kernel = np.asarray(conv.get_weights()[0], dtype=np.float32)  # (kh, kw, in_channels, n_maps)
    return np.transpose(kernel.mean(axis=2), (2, 0, 1))


def map_statistics(maps: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per layer: map shape, and for each map its max activation and fraction of active (>0) units.

    Parameters
    ----------
    maps : dict
        The output of `feature_maps`, layer name -> (n, h, w, c).

    Returns
    -------
    dict
        Layer name -> {"shape": [h, w, c], "max": [c floats], "active_fraction": [c floats],
        "dead_maps": count of maps that are zero everywhere for these images}.
    """
    stats = {}
    for name, values in maps.items():
        flat = values.reshape(-1, values.shape[-1])  # (n*h*w, c)
        peak = flat.max(axis=0)
        stats[name] = {
            "shape": list(values.shape[1:]),
            "max": peak.round(4).tolist(),
            "active_fraction": (flat > 0).mean(axis=0).round(4).tolist(),
            "dead_maps": int((peak <= 0).sum()),
        }
    return stats
