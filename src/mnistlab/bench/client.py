"""The parent's handle on a worker process: start it, send jobs, read results, stop it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mnistlab.bench.jobs import Job, job_to_fields
from mnistlab.errors import BackendError


class Worker:
    """A running ``python -m mnistlab.bench.worker`` for one engine at one thread count.

    Its stderr (framework chatter) goes to a temporary log, quoted when the worker fails.
    """

    def __init__(self, engine: str, threads: int, data_dir: Path | None = None, *,
                 dataset: str = "mnist", n_train: int | None = None) -> None:
        self.engine = engine
        self.threads = threads
        cmd = [sys.executable, "-m", "mnistlab.bench.worker", "--engine", engine, "--threads", str(threads)]
        if data_dir is not None:
            cmd += ["--data", str(data_dir)]
        else:
            cmd += ["--dataset", dataset] + (["--n-train", str(n_train)] if n_train else [])
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
        self._log = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                      text=True, env=env)
        self.ready_info: dict[str, Any] | None = None

    def wait_ready(self) -> dict[str, Any]:
        """Block until the worker has imported its framework and loaded the data; return its hello."""
        if self.ready_info is None:
            hello = self._read()
            if not hello.get("ready"):
                self.close()
                raise BackendError(f"engine {self.engine} failed to start: {hello.get('error')}")
            self.ready_info = hello
        return self.ready_info

    def run(self, job: Job | dict[str, Any]) -> dict[str, Any]:
        """Send one job (a `jobs` dataclass, or its fields as a dict) and return the worker's measured result."""
        self.wait_ready()
        fields = dict(job) if isinstance(job, dict) else job_to_fields(job)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(fields) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # _read reports the exit with the log
        result = self._read()
        if not result.get("ok"):
            raise BackendError(f"engine {self.engine} failed: {result.get('error')}")
        return result

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            raise BackendError(f"engine {self.engine} worker exited with code {code}: {self._tail()}")
        return json.loads(line)

    def _tail(self) -> str:
        self._log.seek(0)
        lines = [ln for ln in self._log.read().splitlines() if ln.strip()]
        return lines[-1] if lines else "(no output)"

    def close(self) -> None:
        """Close stdin so the worker exits; kill it if it does not within 30 s."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                self._proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, BrokenPipeError):
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        self._log.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_workers(names: list[str], threads: int, data_dir: Path) -> tuple[dict[str, Worker], list[str]]:
    """Start one worker per engine (they import in parallel) and wait; failures become skip notes."""
    workers = {name: Worker(name, threads, data_dir) for name in names}
    notes = []
    for name in list(workers):
        try:
            workers[name].wait_ready()
        except BackendError as exc:
            notes.append(f"skipped {name} on {threads} thread(s): {exc}")
            workers.pop(name).close()
    return workers, notes


def run_or_drop(workers: dict[str, Worker], name: str, job: Any, notes: list[str]) -> dict[str, Any] | None:
    """Run `job` on `workers[name]`; if the worker fails, note it, close and drop it, and return None."""
    try:
        return workers[name].run(job)
    except BackendError as exc:
        notes.append(f"{name} on {workers[name].threads} thread(s) stopped: {exc}")
        workers.pop(name).close()
        return None
