"""Trainings that outlive the lab: the jobs file, and adopting the processes an earlier lab started.

A training started from the lab is a CLI process in its own session, writing to its run directory
and to `<runs>/.lab/<name>.log`, so stopping or restarting the lab does not stop it: it has no
terminal to lose, no pipe to the lab to break, and Ctrl-C reaches only the lab's process group.
So that a new lab can show and stop it, the lab keeps `<runs>/.lab/jobs.json` (written atomically
on every start): each job's id, name, kind, pid and command. A new lab adopts the jobs whose
process is still alive and still runs that command (a reused pid runs another one); the run
itself shows up, running with its new epochs, like any run in the directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mnistlab.errors import ConfigError
from mnistlab.fileio import read_json_object, write_json_atomic

JOBS_FILE = Path(".lab") / "jobs.json"
NICENESS = 10
# Every training process this Python process started. They may outlive the lab that started them,
# so their Popen objects must not be collected with it (Python would warn that they still run).
_STARTED: list[subprocess.Popen] = []
# Execs its arguments with SIGINT at its default. A process started with SIGINT ignored (a shell's
# `cmd &`, some CI runners) hands the ignoring down through exec, and the lab's stop (SIGINT, see
# training.py) would then wait its grace period for SIGTERM instead of interrupting the training.
# exec keeps the command line /proc shows, so `process_runs` still recognises the training.
_SIGINT_DEFAULT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                   "os.execv(sys.argv[1], sys.argv[1:])")


def start_detached(argv: list[str], log: Path) -> subprocess.Popen:
    """Start `argv` in its own session, stdin empty, stdout and stderr into `log`: it outlives the lab.

    It runs at niceness +`NICENESS` (through `nice`, so that every thread it starts inherits it): a
    training takes the CPU the lab's requests leave, and the page stays responsive beside it. Its
    results do not change, only how long it takes.
    """
    nice = shutil.which("nice")
    command = [nice, "-n", str(NICENESS), *argv] if nice else argv  # nice execs argv: /proc shows argv itself
    command = [sys.executable, "-c", _SIGINT_DEFAULT, *command]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    _STARTED.append(process)
    return process


def started_processes() -> list[subprocess.Popen]:
    """Every training process this Python process started, oldest first (running or not)."""
    return list(_STARTED)


def jobs_file(runs_dir: Path, file: Path = JOBS_FILE) -> Path:
    """Where the lab keeps the trainings it started (`<runs>/.lab/jobs.json`; sweeps: `file`)."""
    return runs_dir / file


def save_jobs(runs_dir: Path, jobs: list[dict[str, Any]], file: Path = JOBS_FILE) -> None:
    """Write the jobs file (id, name, kind, pid, argv, log, started of each job)."""
    write_json_atomic(jobs_file(runs_dir, file), {"jobs": jobs})


def load_jobs(runs_dir: Path, file: Path = JOBS_FILE) -> list[dict[str, Any]]:
    """The jobs file's entries, or [] when it is absent or unreadable (it is only a convenience)."""
    try:
        entries = read_json_object(jobs_file(runs_dir, file), "the lab's jobs file").get("jobs")
    except ConfigError:  # absent or damaged: nothing to adopt
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def process_runs(pid: int, argv: list[str]) -> bool:
    """Whether process `pid` is alive (not a zombie) and runs `argv` (checked where /proc exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: not ours
        return False
    proc = Path("/proc") / str(pid)
    if not proc.is_dir():
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except (OSError, IndexError):
        return False
    return state != "Z" and [part.decode(errors="replace") for part in cmdline] == argv


class AdoptedProcess:
    """A training process an earlier lab started: enough of `subprocess.Popen` to show, wait for and stop it.

    It is not this lab's child, so its exit code is unknown: `poll()` gives None while it runs, then -1.
    """

    def __init__(self, pid: int, argv: list[str]) -> None:
        self.pid, self.argv = pid, argv

    def poll(self) -> int | None:
        return None if process_runs(self.pid, self.argv) else -1

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.argv, timeout)
            time.sleep(0.1)
        return code
