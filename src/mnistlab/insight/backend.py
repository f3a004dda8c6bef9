"""Keras import and the gradient of a model's output with respect to its input, one function per backend.

Everything else in `mnistlab.insight` talks to Keras through `keras.ops`, which every backend
implements. Only automatic differentiation differs between backends, so it lives here behind one
interface: `input_gradient_fn(model, objective)` returns a function that takes a NumPy batch and
returns the per-image objective values and their gradient with respect to the images. PyTorch
uses `torch.autograd.grad`, JAX `jax.value_and_grad` (jit-compiled), TensorFlow a
`tf.GradientTape` inside a `tf.function`; the backend in force is read from `keras.backend.backend()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnistlab.cnn.backend import import_keras as cnn_import_keras
from mnistlab.errors import BackendError

GradientFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""(n, 28, 28, 1) float32 images -> (objective values (n,), gradients (n, 28, 28, 1))."""


def import_keras() -> Any:
    """Import Keras through the CNN area's single door (backend from $KERAS_BACKEND, else the default)."""
    return cnn_import_keras()


def input_gradient_fn(model: Any, objective: Callable[[Any], Any]) -> GradientFn:
    """Build `f(images) -> (values, grads)`: the gradient of `objective(model(images))` w.r.t. images.

    Parameters
    ----------
    model : keras.Model
        Any Keras model (usually a feature extractor) taking (n, 28, 28, 1) images.
    objective : callable
        Maps the model output (a backend tensor) to one value per image, shape (n,),
        written with `keras.ops` so that it runs on every backend. Images must not interact
        (no batch statistics), so the gradient of the sum is each image's own gradient.

    Returns
    -------
    callable
        `f(images)` with images float32 (n, 28, 28, 1), returning float32 NumPy arrays
        `values` (n,) and `grads` (n, 28, 28, 1).
    """
    keras = import_keras()
    backend = keras.backend.backend()
    builders = {"torch": _torch_gradient_fn, "jax": _jax_gradient_fn, "tensorflow": _tensorflow_gradient_fn}
    if backend not in builders:
        raise BackendError(f"input gradients are implemented for the {', '.join(builders)} Keras backends, "
                           f"not {backend!r}; set KERAS_BACKEND to one of them")
    return builders[backend](model, objective)


def _torch_gradient_fn(model: Any, objective: Callable[[Any], Any]) -> GradientFn:
    import torch  # the optional backends load only when their gradient is asked for
    from keras import ops

    def value_and_grad(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = ops.convert_to_tensor(np.asarray(images, dtype=np.float32)).detach().requires_grad_(True)
        with torch.enable_grad():
            values = objective(model(x, training=False))  # (n,)
            (grads,) = torch.autograd.grad(values.sum(), x)
        return values.detach().cpu().numpy(), grads.detach().cpu().numpy()

    return value_and_grad


def _jax_gradient_fn(model: Any, objective: Callable[[Any], Any]) -> GradientFn:
    import jax  # optional backend, loaded only when used

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def total(x: Any, trainable: list, non_trainable: list) -> tuple[Any, Any]:
        outputs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        values = objective(outputs)  # (n,)
        return values.sum(), values

    step = jax.jit(jax.value_and_grad(total, has_aux=True))

    def value_and_grad(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        (_, values), grads = step(np.asarray(images, dtype=np.float32), trainable, non_trainable)
        return np.asarray(values), np.asarray(grads)

    return value_and_grad


def _tensorflow_gradient_fn(model: Any, objective: Callable[[Any], Any]) -> GradientFn:
    import tensorflow as tf  # optional backend, loaded only when used

    @tf.function(reduce_retracing=True)
    def step(x: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            values = objective(model(x, training=False))  # (n,)
            total = tf.reduce_sum(values)
        return values, tape.gradient(total, x)

    def value_and_grad(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, grads = step(tf.convert_to_tensor(np.asarray(images, dtype=np.float32)))
        return values.numpy(), grads.numpy()

    return value_and_grad
