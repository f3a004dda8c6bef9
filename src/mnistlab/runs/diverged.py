"""A recorded run judged by the divergence rule, from its logged epochs: for runs that ended "completed"
before the rule caught them (issue 23's RMSprop at lr 1e6), so the lab shows them as diverged.

The rule is `mnistlab.divergence`'s; this module only finds its inputs in the run: per-sample
losses and accuracies per epoch, each layer's mean |w| (`mean_abs_weight_<l>` columns, MLP), the
number of classes of the run's dataset and its loss.
"""

from __future__ import annotations

import math
import re

from mnistlab.data.catalog import get_spec
from mnistlab.divergence import first_divergence
from mnistlab.errors import ConfigError
from mnistlab.runs.catalog import RunRecord, find_key

_WEIGHT_COLUMN = re.compile(r"mean_abs_weight_(\d+)")


def recorded_divergence(record: RunRecord) -> tuple[int, str] | None:
    """(epoch, reason) at which the run's logged epochs meet the divergence rule, or None.

    None when the run logged no losses or its dataset is unknown (the number of classes is needed).
    """
    metrics, config = record.metrics, record.config or {}
    losses = metrics.get("loss")
    if losses is None or not len(losses):
        return None
    try:
        n_classes = len(get_spec(str(find_key(config, "dataset") or record.get("dataset"))).class_names)
    except ConfigError:  # an unknown or missing dataset: the rule cannot be applied
        return None
    scale = 1.0
    if find_key(config, "loss_reduction") == "sum" and isinstance(find_key(config, "batch_size"), int):
        scale = 1.0 / find_key(config, "batch_size")  # summed per batch: back to per sample, as the trainer does
    layers = sorted((int(m.group(1)), name) for name in metrics if (m := _WEIGHT_COLUMN.fullmatch(name)))
    accuracies = metrics.get("accuracy", [math.nan] * len(losses))
    loss = find_key(config, "loss")
    return first_divergence([float(v) * scale for v in losses], [float(a) for a in accuracies], n_classes=n_classes,
                            loss=loss if isinstance(loss, str) else "cross_entropy",
                            mean_abs_weights=[metrics[name].tolist() for _, name in layers])
