"""Sweeps started from the lab: `python -m mnistlab sweep SPEC.toml` as detached processes, and stopping them.

A sweep is started as the CLI, in its own session (detached.py), so it outlives the lab like a
training does; `<runs>/.lab/sweep_jobs.json` lets a new lab adopt it. The spec is a shipped one
(`specs/*.toml` beside this module) or a TOML pasted in the page, written to
`<runs>/.lab/sweeps/`. The CLI validates it: `start` waits for its verdict, either the sweep
directory appearing (the spec passed) or the process ending with the CLI's one-line `error:`,
which becomes a ConfigError (HTTP 400 with that line). Starts are serialised, so the new sweep
directory is the one that appears. Stopping sends SIGINT to the CLI alone (Ray Tune then stops the
trials and records the sweep as interrupted; Ray's own processes must not get it), then SIGTERM
and SIGKILL to its group if it does not end.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError
from mnistlab.fileio import read_json_object, write_json_atomic, write_text_atomic
from mnistlab.lab.detached import AdoptedProcess, load_jobs, process_runs, save_jobs, start_detached
from mnistlab.lab.training import mark_interrupted
from mnistlab.runs.rundir import is_run_dir
from mnistlab.runs.sweeps import SWEEP_FILE, is_sweep_dir

SPECS = Path(__file__).parent / "specs"
SWEEP_JOBS = Path(".lab") / "sweep_jobs.json"
MAX_SPEC_BYTES = 64 * 1024
START_SECONDS = 120.0  # the CLI's start (imports, validation) on a busy machine; then it runs on regardless
GRACE_SECONDS = (60.0, 10.0)  # after SIGINT (Tune stops the trials, saves), then after SIGTERM


def shipped_specs() -> list[dict[str, str]]:
    """The specs shipped with the lab: name, the first line of their opening comment, and their text."""
    specs = []
    for path in sorted(SPECS.glob("*.toml")):
        text = path.read_text()
        comment = " ".join(line.lstrip("# ").strip() for line in itertools.takewhile(
            lambda line: line.startswith("#"), text.splitlines()))
        specs.append({"name": path.stem, "about": comment, "text": text})
    return specs


def spec_source(body: dict[str, Any], spec_dir: Path, label: str) -> Path:
    """The spec file a request names: {"spec": SHIPPED_NAME} or {"toml": TEXT} (written to `spec_dir`)."""
    unknown = sorted(set(body) - {"spec", "toml"})
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(unknown)}; send spec (a shipped spec's name) or toml")
    name, text = body.get("spec"), body.get("toml")
    if bool(name) == bool(text):
        raise ConfigError("give either spec (a shipped spec's name) or toml (a spec's text), not both or neither")
    if name:
        shipped = {s["name"] for s in shipped_specs()}
        if name not in shipped:
            raise ConfigError(f"spec={name!r} is not a shipped spec; choose one of {', '.join(sorted(shipped))}")
        return SPECS / f"{name}.toml"
    if not isinstance(text, str):
        raise ConfigError("toml must be the spec's text, a string")
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise ConfigError(f"the spec is {len(text.encode())} bytes; paste at most {MAX_SPEC_BYTES}")
    spec_dir.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(spec_dir / f"{label}.toml", text)


@dataclass
class SweepJob:
    """One `mnistlab sweep` process started (or adopted) by the lab."""

    id: int
    label: str
    argv: list[str]
    process: subprocess.Popen | AdoptedProcess
    log: Path
    sweep: str | None = None
    started: float = field(default_factory=time.time)
    stop_requested: bool = False

    def state(self) -> dict[str, Any]:
        """JSON-ready: id, spec label, pid, status ("running" | "exited"), exit code, sweep directory name."""
        code = self.process.poll()
        adopted = isinstance(self.process, AdoptedProcess)
        return {"id": self.id, "label": self.label, "pid": self.process.pid, "sweep": self.sweep,
                "status": "running" if code is None else "exited", "exit_code": None if adopted else code,
                "stop_requested": self.stop_requested, "adopted": adopted, "command": " ".join(self.argv[1:])}

    def entry(self) -> dict[str, Any]:
        """The job as a line of the sweep jobs file."""
        return {"id": self.id, "label": self.label, "pid": self.process.pid, "argv": self.argv,
                "log": str(self.log), "sweep": self.sweep, "started": self.started}


def error_line(log: Path, code: int | None) -> str:
    """The CLI's one-line error in `log` (without "error: "), or a line saying where to look."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    errors = [line[len("error: "):] for line in lines if line.startswith("error: ")]
    if errors:
        return errors[-1]
    return f"the sweep process ended at once (exit code {code}); its output is in {log}"


