"""Benchmarks: the same dense net or CNN trained by several engines, measured side by side.

Each engine (mnistlab's NumPy MLP, Keras on each backend, a plain PyTorch loop, scikit-learn)
is an adapter behind one interface (`engines.base.Engine`); it runs in its own worker
subprocess (`python -m mnistlab.bench.worker`) so that thread limits and the Keras backend
are fixed before any framework is imported.
"""
