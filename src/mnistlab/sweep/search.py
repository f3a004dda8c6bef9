"""The spec's space, seeds, search and scheduler in Ray Tune's terms.

Grid and random search cross every point with `seeds` through `tune.grid_search`. Random points
are drawn up front from Tune's distributions (Tune would draw new ones for every seed), seeded
by the first seed, so a point is the same for each seed. Optuna cannot take a grid, so its points
are repeated once per seed by Tune's `Repeater`, which hands each repeat a `__trial_index__` that
`seed_and_params` turns back into a seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnistlab.sweep.spec import SweepSpec

TRIAL_INDEX = "__trial_index__"  # ray.tune.search.repeater.TRIAL_INDEX, without importing Ray here
POINT = "point"  # a random point, drawn before the sweep: {option: value}


def _domain(values: Any, grid: bool) -> Any:
    from ray import tune  # heavy: only the driver builds the space

    if isinstance(values, list):
        return tune.grid_search(values) if grid else tune.choice(values)
    (kind, args), = values.items()
    make = {"loguniform": tune.loguniform, "uniform": tune.uniform, "randint": tune.randint}
    return tune.choice(args) if kind == "choice" else make[kind](*args)


def param_space(spec: SweepSpec) -> dict[str, Any]:
    """Tune's param_space: one domain per searched option, plus the seed (except for Optuna)."""
    from ray import tune

    space = {name: _domain(values, spec.search == "grid") for name, values in spec.space.items()}
    if spec.search == "random":
        space = {POINT: tune.grid_search(random_points(space, spec.samples, spec.seeds[0]))}
    if spec.search != "optuna":
        space["seed"] = tune.grid_search(list(spec.seeds))
    return space


def random_points(domains: dict[str, Any], samples: int, seed: int) -> list[dict[str, Any]]:
    """`samples` points drawn from Tune's domains with a generator seeded by `seed`."""
    rng = np.random.default_rng(seed)

    def plain(value: Any) -> Any:
        return value.item() if hasattr(value, "item") else value

    return [{name: plain(domain.sample(random_state=rng)) for name, domain in domains.items()}
            for _ in range(samples)]


def num_samples(spec: SweepSpec) -> int:
    """Tune's num_samples: 1 for grid and random (their points form a grid); points x seeds for Optuna."""
    return spec.samples * len(spec.seeds) if spec.search == "optuna" else 1


def search_algorithm(spec: SweepSpec) -> Any:
    """None (Tune's grid/random variant generator) or Optuna's TPE, repeated once per seed."""
    if spec.search != "optuna":
        return None
    from ray.tune.search import Repeater
    from ray.tune.search.optuna import OptunaSearch

    searcher = OptunaSearch(metric=spec.metric, mode=spec.mode, seed=spec.seeds[0])
    return Repeater(searcher, repeat=len(spec.seeds), set_index=True) if len(spec.seeds) > 1 else searcher


def scheduler(spec: SweepSpec, max_epochs: int) -> Any:
    """None, or ASHA stopping trials whose metric trails at the rungs (grace period, reduction factor)."""
    if spec.scheduler != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler

    # max_t one past the last epoch: at max_t ASHA stops a trial, which would cut a full training
    # before it saves its model and summary.
    return ASHAScheduler(time_attr="training_iteration", max_t=max(max_epochs, spec.grace_period) + 1,
                         grace_period=spec.grace_period, reduction_factor=spec.reduction_factor)


def seed_and_params(config: dict[str, Any], seeds: list[int]) -> tuple[int, dict[str, Any]]:
    """Split a trial's Tune config into (seed, searched options)."""
    params = dict(config[POINT]) if POINT in config else \
        {k: v for k, v in config.items() if k not in ("seed", TRIAL_INDEX)}
    seed = config["seed"] if "seed" in config else seeds[int(config.get(TRIAL_INDEX, 0))]
    return int(seed), params
