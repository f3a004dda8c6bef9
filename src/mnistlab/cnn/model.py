"""Build the Keras model a `CNNConfig` describes, with stable layer names for the insight tools.

Layer names: conv1, pool1, conv2, pool2, conv3, flatten, dense1, output (see config.layer_names);
the input is "input" with shape (28, 28, 1), pixel values scaled to [0, 1] by `to_model_input`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnistlab.cnn.backend import import_keras
from mnistlab.cnn.config import IMAGE_SHAPE, CNNConfig, LayerSpec, layer_names
from mnistlab.errors import ConfigError


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) or (n, 28, 28, 1) -> float32 (n, 28, 28, 1) in [0, 1].

    Raises ConfigError for any other shape, naming the shape given and the one expected.
    """
    images = np.asarray(images)
    if images.ndim == 2 and images.shape == IMAGE_SHAPE[:2]:
        raise ConfigError(f"got a single image of shape {images.shape}; pass a batch of shape (n, 28, 28), "
                          f"e.g. images[None]")
    if images.ndim == 3 and images.shape[1:] == IMAGE_SHAPE[:2]:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise ConfigError(f"images must have shape (n, 28, 28) or (n, 28, 28, 1), got {images.shape}; "
                          f"reshape flat 784-pixel rows with images.reshape(-1, 28, 28)")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    images = images.astype(np.float32)
    if not np.all(np.isfinite(images)):
        raise ConfigError("images contain NaN or infinite values; clean them before predicting")
    return images


BN_MOMENTUM = 0.99  # Keras' default for the moving averages of batch norm
BN_SETTLE = 10.0  # time constants: by the last step the averages keep e^-10 of their start


def batchnorm_momentum(planned_steps: int | None) -> float:
    """Keras' 0.99, or less for a training of under BN_SETTLE / (1 - 0.99) = 1,000 steps: 1 - 10 / steps.

    The model predicts with moving averages that start at mean 0 and variance 1 and move by
    (1 - momentum) per step; at 0.99 they need about 1,000 steps to forget that start. A 2-epoch
    run of the fast preset on 12,000 images (188 steps) scored 13.6% on the test set after 96.6%
    on its own training batches, and was called completed. Trainings of 1,000 steps and more
    (every preset on the full data) keep 0.99, bit for bit.
    """
    if planned_steps is None or planned_steps * (1.0 - BN_MOMENTUM) >= BN_SETTLE:
        return BN_MOMENTUM
    return max(0.0, 1.0 - BN_SETTLE / planned_steps)


def _keras_layer(keras: Any, spec: LayerSpec, name: str, l2: float, bn_momentum: float = BN_MOMENTUM) -> Any:
    layers = keras.layers
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    if spec.kind == "conv":
        return layers.Conv2D(spec.size, spec.kernel, strides=spec.stride, padding=spec.padding,
                             activation=spec.activation, kernel_regularizer=regularizer, name=name)
    if spec.kind in ("maxpool", "avgpool"):
        pool = layers.MaxPooling2D if spec.kind == "maxpool" else layers.AveragePooling2D
        return pool(spec.kernel, strides=spec.stride or spec.kernel, padding=spec.padding, name=name)
    if spec.kind == "flatten":
        return layers.Flatten(name=name)
    if spec.kind == "dense":
        return layers.Dense(spec.size, activation=spec.activation, kernel_regularizer=regularizer, name=name)
    if spec.kind == "dropout":
        return layers.Dropout(spec.rate, name=name)
    return layers.BatchNormalization(momentum=bn_momentum, name=name)


def build_model(config: CNNConfig | None = None, keras: Any = None, planned_steps: int | None = None) -> Any:
    """A Keras functional model for `config` (default: the seed's CNN), not compiled.

    Input (n, 28, 28, 1) float32 in [0, 1]; output (n, 10) class probabilities (softmax).
    `keras` is the module to use (default: `backend.import_keras()` with the config's backend).
    `planned_steps`, the batches the training will take, sets batch norm's momentum (`batchnorm_momentum`).

    Examples
    --------
    >>> model = build_model(CNNConfig())  # doctest: +SKIP
    >>> [layer.name for layer in model.layers][1:4]  # doctest: +SKIP
    ['conv1', 'pool1', 'conv2']
    """
    config = (config or CNNConfig()).validate()
    if keras is None:
        keras = import_keras(config.backend, device=config.device, threads=config.threads)
    inputs = keras.Input(shape=IMAGE_SHAPE, name="input")
    x, bn_momentum = inputs, batchnorm_momentum(planned_steps)
    for spec, name in zip(config.layers, layer_names(config.layers)):
        x = _keras_layer(keras, spec, name, config.l2, bn_momentum)(x)
    if len(x.shape) != 2:
        x = keras.layers.Flatten(name="flatten" if "flatten" not in layer_names(config.layers) else "flatten_out")(x)
    regularizer = keras.regularizers.L2(config.l2) if config.l2 > 0 else None
    outputs = keras.layers.Dense(config.n_classes, activation="softmax", kernel_regularizer=regularizer,
                                 name="output")(x)
    return keras.Model(inputs, outputs, name="mnistlab_cnn")
