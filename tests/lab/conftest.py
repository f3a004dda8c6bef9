"""Real runs for the lab's tests: a small MLP that reads a drawn 1 as a 1, a tiny CNN, one run mid-training."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnistlab.lab import create_app  # imports no Starlette: each test module skips when the extra is absent

HAS_KERAS = importlib.util.find_spec("keras") is not None
LIVE_LABEL = "live ünï cödé 🚀"


def train_mlp(runs_dir: Path, name: str, *, train_size: int = 10000, hidden: tuple[int, ...] = (32,),
              epochs: int = 5) -> Path:
    """Train a small MLP run in `runs_dir` through the library; return its directory."""
    from mnistlab.mlp.config import MLPConfig
    from mnistlab.mlp.run import MLPRunConfig
    from mnistlab.runs.training import train_mlp_run

    config = MLPRunConfig(scaler="unit", train_size=train_size,
                          mlp=MLPConfig(hidden_sizes=hidden, epochs=epochs, random_state=0, eval_test_every=1,
                                         n_iter_no_change=None))  # a fixed epoch budget
    return Path(train_mlp_run(config, runs_dir=str(runs_dir), name=name)["run_dir"])


def train_cnn(runs_dir: Path, name: str) -> Path:
    """Train a tiny CNN run (1 epoch, 1000 images, 4-8-8 filters) in `runs_dir`; return its directory."""
    from mnistlab.cnn.config import CNNConfig, parse_layers
    from mnistlab.runs.training import train_cnn_run

    config = CNNConfig(epochs=1, train_size=1000, layers=parse_layers(conv="4,8,8", dense="16")).validate()
    return Path(train_cnn_run(config, runs_dir=str(runs_dir), name=name)["run_dir"])


@pytest.fixture(autouse=True)
def _no_training_left_running() -> Iterator[None]:
    """After each test, end and reap the trainings it started from the lab (they outlive a lab by design).

    None then trains on into later tests, and none is left un-waited: at exit, Python would warn
    that its Popen object's subprocess "is still running".
    """
    from mnistlab.lab.detached import started_processes

    yield
    for process in started_processes():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the training and its threads
            process.wait()


@pytest.fixture(scope="session")
def lab_runs(tmp_path_factory) -> dict[str, Path]:
    """A runs directory with two trained MLPs, a tiny CNN (when Keras is installed) and a run still 'running'."""
    from mnistlab.runs.rundir import RunDir

    runs_dir = tmp_path_factory.mktemp("lab") / "runs"
    runs_dir.mkdir()
    runs = {"mlp": train_mlp(runs_dir, "draw-mlp"),
            "mlp_small": train_mlp(runs_dir, "small-mlp", train_size=2000, hidden=(16,), epochs=3)}
    if HAS_KERAS:
        runs["cnn"] = train_cnn(runs_dir, "tiny-cnn")
    # Its label is any text (shown by the table and the run page); its folder is the safe form.
    live = RunDir.create(runs_dir, LIVE_LABEL, "mlp", {"dataset": "mnist", "mlp": {"epochs": 10}})
    live.log_epoch({"epoch": 1, "loss": 1.0, "test_accuracy": 0.5})
    runs["live"] = live.path
    runs["dir"] = runs_dir
    return runs


@pytest.fixture
def lab_client(lab_runs):
    """A TestClient of the lab over `lab_runs`, sending requests as the page would (same origin)."""
    from starlette.testclient import TestClient

    app = create_app(lab_runs["dir"], poll_seconds=0.05)
    with TestClient(app, base_url="http://127.0.0.1:8765", headers={"Origin": "http://127.0.0.1:8765"}) as client:
        yield client


class LabServer:
    """The lab served by uvicorn in a thread on a free 127.0.0.1 port; `stop()` ends it."""

    def __init__(self, runs_dir: Path, token: str | None = None, *, listener: dict | None = None,
                 server: dict | None = None, **app_options) -> None:
        from mnistlab.lab.server import make_server, open_listener

        self.sock = open_listener("127.0.0.1", 0, **(listener or {}))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.app = create_app(runs_dir, **{"poll_seconds": 0.2, "token": token, **app_options})
        self.server = make_server(self.app, **(server or {}))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> LabServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the lab server did not start"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def lab_server(lab_runs) -> Iterator[LabServer]:
    """A real lab server over `lab_runs` for the browser tests, stopped afterwards (its trainings go on)."""
    server = LabServer(lab_runs["dir"]).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def serve_lab(lab_runs):
    """A factory of lab servers over `lab_runs` or `runs_dir` (e.g. with a token); each is stopped after the test."""
    servers: list[LabServer] = []

    def serve(runs_dir: Path | None = None, **options) -> LabServer:
        servers.append(LabServer(runs_dir or lab_runs["dir"], **options).start())
        return servers[-1]

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def mlp_trainer():
    """`train_mlp` as a fixture (test modules must not import from conftest)."""
    return train_mlp
