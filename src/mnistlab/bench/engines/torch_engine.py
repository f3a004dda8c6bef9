"""A plain PyTorch training loop as a benchmark engine (no Keras in between)."""

from __future__ import annotations

import time
from typing import Any

from mnistlab.bench.engines.base import BenchData, DenseEngine, TrainJob, TrainOutcome, blas_threads, module_available


class TorchEngine(DenseEngine):
    """`torch.nn.Sequential` of Linear/Sigmoid layers, `torch.optim.SGD(momentum=...)`, cross-entropy.

    torch's SGD keeps ``v = momentum v + grad; w -= lr v``, the same trajectory as
    ``v = momentum v - lr grad`` at a constant learning rate. Weights start Glorot-uniform,
    biases zero, as in Keras. Batches are index-gathered from a per-epoch permutation.
    """

    name = "torch"

    def available(self) -> tuple[bool, str]:
        """Available when torch imports."""
        return module_available("torch", "cnn")

    def setup(self, threads: int) -> None:
        """Import torch and bound its intra-op pool (inter-op to 1: a sequential net has no parallel ops)."""
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set once in this process; the intra-op pool is what matters

    def threads_used(self) -> dict[str, Any]:
        """torch's intra-op and inter-op pool sizes and the BLAS pool."""
        import torch

        return {"torch_intra_op": torch.get_num_threads(), "torch_inter_op": torch.get_num_interop_threads(),
                "blas": blas_threads()}

    def train(self, data: BenchData, job: TrainJob) -> TrainOutcome:
        """Train a fresh net for `job.epochs` epochs; time each epoch; return the test accuracy."""
        import torch
        from torch import nn

        torch.manual_seed(job.random_state)
        generator = torch.Generator().manual_seed(job.random_state)
        sizes = job.layer_sizes(data.X_train.shape[1], data.n_classes)
        act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[job.activation]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = nn.Linear(n_in, n_out)
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(act())
        model = nn.Sequential(*layers)
        optimizer = torch.optim.SGD(model.parameters(), lr=job.learning_rate, momentum=job.momentum)
        loss_fn = nn.CrossEntropyLoss()
        X = torch.from_numpy(data.X_train)
        y = torch.from_numpy(data.y_train.astype("int64"))
        n = X.shape[0]
        epoch_seconds = []
        for _ in range(job.epochs):
            start = time.perf_counter()
            order = torch.randperm(n, generator=generator)
            for i in range(0, n, job.batch_size):
                idx = order[i:i + job.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), y[idx])
                loss.backward()
                optimizer.step()
            epoch_seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            pred = model(torch.from_numpy(data.X_test)).argmax(dim=1).numpy()
        return TrainOutcome(epoch_seconds, float((pred == data.y_test).mean()))
