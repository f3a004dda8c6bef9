"""A plain PyTorch training loop as a benchmark engine (no Keras in between): dense nets, convnets, recipes."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from mnistlab.bench.engines.base import (
    BenchData, JobDispatch, TrainOutcome, blas_threads, cnn_batches, module_available, train_to_target,
)
from mnistlab.bench.jobs import CnnJob, TrainJob, TtaJob
from mnistlab.bench.recipes import Recipe, learning_rate_at
from mnistlab.data.augment import flip_images, shift_images


class TorchEngine(JobDispatch):
    """`torch.nn.Sequential` models, `torch.optim`, index-gathered batches from a per-epoch permutation.

    `bench mlp`: Linear/Sigmoid layers, `SGD(momentum=...)` (torch keeps ``v = momentum v + grad;
    w -= lr v``, the same trajectory as ``v = momentum v - lr grad`` at a constant learning rate),
    weights Glorot-uniform, biases zero, as in Keras. `bench cnn`: the seed's convnet in NCHW.
    `bench tta`: the recipe's layers and initialiser, `Adam` (epsilon added to sqrt(v) after bias
    correction, where Keras adds it before: equal up to that), the schedule of
    `recipes.learning_rate_at` through `LambdaLR` stepped per batch, `label_smoothing` of
    `CrossEntropyLoss`, batch norm with Keras' defaults (momentum 0.99 there is 0.01 here, eps 1e-3).
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

    def _train_dense(self, data: BenchData, job: TrainJob) -> TrainOutcome:
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

    def _time_cnn(self, data: BenchData, job: CnnJob) -> TrainOutcome:
        """Warm up on a few batches, then time `n_batches` SGD steps of the seed's convnet."""
        import torch
        from torch import nn

        torch.manual_seed(job.random_state)
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(64 * 3 * 3, 64), nn.ReLU(), nn.Linear(64, 10),
        )
        optimizer = torch.optim.SGD(model.parameters(), lr=job.learning_rate, momentum=job.momentum)
        loss_fn = nn.CrossEntropyLoss()
        x_warm, y_warm, x, y = cnn_batches(data, job)

        def steps(images: Any, labels: Any) -> float:
            images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
            labels = torch.from_numpy(labels)
            start = time.perf_counter()
            for i in range(0, len(labels), job.batch_size):
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(images[i:i + job.batch_size]), labels[i:i + job.batch_size]).backward()
                optimizer.step()
            return time.perf_counter() - start

        warmup = steps(x_warm, y_warm)
        return TrainOutcome([steps(x, y)], None, measured_warmup=warmup)

    def _train_to_target(self, data: BenchData, job: TtaJob) -> TrainOutcome:
        import torch
        from torch import nn

        recipe = job.recipe
        torch.manual_seed(job.random_state)
        generator = torch.Generator().manual_seed(job.random_state)
        rng = np.random.default_rng(job.random_state)
        model = _recipe_model(recipe, data.X_train.shape[1], data.n_classes)
        shape = (-1, 28, 28) if recipe.is_convnet else (-1, data.X_train.shape[1])
        x, y = data.X_train.reshape(shape), torch.from_numpy(data.y_train.astype("int64"))
        x_test = _tensor(data.X_test.reshape(shape))
        steps = math.ceil(len(x) / recipe.batch_size)
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.learning_rate, betas=(recipe.beta_1, recipe.beta_2),
                                     eps=recipe.epsilon)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: learning_rate_at(recipe, step, steps) / recipe.learning_rate)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)

        def train_epoch(epoch: int) -> None:
            images = shift_images(x, recipe.shift_pixels, rng) if recipe.shift_pixels else x
            images = _tensor(flip_images(images, rng) if recipe.flip else images)
            order = torch.randperm(len(y), generator=generator)
            model.train()
            for i in range(0, len(y), recipe.batch_size):
                idx = order[i:i + recipe.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(images[idx]), y[idx]).backward()
                optimizer.step()
                scheduler.step()

        def test_accuracy() -> float:
            model.eval()
            with torch.no_grad():
                pred = torch.cat([model(x_test[i:i + 2000]).argmax(dim=1) for i in range(0, len(x_test), 2000)])
            return float((pred.numpy() == data.y_test).mean())

        return train_to_target(job, train_epoch, test_accuracy)


def _tensor(images: Any) -> Any:
    """float32 images as a torch tensor; (n, 28, 28) ones get the channel axis of NCHW."""
    import torch

    tensor = torch.from_numpy(images)
    return tensor.unsqueeze(1) if tensor.dim() == 3 else tensor


def _recipe_model(recipe: Recipe, n_features: int, n_classes: int) -> Any:
    """The recipe's net as an `nn.Sequential` returning logits (the softmax lives in the loss)."""
    from torch import nn

    def init(layer: Any) -> Any:
        if recipe.init == "glorot_uniform":
            nn.init.xavier_uniform_(layer.weight)
        else:
            fan_in = layer.weight[0].numel()
            nn.init.uniform_(layer.weight, -fan_in ** -0.5, fan_in ** -0.5)
        nn.init.zeros_(layer.bias)
        return layer

    stack: list[nn.Module] = []
    width = n_features
    if recipe.is_convnet:
        channels, side = 1, 28
        for i, filters in enumerate(recipe.conv):
            stack += [init(nn.Conv2d(channels, filters, 3)), nn.ReLU()]
            channels, side = filters, side - 2
            if recipe.batch_norm:
                stack.append(nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01))
            if i < len(recipe.conv) - 1 or recipe.pool_last:
                stack.append(nn.MaxPool2d(2))
                side //= 2
        stack.append(nn.Flatten())
        width = channels * side * side
    for units in recipe.dense_units:
        stack += [init(nn.Linear(width, units)), nn.ReLU()] + ([nn.Dropout(recipe.dropout)] if recipe.dropout else [])
        width = units
    stack.append(init(nn.Linear(width, n_classes)))
    return nn.Sequential(*stack)
