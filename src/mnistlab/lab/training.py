"""Trainings started from the lab: `python -m mnistlab mlp|cnn train ...` as background processes.

The command line is the stable interface, so the lab builds an argument list from a small,
validated form and starts the CLI in its own process group (its own session), logging to
`<runs>/.lab/<name>.log`. The run then appears like any other, through its run directory.
Stopping sends SIGINT (the CLI records status "interrupted"), then SIGTERM and SIGKILL if the
process does not end; a process that died without recording is marked "interrupted" by the lab.
The trainings outlive the lab: stopping or restarting it leaves them training, and a new lab
over the same runs directory adopts them (detached.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError
from mnistlab.lab.detached import AdoptedProcess, load_jobs, process_runs, save_jobs, start_detached
from mnistlab.runs.kinds import KIND_NAMES, ModelKind, get_kind
from mnistlab.runs.rundir import RunDir, find_runs

DATASETS = ("mnist", "fashion-mnist")
GRACE_SECONDS = (15.0, 5.0)  # after SIGINT, then after SIGTERM
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_SIZES = re.compile(r"\d{1,4}(,\d{1,4}){0,3}")


def _int(form: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = form.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{key}={value!r} is not valid; give a whole number from {low} to {high}")
    return value


def _choice(form: dict[str, Any], key: str, options: tuple[str, ...], default: str) -> str:
    value = form.get(key) or default
    if value not in options:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of {', '.join(options)}")
    return value


def form_options(form: dict[str, Any]) -> tuple[ModelKind, str, dict[str, Any]]:
    """A form's model kind, preset and options (`<kind> train` option name -> value); ConfigError on a bad field.

    Form fields: kind, dataset, epochs (1..200), train_size (100..60000), preset (one of the kind's,
    default its default), hidden ("16" or "70,30", the MLP's) or conv ("8,16", the CNN's).
    """
    known = {"kind", "dataset", "epochs", "train_size", "preset", "hidden", "conv", "name"}
    unknown = sorted(set(form) - known)
    if unknown:
        raise ConfigError(f"unknown training field(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    kind = get_kind(_choice(form, "kind", KIND_NAMES, KIND_NAMES[0]))
    options: dict[str, Any] = {"dataset": _choice(form, "dataset", DATASETS, "mnist")}
    for key, low, high in (("epochs", 1, 200), ("train_size", 100, 60000)):
        value = _int(form, key, low, high)
        if value is not None:
            options[key] = value
    for key in ("hidden", "conv"):
        value = str(form.get(key) or "").replace(" ", "")
        if not value:
            continue
        if key not in kind.option_names:
            raise ConfigError(f"{key} is not an option of the {kind.name} model; leave it empty")
        if not _SIZES.fullmatch(value):
            raise ConfigError(f"{key}={value!r} is not valid; give layer sizes separated by commas, e.g. 70,30")
        options[key] = value
    return kind, _choice(form, "preset", kind.presets, kind.default_preset), options


def form_config(form: dict[str, Any]) -> Any:
    """The config a form trains: the kind's own resolution of its preset and options (as the CLI resolves them)."""
    kind, preset, options = form_options(form)
    return kind.resolve_config(preset=preset, overrides=options)


def train_command(form: dict[str, Any], runs_dir: Path, name: str) -> list[str]:
    """The `python -m mnistlab <kind> train ...` argument list for a form; ConfigError on a bad field.

    The config is resolved first (`form_config`), so a form the training would reject fails here.
    """
    form_config(form)
    kind, preset, options = form_options(form)
    argv = [sys.executable, "-m", "mnistlab", kind.name, "train", "--runs-dir", str(runs_dir), "--name", name,
            "--quiet"]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return argv + ["--preset", preset]


