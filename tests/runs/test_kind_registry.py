"""What docs/architecture.md's "Adding a model kind" claims: one ModelKind module plus its registration.

A toy kind (a "scaled identity" with one option) registered in `mnistlab.runs.kinds.KINDS` is found
by `get_kind`, resolves its config through the shared three-layer resolution (preset, config file,
overrides, unknown options refused), is recognised by its model file, and a run of it can be rerun
through `plan_rerun` / `rerun_run`: none of those entry points needed an edit for it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnistlab.errors import ConfigError
from mnistlab.runs import kinds
from mnistlab.runs.kinds import ModelKind, get_kind, kind_of_model_file
from mnistlab.runs.rerun import plan_rerun, rerun_run
from mnistlab.runs.rundir import RunDir
from mnistlab.runs.summary import RunSummary


@dataclass(frozen=True)
class ToyConfig:
    dataset: str = "mnist"
    epochs: int = 1
    scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ToyKind(ModelKind):
    """Probabilities proportional to the pixel sums of ten image bands, times `scale`."""

    name = "toy"
    presets = ("plain", "strong")
    default_preset = "plain"
    model_file = "model.toy"
    option_names = ("dataset", "epochs", "scale")

    def preset_config(self, name: str) -> ToyConfig:
        return ToyConfig(scale=1.0 if name == "plain" else 3.0)

    def config_from_dict(self, values: dict[str, Any]) -> ToyConfig:
        unknown = sorted(set(values) - set(self.option_names))
        if unknown:
            raise ConfigError(f"unknown toy config key(s) {', '.join(unknown)}")
        return ToyConfig(**values)

    def _apply(self, start: ToyConfig, given: dict[str, Any], *, from_preset: bool) -> ToyConfig:
        return replace(start, **given)

    def epochs_of(self, config: ToyConfig) -> int:
        return config.epochs

    def resumed_to(self, config: ToyConfig, epochs: int) -> ToyConfig:
        return replace(config, epochs=epochs)

    def recorded_metrics(self, config: ToyConfig) -> tuple[str, ...]:
        return ("loss",)

    def summary_line(self, summary: RunSummary) -> str:
        return f"toy run: {summary.run_dir}"

    def train(self, config: ToyConfig, *, runs_dir="runs", name=None, on_epoch=None, on_batch=None,
              checkpoint_every=1, trial=None) -> RunSummary:
        run = RunDir.create(runs_dir, name or "toy", self.name, config.to_dict())
        (run.path / self.model_file).write_text(json.dumps({"scale": config.scale}))
        summary = {"model": self.name, "dataset": config.dataset, "epochs": config.epochs, "run_dir": str(run.path)}
        run.finish(summary)
        return RunSummary.from_dict(summary)

    def resume(self, run, config, checkpoint, *, prepare, on_epoch, on_batch, checkpoint_every) -> RunSummary:
        raise ConfigError("a toy run has no checkpoint")

    def load_model(self, path, *, dataset=None, backend=None) -> float:
        file = Path(path) / self.model_file if Path(path).is_dir() else Path(path)
        return float(json.loads(file.read_text())["scale"])

    def predict_proba(self, model: float, images: np.ndarray) -> np.ndarray:
        bands = images.reshape(len(images), -1)[:, :780].reshape(len(images), 10, 78).sum(axis=2) * model + 1.0  # (n, 10)
        return bands / bands.sum(axis=1, keepdims=True)

    def activations(self, model: float, images: np.ndarray) -> dict[str, np.ndarray]:
        return {"output": self.predict_proba(model, images)}

    def evaluate(self, path, *, dataset, split, backend=None):
        raise ConfigError("a toy run is not evaluated")


@pytest.fixture
def toy(monkeypatch) -> ToyKind:
    kind = ToyKind()
    monkeypatch.setitem(kinds.KINDS, kind.name, kind)  # the registration: one entry in KINDS
    return kind


def test_a_registered_kind_is_found_and_resolves_its_config(toy, tmp_path):
    assert get_kind("toy") is toy
    assert toy.resolve_config() == ToyConfig(scale=1.0)
    assert toy.resolve_config(preset="strong", overrides={"epochs": 4, "scale": None}) == ToyConfig(epochs=4, scale=3.0)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"epochs": 2, "scale": 0.5}))
    assert toy.resolve_config(config_file=config_file, overrides={"scale": 2.0}) == ToyConfig(epochs=2, scale=2.0)
    with pytest.raises(ConfigError, match="unknown toy option"):
        toy.resolve_config(overrides={"hidden": "8"})
    with pytest.raises(ConfigError, match="not a toy preset"):
        toy.resolve_config(preset="seed")
    assert kind_of_model_file(tmp_path / "model.toy") is toy


def test_a_registered_kinds_run_is_rerun_through_the_registry(toy, tmp_path):
    first = toy.train(toy.resolve_config(overrides={"epochs": 2}), runs_dir=tmp_path, name="first")
    plan = plan_rerun(first.run_dir, {"scale": 5.0})
    assert plan.kind is toy and plan.config == ToyConfig(epochs=2, scale=5.0) and plan.name == "first-rerun"
    again = rerun_run(first.run_dir, {"scale": 5.0})
    assert again.model == "toy" and Path(again.run_dir).parent == tmp_path
    probabilities = toy.predict_proba(toy.load_model(again.run_dir), np.full((3, 28, 28), 7, dtype=np.uint8))
    assert probabilities.shape == (3, 10) and np.allclose(probabilities.sum(axis=1), 1.0)


def test_an_unregistered_kind_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match="'toy' is not a model kind; choose one of mlp, cnn"):
        get_kind("toy")
