"""When a training has diverged: one precise rule, shared by the MLP's trainer and the CNN's callback.

After every epoch t (1-based) the rule looks at the per-sample training losses L_1..L_t, the
training accuracy A_t and the number of classes C. `chance_loss` is the loss of the best
constant guess (every class predicted with probability 1/C): ln C for cross-entropy.
A training has diverged when any of these holds:

1. **non-finite**: L_t is NaN or infinite, or a weight is;
2. **exploded**: L_t > 100 x chance_loss, or (t >= 2 and L_t > 10 x L_1 and L_t > 10 x chance_loss);
3. **stuck at chance while the loss grows**: t >= 2, A_t < 1.5 / C, L_t > 5 x chance_loss and
   L_t >= 0.99 x L_(t-1): no better than guessing, far worse than the constant guess, and not improving.

A healthy run's loss starts near chance_loss and falls; a cross-entropy clipped at 1e-7 cannot
exceed about 16 per sample, so rule 2 only fires when the weights (and their L2 cost) blew up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

EXPLODED_FACTOR = 100.0
GROWTH_FACTOR = 10.0
CHANCE_ACCURACY_FACTOR = 1.5
STUCK_LOSS_FACTOR = 5.0
NOT_IMPROVING = 0.99
NONFINITE_WEIGHTS = "a weight became NaN or infinite"


def chance_loss(loss: str, n_classes: int) -> float:
    """Per-sample loss of predicting every class with probability 1/C (the 'knows nothing' level).

    >>> round(chance_loss("cross_entropy", 10), 3), round(chance_loss("mse", 10), 3)
    (2.303, 0.45)
    """
    p = 1.0 / n_classes
    if loss == "mse":  # 0.5 * ||a - y||^2 with a = p everywhere
        return 0.5 * ((1 - p) ** 2 + (n_classes - 1) * p ** 2)
    if loss == "logloss":  # per-class binary cross-entropy, summed over classes
        return -(math.log(p) + (n_classes - 1) * math.log(1 - p)) if n_classes > 1 else 0.0
    return math.log(n_classes)


def divergence_reason(losses: Sequence[float], accuracy: float, *, n_classes: int, loss: str = "cross_entropy",
                      weights_finite: bool = True) -> str | None:
    """Why the training whose per-sample epoch losses are `losses` has diverged, or None if it has not.

    `accuracy` is the last epoch's training accuracy; the rule is the module docstring's.

    >>> divergence_reason([2.1, 0.9], 0.8, n_classes=10) is None
    True
    >>> divergence_reason([1e11], 0.14, n_classes=10)
    'the loss exploded to 1e+11 (over 100 x 2.3, the loss of guessing)'
    """
    if not losses:
        return None
    last, first, t = float(losses[-1]), float(losses[0]), len(losses)
    if not math.isfinite(last):
        return f"the loss became {last}"
    if not weights_finite:
        return NONFINITE_WEIGHTS
    chance = chance_loss(loss, n_classes)
    if last > EXPLODED_FACTOR * chance:
        return f"the loss exploded to {last:.3g} (over {EXPLODED_FACTOR:g} x {chance:.2g}, the loss of guessing)"
    if t >= 2 and last > GROWTH_FACTOR * first and last > GROWTH_FACTOR * chance:
        return f"the loss grew from {first:.3g} to {last:.3g} (over {GROWTH_FACTOR:g} x its start)"
    if (t >= 2 and accuracy < CHANCE_ACCURACY_FACTOR / n_classes and last > STUCK_LOSS_FACTOR * chance
            and last >= NOT_IMPROVING * float(losses[-2])):
        return (f"the accuracy is at chance ({accuracy:.1%}) while the loss stays at {last:.3g}, "
                f"over {STUCK_LOSS_FACTOR:g} x {chance:.2g}, the loss of guessing")
    return None