def mark_sweep_interrupted(sweep_dir: Path) -> None:
    """Record status "interrupted" in sweep.json (and its runs) if it still says "running": its driver is gone."""
    try:
        state = read_json_object(sweep_dir / SWEEP_FILE, "sweep.json")
    except ConfigError:
        return
    if state.get("status") == "running":
        write_json_atomic(sweep_dir / SWEEP_FILE, {**state, "status": "interrupted"})
    for path in sorted(sweep_dir.iterdir()):
        if is_run_dir(path):
            mark_interrupted(path)


class SweepJobs:
    """The sweeps this lab started or adopted: start (after the CLI's verdict on the spec), list, stop."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._jobs: dict[int, SweepJob] = {}
        for entry in load_jobs(runs_dir, SWEEP_JOBS):  # still sweeping since an earlier lab started them
            try:
                job_id, pid, argv = int(entry["id"]), int(entry["pid"]), [str(a) for a in entry["argv"]]
                if process_runs(pid, argv):
                    self._jobs[job_id] = SweepJob(job_id, str(entry["label"]), argv, AdoptedProcess(pid, argv),
                                                  Path(entry["log"]), entry.get("sweep"), float(entry["started"]))
            except (KeyError, TypeError, ValueError):
                continue
        self._ids = itertools.count(max(self._jobs, default=0) + 1)
        self._lock = threading.Lock()
        self._starting = threading.Lock()

    def _sweep_dirs(self) -> set[str]:
        return {p.name for p in self.runs_dir.iterdir() if is_sweep_dir(p)} if self.runs_dir.is_dir() else set()

    def start(self, body: dict[str, Any], wait: float = START_SECONDS) -> dict[str, Any]:
        """Start `mnistlab sweep` on the requested spec; ConfigError with the CLI's line if it refuses the spec."""
        with self._starting:
            job_id = next(self._ids)
            lab_dir = self.runs_dir / ".lab"
            label = f"lab-sweep-{dt.datetime.now():%H%M%S}-{job_id}"
            spec = spec_source(body, lab_dir / "sweeps", label)
            if body.get("spec"):
                label = f"{body['spec']}-{job_id}"
            before = self._sweep_dirs()
            argv = [sys.executable, "-m", "mnistlab", "sweep", str(spec), "--runs-dir", str(self.runs_dir), "--quiet"]
            log = lab_dir / f"{label}.log"
            job = SweepJob(job_id, label, argv, start_detached(argv, log), log)
            deadline = time.monotonic() + wait
            while job.sweep is None and time.monotonic() < deadline:
                new = sorted(self._sweep_dirs() - before)
                if new:
                    job.sweep = new[-1]
                elif (code := job.process.poll()) is not None:
                    raise ConfigError(error_line(log, code))
                else:
                    time.sleep(0.2)
            with self._lock:
                self._jobs[job_id] = job
                self._save()
            return job.state()

    def _save(self) -> None:
        save_jobs(self.runs_dir, [j.entry() for j in self._jobs.values() if j.process.poll() is None], SWEEP_JOBS)

    def list(self) -> list[dict[str, Any]]:
        """Every job's state, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.state() for job in reversed(jobs)]

    def find(self, sweep: str) -> SweepJob | None:
        """The job that created sweep directory `sweep`, or None."""
        with self._lock:
            return next((j for j in self._jobs.values() if j.sweep == sweep), None)

    def stop(self, job: SweepJob) -> dict[str, Any]:
        """Ask the sweep to stop (SIGINT to the CLI now; SIGTERM, SIGKILL to its group later); return its state."""
        if job.process.poll() is None and not job.stop_requested:
            job.stop_requested = True
            _signal(job.process.pid, signal.SIGINT, group=False)
            threading.Thread(target=self._finish_stop, args=(job,), name=f"stop-sweep-{job.id}", daemon=True).start()
        return job.state()

    def _finish_stop(self, job: SweepJob) -> None:
        for grace, next_signal in zip(GRACE_SECONDS, (signal.SIGTERM, signal.SIGKILL)):
            try:
                job.process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                _signal(job.process.pid, next_signal, group=True)
        job.process.wait()
        if job.sweep is not None:
            mark_sweep_interrupted(self.runs_dir / job.sweep)


def _signal(pid: int, sig: int, group: bool) -> None:
    try:
        os.killpg(pid, sig) if group else os.kill(pid, sig)
    except ProcessLookupError:
        pass