@dataclass
class Job:
    """One training process started by the lab."""

    id: int
    name: str
    kind: str
    argv: list[str]
    process: subprocess.Popen | AdoptedProcess
    log: Path
    started: float = field(default_factory=time.time)
    stop_requested: bool = False

    @property
    def adopted(self) -> bool:
        """Whether an earlier lab started this process (its exit code is then unknown)."""
        return isinstance(self.process, AdoptedProcess)

    def state(self, runs_dir: Path) -> dict[str, Any]:
        """JSON-ready: id, name, kind, pid, status ("running" | "exited"), exit code, run directory name."""
        code = self.process.poll()
        run = find_run(runs_dir, self.name)
        return {"id": self.id, "name": self.name, "kind": self.kind, "pid": self.process.pid,
                "status": "running" if code is None else "exited", "exit_code": None if self.adopted else code,
                "run": run.name if run else None, "stop_requested": self.stop_requested,
                "command": " ".join(self.argv[1:]), "adopted": self.adopted}

    def entry(self) -> dict[str, Any]:
        """The job as a line of the jobs file."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "pid": self.process.pid, "argv": self.argv,
                "log": str(self.log), "started": self.started}


def find_run(runs_dir: Path, name: str) -> Path | None:
    """The run directory a job named `name` created (the newest run of that name), or None."""
    matches = find_runs(runs_dir, name)
    return matches[-1].path if matches else None


def mark_interrupted(run_dir: Path) -> None:
    """Record status "interrupted" if the run still says "running" (its process is gone)."""
    RunDir(run_dir).mark_interrupted_if_running()


class TrainingJobs:
    """The trainings this lab started or adopted: start, list, stop (each in its own session)."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._jobs: dict[int, Job] = {}
        for entry in load_jobs(runs_dir):  # still training since an earlier lab started them
            try:
                job_id, pid, argv = int(entry["id"]), int(entry["pid"]), [str(a) for a in entry["argv"]]
                if process_runs(pid, argv):
                    self._jobs[job_id] = Job(job_id, str(entry["name"]), str(entry["kind"]), argv,
                                             AdoptedProcess(pid, argv), Path(entry["log"]), float(entry["started"]))
            except (KeyError, TypeError, ValueError):
                continue
        self._ids = itertools.count(max(self._jobs, default=0) + 1)
        self._lock = threading.Lock()

    def start(self, form: dict[str, Any]) -> dict[str, Any]:
        """Validate `form`, start the training process, return the job's state."""
        name = str(form.get("name") or "")
        if name and not _NAME.fullmatch(name):
            raise ConfigError(f"name={name!r} is not valid; use 1-40 letters, digits, '-' or '_'")
        job_id = next(self._ids)
        kind = form.get("kind") or KIND_NAMES[0]
        name = name or f"lab-{kind}-{dt.datetime.now():%H%M%S}-{job_id}"
        argv = train_command(form, self.runs_dir, name)
        log_dir = self.runs_dir / ".lab"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = log_dir / f"{name}.log"
        job = Job(job_id, name, str(kind), argv, start_detached(argv, log), log)
        with self._lock:
            self._jobs[job_id] = job
            running = [j.entry() for j in self._jobs.values() if j.process.poll() is None]
            save_jobs(self.runs_dir, running)
        return job.state(self.runs_dir)

    def list(self) -> list[dict[str, Any]]:
        """Every job's state, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.state(self.runs_dir) for job in reversed(jobs)]

    def find(self, job_id: int | None = None, run: str | None = None) -> Job | None:
        """The job with this id, or the one that created run directory `run`."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if job.id == job_id or (run is not None and (found := find_run(self.runs_dir, job.name)) and found.name == run):
                return job
        return None

    def stop(self, job: Job) -> dict[str, Any]:
        """Ask the job's process group to stop (SIGINT now; SIGTERM, SIGKILL later if needed); return its state."""
        if job.process.poll() is None and not job.stop_requested:
            job.stop_requested = True
            _signal_group(job.process, signal.SIGINT)
            threading.Thread(target=self._finish_stop, args=(job,), name=f"stop-{job.id}", daemon=True).start()
        return job.state(self.runs_dir)

    def _finish_stop(self, job: Job) -> None:
        for grace, next_signal in zip(GRACE_SECONDS, (signal.SIGTERM, signal.SIGKILL)):
            try:
                job.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                _signal_group(job.process, next_signal)
        job.process.wait()
        run = find_run(self.runs_dir, job.name)
        if run is not None:
            mark_interrupted(run)

    def stop_all(self, wait: float = 20.0) -> None:
        """Stop every running job and wait up to `wait` seconds for them (the lab itself leaves them training)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.stop(job)
        deadline = time.monotonic() + wait
        for job in jobs:
            try:
                job.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(job.process, signal.SIGKILL)
                job.process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
