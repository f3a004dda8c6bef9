"""Sweep specs written to temporary files, and a guard that Ray never outlives a test."""

from __future__ import annotations

import pytest

GOOD = {
    "model": '"mlp"', "dataset": '"mnist"', "preset": '"seed"', "metric": '"test_accuracy"', "mode": '"max"',
    "search": '"grid"', "seeds": "[0]", "threads_per_trial": "1", "max_concurrent": "2",
}
FIXED = {"train_size": "600", "epochs": "2", "hidden": '"16"', "batch_size": "100"}
SPACE = {"lr": "[0.001, 0.01]"}


def spec_text(top: dict | None = None, fixed: dict | None = None, space: dict | None = None,
              drop: tuple[str, ...] = ()) -> str:
    """A TOML spec: GOOD/FIXED/SPACE updated with the given entries, keys in `drop` left out."""
    tables = [({**GOOD, **(top or {})}, None), ({**FIXED, **(fixed or {})}, "fixed"),
              ({**SPACE, **(space or {})} if space != {} else {}, "space")]
    lines = []
    for entries, header in tables:
        if header:
            lines.append(f"[{header}]")
        lines += [f"{k} = {v}" for k, v in entries.items() if k not in drop]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_spec(tmp_path):
    """write_spec(name, **spec_text kwargs) -> path of the TOML file."""
    def write(name: str = "study", **kwargs) -> str:
        path = tmp_path / f"{name}.toml"
        path.write_text(spec_text(**kwargs))
        return str(path)
    return write


@pytest.fixture
def ray_guard():
    """Shut Ray down after the test even when it failed half-way (the driver normally does it)."""
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()
