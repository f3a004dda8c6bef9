"""Benchmarks: the same dense net, CNN or training recipe run by several engines, measured side by side.

Each engine (mnistlab's NumPy MLP, Keras on each backend, a plain PyTorch loop, scikit-learn)
is an adapter behind one interface (`engines.base.Engine`) that takes any job of `jobs`
(`bench mlp`, `bench cnn`, `bench tta`) or says why it cannot; it runs in its own worker
subprocess (`python -m mnistlab.bench.worker`) so that thread limits and the Keras backend
are fixed before any framework is imported. `recipes` declares the training recipes of
`bench tta` once, as data.
"""
