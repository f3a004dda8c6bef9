"""When a training has diverged: one precise rule, shared by the MLP's trainer, the CNN's callback and the lab.

After every epoch t (1-based) the rule looks at the per-sample training losses L_1..L_t, the
training accuracy A_t, the mean |w| of each weight matrix and the number of classes C.
`chance_loss` is the loss of the untrained net's best guess (every class with probability 1/C):
ln C for cross-entropy (2.30 for ten classes); chance accuracy is 1/C. A training has diverged
when any of these holds (the first that holds names the reason):

1. **non-finite**: L_t is NaN or infinite, or a weight is;
2. **weights exploded**: a weight matrix's mean |w| is over MAX_MEAN_ABS_WEIGHT = 1000 (a fresh
   784x512 layer has about 0.04, a well-trained one under 1; at 1000 the logits are in the tens
   of thousands and every softmax output is 0 or 1);
3. **loss exploded**: L_t > 100 x chance_loss, or (t >= 2 and L_t > 10 x L_1 and L_t > 10 x chance_loss);
4. **stuck at chance while the loss grows**: t >= 2, A_t < 1.5 / C, L_t > 5 x chance_loss and
   L_t >= 0.99 x L_(t-1): no better than guessing, far worse than the constant guess, and not improving;
5. **loss stays far above the untrained net's**: t >= 2 and L_(t-1), L_t both over 4 x chance_loss
   (9.2 for ten classes). A healthy run's epoch loss is below chance_loss from its first epoch on;
   one at four times it for two epochs running is confidently wrong on most samples, whatever its
   accuracy (issue 23: RMSprop at lr 1e6 kept 19% accuracy at a loss of 12-13).

A cross-entropy clipped at 1e-7 cannot exceed about 16 per sample, so rule 3 only fires when the
weights (and their L2 cost) blew up. Rule 5 waits for a second epoch so that one bad first epoch
that then recovers is not called diverged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_MEAN_ABS_WEIGHT = 1000.0
EXPLODED_FACTOR = 100.0
GROWTH_FACTOR = 10.0
CHANCE_ACCURACY_FACTOR = 1.5
STUCK_LOSS_FACTOR = 5.0
NOT_IMPROVING = 0.99
FAR_ABOVE_FACTOR = 4.0
NONFINITE_WEIGHTS = "a weight became NaN or infinite"


def chance_loss(loss: str, n_classes: int) -> float:
    """Per-sample loss of predicting every class with probability 1/C (the untrained net's level).

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
                      weights_finite: bool = True, mean_abs_weights: Sequence[float] = ()) -> str | None:
    """Why the training whose per-sample epoch losses are `losses` has diverged, or None if it has not.

    `accuracy` is the last epoch's training accuracy, `mean_abs_weights` the mean |w| of each weight
    matrix after it (empty: not checked); the rule is the module docstring's.

    >>> divergence_reason([2.1, 0.9], 0.8, n_classes=10) is None
    True
    >>> divergence_reason([1e11], 0.14, n_classes=10)
    'the loss exploded to 1e+11 (over 100 x 2.3, the loss of guessing)'
    >>> divergence_reason([12.2, 13.0], 0.19, n_classes=10, mean_abs_weights=[2.2e6, 3.2e6])
    'the weights exploded (mean |w| 3.2e+06 in layer 2, over 1000)'
    >>> divergence_reason([12.2, 13.0], 0.19, n_classes=10)
    'the loss stayed at 12.2 then 13 (over 4 x 2.3, the loss of an untrained net)'
    """
    if not losses:
        return None
    last, first, t = float(losses[-1]), float(losses[0]), len(losses)
    if not math.isfinite(last):
        return f"the loss became {last}"
    if not weights_finite or not all(math.isfinite(w) for w in mean_abs_weights):
        return NONFINITE_WEIGHTS
    if mean_abs_weights and max(mean_abs_weights) > MAX_MEAN_ABS_WEIGHT:
        layer = max(range(len(mean_abs_weights)), key=lambda i: mean_abs_weights[i])
        return (f"the weights exploded (mean |w| {mean_abs_weights[layer]:.2g} in layer {layer + 1}, "
                f"over {MAX_MEAN_ABS_WEIGHT:g})")
    chance = chance_loss(loss, n_classes)
    if last > EXPLODED_FACTOR * chance:
        return f"the loss exploded to {last:.3g} (over {EXPLODED_FACTOR:g} x {chance:.2g}, the loss of guessing)"
    if t >= 2 and last > GROWTH_FACTOR * first and last > GROWTH_FACTOR * chance:
        return f"the loss grew from {first:.3g} to {last:.3g} (over {GROWTH_FACTOR:g} x its start)"
    previous = float(losses[-2]) if t >= 2 else math.nan
    if (t >= 2 and accuracy < CHANCE_ACCURACY_FACTOR / n_classes and last > STUCK_LOSS_FACTOR * chance
            and last >= NOT_IMPROVING * previous):
        return (f"the accuracy is at chance ({accuracy:.1%}) while the loss stays at {last:.3g}, "
                f"over {STUCK_LOSS_FACTOR:g} x {chance:.2g}, the loss of guessing")
    if t >= 2 and min(previous, last) > FAR_ABOVE_FACTOR * chance:
        return (f"the loss stayed at {previous:.3g} then {last:.3g} "
                f"(over {FAR_ABOVE_FACTOR:g} x {chance:.2g}, the loss of an untrained net)")
    return None


def first_divergence(losses: Sequence[float], accuracies: Sequence[float], *, n_classes: int,
                     loss: str = "cross_entropy",
                     mean_abs_weights: Sequence[Sequence[float]] = ()) -> tuple[int, str] | None:
    """(epoch, reason) of the first epoch at which a recorded training meets the rule, or None.

    For runs read back from their metrics (one value per epoch; `mean_abs_weights[l][t]` is layer
    l's after epoch t+1, missing layers or epochs not checked), e.g. runs recorded before the rule
    caught them.

    >>> first_divergence([2.0, 12.2, 13.0], [0.5, 0.19, 0.19], n_classes=10)[0]
    3
    """
    for t in range(1, len(losses) + 1):
        weights = [float(layer[t - 1]) for layer in mean_abs_weights if len(layer) >= t]
        reason = divergence_reason(losses[:t], float(accuracies[t - 1]) if len(accuracies) >= t else math.nan,
                                   n_classes=n_classes, loss=loss, mean_abs_weights=weights)
        if reason is not None:
            return t, reason
    return None


def diverged_message(epoch: int, reason: str, learning_rate: float, usual_rate: float) -> str:
    """The one-line report of a diverged training: the epoch, the reason and a lower learning rate to try.

    `usual_rate` is the model's default rate; the suggestion is the lower of it and a tenth of the rate tried.

    >>> diverged_message(2, "the loss became nan", 1e6, 0.001)
    'training diverged in epoch 2: the loss became nan; lower the learning rate: --lr 1e+06 was tried, try --lr 0.001'
    """
    suggestion = min(learning_rate / 10.0, usual_rate)
    return (f"training diverged in epoch {epoch}: {reason}; lower the learning rate: --lr {learning_rate:g} was "
            f"tried, try --lr {suggestion:g}")
