"""Epochs to 98% on the mlp-adam recipe, per engine and seed: why mnistlab needed more than PyTorch (issue 22).

Each engine trains `bench tta`'s mlp-adam recipe (784-512-256-10 ReLU, uniform +-1/sqrt(fan_in)
weights, zero biases, Adam 1e-3, batch 128, unit-scaled MNIST) from each seed, scoring the test
set after every epoch, and the script prints the first epoch at or above the target and the
curve. Variants isolate one difference at a time:
- "mnistlab": as `bench tta` runs it;
- "mnistlab-torch-eps": Adam's epsilon added after the bias correction, as PyTorch does
  (mnistlab and Keras add it to the uncorrected sqrt(v): the same as PyTorch's with
  epsilon * sqrt(1 - beta_2^t));
- "torch": the PyTorch engine.
Epoch counts are not timings: load does not change them (thread count changes float32 rounding).

Run: `python benchmarks/epochs_to_target.py --engines mnistlab,torch --seeds 0,1,2,3,4 --threads 2`
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence

from mnistlab.threads import configure_threads


def _torch_style_epsilon(model) -> None:
    """Make the estimator's Adam add epsilon after bias correction (PyTorch's placement)."""
    optimizer = model._trainer.optimizer
    update, epsilon = optimizer.update, optimizer.epsilon

    def update_with_corrected_epsilon(params, grads):
        optimizer.epsilon = epsilon * math.sqrt(1 - optimizer.beta_2 ** (optimizer.t + 1))
        update(params, grads)

    optimizer.update = update_with_corrected_epsilon


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="mnistlab,mnistlab-torch-eps,torch")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.98)
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    from dataclasses import replace

    from mnistlab.bench.dataset import load_bench_data
    from mnistlab.bench.engines import get_engine
    from mnistlab.bench.engines.mnistlab_engine import MnistlabEngine
    from mnistlab.bench.jobs import TtaJob
    from mnistlab.bench.recipes import RECIPES
    from mnistlab.mlp.estimator import MLPClassifier

    recipe = replace(RECIPES["mlp-adam"], max_epochs=args.max_epochs)
    data = load_bench_data("mnist", scaler=recipe.preprocessing)  # as bench tta loads it
    for name in args.engines.split(","):
        engine = get_engine("mnistlab" if name.startswith("mnistlab") else name)
        engine.setup(args.threads)
        for seed in (int(s) for s in args.seeds.split(",")):
            job = TtaJob(recipe=recipe, target=args.target, random_state=seed, stop_at_target=True)
            if name == "mnistlab-torch-eps":
                original = MLPClassifier.partial_fit

                def partial_fit(self, *a, _original=original, **kw):
                    if getattr(self, "_trainer", None) is None:  # first call builds the trainer
                        result = _original(self, *a, **kw)
                        _torch_style_epsilon(self)
                        return result
                    return _original(self, *a, **kw)

                MLPClassifier.partial_fit = partial_fit
                try:
                    outcome = MnistlabEngine().train(data, job)
                finally:
                    MLPClassifier.partial_fit = original
            else:
                outcome = engine.train(data, job)
            curve = outcome.extra["epoch_accuracy"]
            reached = next((i + 1 for i, a in enumerate(curve) if a >= args.target), None)
            print(json.dumps({"engine": name, "seed": seed, "threads": args.threads, "epochs_to_target": reached,
                              "curve": [round(a, 4) for a in curve]}), flush=True)


if __name__ == "__main__":
    main()
