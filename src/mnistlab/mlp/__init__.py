"""The from-scratch NumPy multilayer perceptron (the seed's "MyANN"), fast by design.

Modules: `options` (every option, declared once), `config` (`MLPConfig`, presets),
`activations`, `losses`, `init` (weight initialisers, random generators), `optimizers`,
`network` (forward/backward maths on reused buffers), `reference` (a plain float64 twin the fast
code must match), `dropout`, `metrics`, `targets` (labels to output units, class weights),
`stopping`, `trainer` (the epoch loop, checkpointable), `lbfgs`, `history`, `estimator`
(`MLPClassifier`, with `estimator_data`), `io` (save/load `.npz`).
"""

from mnistlab.mlp.config import MLPConfig

__all__ = ["MLPConfig"]
