"""Sweeps: many trainings declared in a TOML spec and run in parallel on Ray Tune (issue 14).

`load_spec(path)` reads and validates a spec; `run_sweep(spec)` trains its trials (each an ordinary
run directory) and returns a summary; `resume_sweep(sweep_dir)` continues an interrupted sweep.
Ray is imported only when a sweep runs (the [sweep] extra).
"""

from mnistlab.sweep.driver import resume_sweep, run_sweep
from mnistlab.sweep.spec import SweepSpec, load_spec

__all__ = ["SweepSpec", "load_spec", "resume_sweep", "run_sweep"]
