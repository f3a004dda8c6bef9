"""mnistlab: a workbench for learning, measuring and looking inside neural networks on MNIST-like images.

The NumPy MLP and the data layer load with the core install; Keras, PyTorch and JAX are
optional extras imported only by the functions that need them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["MLPClassifier", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import mnistlab` stays light and fast.
    if name == "MLPClassifier":
        from mnistlab.mlp.estimator import MLPClassifier

        return MLPClassifier
    raise AttributeError(f"module 'mnistlab' has no attribute {name!r}")
