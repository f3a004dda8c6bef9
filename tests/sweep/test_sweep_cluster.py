"""A sweep on a two-node Ray cluster on loopback, started and stopped by the test (`ray start --block`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.tune")
pytestmark = pytest.mark.ray
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    # --block keeps `ray start` in the foreground: stopping it (SIGTERM) stops the node it started.
    with log.open("w") as out:
        return subprocess.Popen([RAY, "start", "--block", "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
                                 "--disable-usage-stats", *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:  # whatever the node left in its process group (this test's processes only)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


WAIT_FOR_NODES = """
import sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False)
deadline = time.monotonic() + 90
while sum(node["Alive"] for node in ray.nodes()) < int(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.5)
print(sum(node["Alive"] for node in ray.nodes()))
"""


def _wait_for_nodes(address: str, n: int) -> None:
    # A separate process: Ray reads its authentication mode once per process.
    out = subprocess.run([sys.executable, "-c", WAIT_FOR_NODES, address, str(n)], capture_output=True, text=True,
                         timeout=150)
    assert out.stdout.strip() == str(n), out.stderr[-2000:]


@pytest.fixture
def two_node_cluster(tmp_path, monkeypatch):
    """A head node and a worker node, one CPU each, on 127.0.0.1; both stopped even if the test fails.

    Ray's token authentication: nodes and driver share the user's token (~/.ray/auth_token, made if
    missing); a driver given an explicit address uses it only with RAY_AUTH_MODE=token.
    """
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    subprocess.run([RAY, "get-auth-token", "--generate"], check=True, capture_output=True)
    port = _free_port()
    temp = Path(f"/tmp/mnl-ray-{port}")  # short: Ray's socket paths must stay under 108 characters
    nodes = [_start(["--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", str(temp)],
                    tmp_path / "head.log")]
    try:
        time.sleep(3)
        nodes.append(_start(["--address", f"127.0.0.1:{port}"], tmp_path / "worker.log"))
        _wait_for_nodes(f"127.0.0.1:{port}", 2)
        yield f"127.0.0.1:{port}"
    finally:
        for proc in reversed(nodes):
            _stop(proc)
        subprocess.run(["rm", "-rf", str(temp)], check=False)


@pytest.mark.slow
def test_trials_land_on_both_nodes(two_node_cluster, write_spec, tmp_path):
    spec = write_spec(top={"max_concurrent": "2", "seeds": "[0, 1]"})
    out = subprocess.run([sys.executable, "-m", "mnistlab", "sweep", spec, "--address", two_node_cluster,
                          "--runs-dir", str(tmp_path / "runs"), "--json", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert summary["counts"] == {"completed": 4}
    import csv

    with (Path(summary["sweep_dir"]) / "results.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len({row["node_id"] for row in rows}) == 2, rows
    assert all(row["pid"] and row["hostname"] for row in rows)
