"""What a benchmark worker can be asked to do: one job type per measurement, one interface for all.

Every engine takes any job through the same two methods (`Engine.cannot_express(job)` and
`Engine.train(data, job)`); a job crosses the process boundary as JSON with its `kind`, and
`job_from_fields` turns it back into the dataclass.

- `TrainJob`: the seed's dense net for a number of epochs, timed per epoch (`bench mlp`).
- `CnnJob`: the seed's convnet for a fixed number of batches, timed after a warm-up (`bench cnn`).
- `TtaJob`: a `Recipe` trained to a target test accuracy, scored after every epoch (`bench tta`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from mnistlab.bench.fields import check_known_fields, with_tuples
from mnistlab.bench.recipes import Recipe
from mnistlab.errors import ConfigError
from mnistlab.mlp.config import SEED_PRESET


@dataclass(frozen=True)
class TrainJob:
    """One training run to time: the net, the optimiser and the setting, identical for every engine.

    By default the seed's net, epochs and batch size (`mnistlab.mlp.config.SEED_PRESET`). The
    optimiser is plain mini-batch SGD with (heavy-ball) momentum on the batch-mean softmax
    cross-entropy, the one every engine offers: ``v = momentum v - lr grad; w += v``.
    """

    kind: ClassVar[str] = "dense"
    is_convnet: ClassVar[bool] = False
    hidden: tuple[int, ...] = SEED_PRESET.hidden_sizes
    activation: str = SEED_PRESET.activation
    epochs: int = SEED_PRESET.epochs
    batch_size: int = SEED_PRESET.batch_size
    learning_rate: float = 0.1
    momentum: float = 0.9
    random_state: int = 0

    def layer_sizes(self, n_features: int, n_classes: int) -> tuple[int, ...]:
        """Units per layer, input first: ``(n_features, *hidden, n_classes)``."""
        return (n_features, *self.hidden, n_classes)


@dataclass(frozen=True)
class CnnJob:
    """The seed's convnet (mnistlab.cnn.model's default): `warmup_batches` untimed, then `n_batches` timed."""

    kind: ClassVar[str] = "cnn"
    is_convnet: ClassVar[bool] = True
    batch_size: int = 64
    n_batches: int = 50
    warmup_batches: int = 3
    learning_rate: float = 0.05
    momentum: float = 0.9
    random_state: int = 0


@dataclass(frozen=True)
class TtaJob:
    """Train `recipe` from seed `random_state` for up to `recipe.max_epochs` epochs, scoring the test set after each.

    `stop_at_target`: end after the first epoch at or above `target` (the time to
    accuracy is known then; the rest of the curve is only drawn when it is False).
    """

    kind: ClassVar[str] = "tta"
    recipe: Recipe = Recipe()
    target: float = 0.98
    random_state: int = 0
    stop_at_target: bool = True

    @property
    def is_convnet(self) -> bool:
        """Whether the recipe's net has conv blocks (what dense-only engines cannot train)."""
        return self.recipe.is_convnet


JOB_TYPES: dict[str, type] = {job.kind: job for job in (TrainJob, CnnJob, TtaJob)}
Job = TrainJob | CnnJob | TtaJob


def job_to_fields(job: Job) -> dict[str, Any]:
    """The JSON-ready fields of `job`, with its kind."""
    return {"kind": job.kind, **asdict(job)}


def job_from_fields(fields_: dict[str, Any]) -> Job:
    """The job `job_to_fields` wrote (lists become tuples; a TTA job's recipe becomes a `Recipe`)."""
    values = dict(fields_)
    kind = values.pop("kind", "dense")
    if kind not in JOB_TYPES:
        raise ConfigError(f"unknown benchmark job kind {kind!r}; choose from {', '.join(JOB_TYPES)}")
    cls = JOB_TYPES[kind]
    check_known_fields(cls, values, f"unknown field(s) {{unknown}} for a {kind} job; known: {{known}}")
    if kind == "tta":
        values["recipe"] = Recipe.from_dict(values.get("recipe", {}))
    return with_tuples(cls, values)
