"""Progress on stderr, made from the library's callbacks (on_epoch/on_batch of training, on_step of OIPs).

On a terminal: an epoch bar (latest metrics as its postfix) over a batch bar. In a log or CI
(stderr not a terminal): one line per epoch instead of hundreds of carriage-return frames.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

SHOWN = ("loss", "accuracy", "val_loss", "val_accuracy", "train_accuracy", "test_accuracy")
"""Metrics shown per epoch, when the row has them."""


def _shown(row: dict[str, Any]) -> dict[str, float]:
    """The SHOWN metrics the row measured (NaN means not measured this epoch)."""
    return {k: row[k] for k in SHOWN if isinstance(row.get(k), numbers.Real) and row[k] == row[k]}


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    """'epoch 3/10: loss 0.1234, accuracy 0.9650 (2.1 s)': one epoch as a log line."""
    shown = ", ".join(f"{k} {v:.4f}" for k, v in _shown(row).items())
    seconds = row.get("epoch_seconds")
    return f"epoch {int(row['epoch'])}/{epochs}: {shown}" + (f" ({seconds:.1f} s)" if seconds is not None else "")


class TrainingProgress:
    """Callbacks for train_mlp_run/train_cnn_run; use as a context manager so bars are closed.

    `show=False` shows nothing; `terminal` (default: whether stderr is a terminal) picks bars or lines.
    """

    def __init__(self, epochs: int, *, show: bool = True, terminal: bool | None = None) -> None:
        self.epochs, self.show = epochs, show
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self._epoch_bar: Any = None
        self._batch_bar: Any = None
        if show and self.terminal:
            from tqdm.auto import tqdm  # only on a terminal: logs and --quiet never load it

            self._epoch_bar = tqdm(total=epochs, desc="epochs", unit="epoch")
            self._batch_bar = tqdm(desc="batches", unit="batch", leave=False)

    def on_batch(self, done: int, total: int) -> None:
        """Advance the batch bar (terminal only)."""
        if self._batch_bar is None:
            return
        if done == 1:
            if self._epoch_bar.n == 0:  # start the clock when training starts, not at data loading
                self._epoch_bar.reset(total=self.epochs)
            self._batch_bar.reset(total=total)
        self._batch_bar.update(1)

    def on_epoch(self, row: dict[str, Any]) -> None:
        """Advance the epoch bar, or write one line per epoch when stderr is not a terminal."""
        if not self.show:
            return
        if self._epoch_bar is None:
            click.echo(epoch_line(row, self.epochs), err=True)
            return
        self._epoch_bar.update(1)
        self._epoch_bar.set_postfix({k: f"{v:.4f}" for k, v in _shown(row).items()})

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in (self._batch_bar, self._epoch_bar):
            if bar is not None:
                bar.close()


@contextmanager
def step_bar(show: bool, desc: str) -> Iterator[Callable[[int, int], None] | None]:
    """An on_step callback drawing a tqdm bar of gradient steps (only on a terminal, when not quiet)."""
    if not show or not sys.stderr.isatty():
        yield None
        return
    from tqdm.auto import tqdm  # only on a terminal, as above

    bar = tqdm(desc=desc, unit="step")

    def on_step(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield on_step
    finally:
        bar.close()
