"""Run directories (a record of every training run) and the HTML report built from them."""

from mnistlab.runs.rundir import RunDir

__all__ = ["RunDir"]
