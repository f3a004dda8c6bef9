"""The main job of `make run` (`mnistlab demo`): the seed's MLP and CNN on MNIST, a look inside, one report.

`run_demo` calls the library step by step, as a notebook would; each step is announced through
`on_step(title, command)`, with the `mnistlab` command that repeats the step alone, and each
training reports through the callbacks that `progress(epochs)` opens (a context manager giving
`on_epoch`/`on_batch`, e.g. the CLI's bars). It returns the report's path and the step results.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mnistlab.cnn.config import CNNConfig
from mnistlab.insight.oip import OIPConfig
from mnistlab.mlp.run import PRESETS
from mnistlab.runs.insight import feature_maps_of, oips_of
from mnistlab.runs.report import write_report
from mnistlab.runs.kinds import get_kind
from mnistlab.runs.summary import RunSummary

QUICK_TRAIN_SIZE = 5000


@dataclass
class DemoResult:
    """What the demo made: the report page, the two runs' summaries and the OIP summary."""

    report: Path
    mlp: RunSummary
    cnn: RunSummary
    oips: dict[str, Any]


class _Silent:
    """No progress: the default of `run_demo(progress=)`."""

    on_epoch = on_batch = None

    def __init__(self, epochs: int) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def run_demo(runs_dir: str | os.PathLike = "runs", *, cnn_epochs: int = 5, quick: bool = False,
             on_step: Callable[[str, str], None] = lambda title, command: None,
             progress: Callable[[int], contextlib.AbstractContextManager[Any]] = _Silent) -> DemoResult:
    """Train the seed's MLP (accuracy on both splits every epoch) and CNN, draw the CNN's maps and conv3 OIPs,
    and write one HTML report of both runs into `runs_dir`. `quick`: 5000 images, 3 and 1 epochs, 10 OIP steps."""
    train_size = QUICK_TRAIN_SIZE if quick else None
    small = f" --train-size {QUICK_TRAIN_SIZE}" if quick else ""
    seed = PRESETS["seed"]
    mlp_config = replace(seed, dataset="mnist", train_size=train_size,
                         mlp=replace(seed.mlp, eval_train_every=1, eval_test_every=1,
                                     epochs=3 if quick else seed.mlp.epochs))
    on_step("The seed's MLP on MNIST", "mlp train --preset seed --dataset mnist --eval-train-every 1 "
            f"--eval-test-every 1{small}" + (" --epochs 3" if quick else ""))
    with progress(mlp_config.mlp.epochs) as bars:
        mlp = get_kind("mlp").train(mlp_config, runs_dir=runs_dir, name="demo-mlp-seed",
                                     on_epoch=bars.on_epoch, on_batch=bars.on_batch)

    cnn_config = CNNConfig(dataset="mnist", epochs=1 if quick else cnn_epochs, train_size=train_size)
    on_step("The seed's CNN on MNIST", f"cnn train --dataset mnist --epochs {cnn_config.epochs}{small}")
    with progress(cnn_config.epochs) as bars:
        cnn = get_kind("cnn").train(cnn_config, runs_dir=runs_dir, name="demo-cnn",
                                     on_epoch=bars.on_epoch, on_batch=bars.on_batch)

    cnn_dir = Path(cnn.run_dir)
    on_step("Feature maps of every conv and pooling layer", f"cnn maps {cnn_dir}")
    feature_maps_of(cnn_dir)
    on_step("Input patterns that make each conv3 map fire most (OIPs)",
            f"cnn oip {cnn_dir} --layer conv3" + (" --steps 10" if quick else ""))
    oips = oips_of(cnn_dir, layer="conv3", config=OIPConfig(steps=10) if quick else OIPConfig())
    report = write_report([Path(mlp.run_dir), cnn_dir], Path(runs_dir) / "demo-report.html")
    return DemoResult(report, mlp, cnn, oips)
