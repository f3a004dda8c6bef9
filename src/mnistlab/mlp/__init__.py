"""The from-scratch NumPy multilayer perceptron (the seed's "MyANN"), fast by design.

Modules: `activations`, `losses`, `init` (weight initialisers), `optimizers`, `network`
(forward/backward maths on reused buffers), `reference` (a plain float64 twin the fast code
must match), `trainer` (the epoch loop), `history`, `config`, `estimator` (`MLPClassifier`),
`io` (save/load `.npz`).
"""

from mnistlab.mlp.config import MLPConfig

__all__ = ["MLPConfig"]
