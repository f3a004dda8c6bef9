"""Run directories (a record of every training run) and the HTML report built from them."""

from mnistlab.runs.rundir import Run, RunDir, RunStatus

__all__ = ["Run", "RunDir", "RunStatus"]
