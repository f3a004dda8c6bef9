"""Learning-rate schedules with a linear warm-up, as Keras schedule objects that trace on every backend.

One shape per name, stepped every batch: "constant", "cosine" (to 0 at the last step) and
"onecycle" (the triangular one-cycle: linear up over the warm-up, linear down to 0). The plain-Python
twin for other frameworks is `mnistlab.bench.recipes.learning_rate_at`; a test holds them equal.
"""

from __future__ import annotations

import math
from typing import Any

WARMUP_SHAPES = ("constant", "cosine", "onecycle")


def warmup_schedule(keras: Any, learning_rate: float, total_steps: int, warmup_steps: int, shape: str) -> Any:
    """A `keras.optimizers.schedules.LearningRateSchedule`: lr x (step + 1) / warm-up, then `shape` to the end."""
    ops = keras.ops

    class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step: Any) -> Any:
            step = ops.cast(step, "float32")
            warm = float(max(warmup_steps, 1))
            ramp = learning_rate * (step + 1.0) / warm
            progress = ops.clip((step - warmup_steps) / float(max(1, total_steps - warmup_steps)), 0.0, 1.0)
            if shape == "cosine":
                after = learning_rate * 0.5 * (1.0 + ops.cos(math.pi * progress))
            elif shape == "onecycle":
                after = learning_rate * (1.0 - progress)
            else:
                after = learning_rate * ops.ones_like(progress)
            return ops.where(step < warmup_steps, ramp, after) if warmup_steps > 0 else after

        def get_config(self) -> dict[str, Any]:
            return {"learning_rate": learning_rate, "total_steps": total_steps, "warmup_steps": warmup_steps,
                    "shape": shape}

    return WarmupSchedule()
