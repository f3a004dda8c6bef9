"""How much each searched option mattered for a sweep's metric: a random forest and permutation importance.

A random forest is fitted to the finished trials, options in, final metric out (numbers as they
are, anything else one-hot encoded); an option's importance is how much the forest's R² drops when
that option's values are shuffled among the trials (`sklearn.inspection.permutation_importance`,
which shuffles the option as a whole, all its one-hot columns together). It is measured on the
trials the forest was fitted on: it ranks the options by how much the forest relies on them, it
does not predict new trials. With fewer than `MIN_TRIALS` trials the answer is a sentence, not a number.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

MIN_TRIALS = 8
TREES = 200
REPEATS = 20


def method(n_trials: int, metric: str) -> str:
    """The sentence the page shows under the importances: how they were computed."""
    return (f"A random forest ({TREES} trees, scikit-learn's RandomForestRegressor, random_state=0) fitted to "
            f"the {n_trials} finished trials' final {metric}, options in (numbers as they are, other values "
            f"one-hot encoded); an option's importance is the mean drop of the forest's R² over {REPEATS} "
            "shuffles of that option among the trials (sklearn.inspection.permutation_importance), ± its "
            "standard deviation. Measured on the trials it was fitted on: it ranks the options, it does "
            "not predict new trials.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def option_importance(rows: list[dict[str, Any]], names: list[str], metric: str) -> dict[str, Any]:
    """Each option's permutation importance for the metric, from `rows` ({"options": {...}, "final": x}).

    Returns {"importance": [{"option", "mean", "sd"}, ...] best first, "method": sentence, "n": trials},
    or {"importance": None, "reason": sentence, "n": trials} when they are too few to say.
    """
    rows = [r for r in rows if r.get("final") is not None and np.isfinite(r["final"])]
    n = len(rows)
    if not names:
        return {"importance": None, "n": n, "reason": "every trial has the same options: nothing to rank"}
    if n < MIN_TRIALS:
        return {"importance": None, "n": n,
                "reason": f"{n} finished trial{'s' if n != 1 else ''}: too few to estimate the options' "
                          f"importance (it needs at least {MIN_TRIALS})"}
    y = np.array([float(r["final"]) for r in rows])  # (n_trials,)
    if np.ptp(y) == 0:
        return {"importance": None, "n": n, "reason": f"every finished trial reached the same {metric}"}
    values = [[r["options"].get(name) for name in names] for r in rows]
    numeric = [j for j in range(len(names)) if all(_is_number(v[j]) for v in values)]
    categorical = [j for j in range(len(names)) if j not in numeric]
    X = np.empty((n, len(names)), dtype=object)  # (n_trials, n_options)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            X[i, j] = float(value) if j in numeric else json.dumps(value, sort_keys=True)
    encode = ColumnTransformer([("numbers", "passthrough", numeric),
                                ("others", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)])
    model = make_pipeline(encode, RandomForestRegressor(n_estimators=TREES, random_state=0, n_jobs=1))
    model.fit(X, y)
    result = permutation_importance(model, X, y, n_repeats=REPEATS, random_state=0, n_jobs=1)
    ranked = sorted(zip(names, result.importances_mean, result.importances_std), key=lambda t: -t[1])
    return {"importance": [{"option": name, "mean": float(mean), "sd": float(sd)} for name, mean, sd in ranked],
            "n": n, "method": method(n, metric)}
