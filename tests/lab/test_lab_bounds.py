"""Slow and stalled clients are cut off after a bound, and event streams cannot pile up.

Real uvicorn servers on 127.0.0.1 with small bounds (1 s instead of 10 s); each test asserts that
the cut-off happens within a generous deadline (30 s), never how fast it happens.
"""

from __future__ import annotations

import importlib.util
import os
import select
import socket
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")

from mnistlab.lab.detached import AdoptedProcess, process_runs  # noqa: E402

GENEROUS = 30.0  # seconds: a bound of 1 s must have acted long before this, however loaded the machine


def load_many_runs():
    """benchmarks/many_runs.py as a module (the benchmarks are scripts, not a package)."""
    path = Path(__file__).parents[2] / "benchmarks" / "many_runs.py"
    spec = importlib.util.spec_from_file_location("many_runs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(server, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer:  # set before connecting, so the window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    return sock


def closed_by_server(sock: socket.socket, deadline: float) -> tuple[bool, bytes]:
    """Read until the server closes (EOF or reset) or `deadline` (monotonic) passes; return (closed, bytes read)."""
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return True, data
        if not chunk:
            return True, data
        data += chunk
    return False, data


def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(serve_lab):
    server = serve_lab(body_seconds=1.0)
    sock = connect(server)
    host = f"127.0.0.1:{server.port}"
    sock.sendall(f"POST /api/predict HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n".encode())
    deadline, data = time.monotonic() + GENEROUS, b""
    try:
        while time.monotonic() < deadline:
            sock.sendall(b" ")  # one byte at a time, never the whole body
            ready, _, _ = select.select([sock], [], [], 0.2)
            if ready:
                closed, data = closed_by_server(sock, deadline)
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"connection: close" in data.lower()


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(serve_lab):
    server = serve_lab(server={"head_seconds": 1.0})
    sock = connect(server)
    deadline, closed = time.monotonic() + GENEROUS, False
    try:
        sock.sendall(f"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode())
        while time.monotonic() < deadline and not closed:
            sock.sendall(b"X")  # a header line that never ends
            closed, _ = closed_by_server(sock, time.monotonic() + 0.2)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    finally:
        sock.close()
    assert closed


def test_an_idle_connection_is_closed(serve_lab):
    server = serve_lab(server={"head_seconds": 1.0})
    sock = connect(server)  # connects and never sends a request
    try:
        closed, data = closed_by_server(sock, time.monotonic() + GENEROUS)
    finally:
        sock.close()
    assert closed and data == b""


@pytest.mark.slow
def test_an_event_stream_that_never_reads_is_cut_off(serve_lab, tmp_path):
    """A stream whose client reads nothing is aborted once its writes stall; the stream slot is freed."""
    runs_dir = tmp_path / "runs"
    load_many_runs().generate_runs(runs_dir, 400, durable=False)  # a first event of ~100 KB, more than the buffers
    server = serve_lab(runs_dir, listener={"send_buffer": 4096}, server={"stall_seconds": 1.0})
    sock = connect(server, receive_buffer=4096)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    deadline = time.monotonic() + GENEROUS
    opened = False
    while time.monotonic() < deadline:  # the stream opens, then ends once the server has cut the client off
        opened = opened or server.app.state.streams.count == 1
        if opened and server.app.state.streams.count == 0:
            break
        time.sleep(0.1)
    try:
        closed, _ = closed_by_server(sock, deadline)  # now read: what the kernel held, then the reset
    finally:
        sock.close()
    assert opened and server.app.state.streams.count == 0 and closed


def test_event_streams_past_the_limit_are_refused_and_stopping_ends_the_open_ones(serve_lab):
    import httpx

    server = serve_lab(max_streams=2)
    with httpx.Client(base_url=server.url, timeout=GENEROUS) as client:
        with client.stream("GET", "/api/events") as first, client.stream("GET", "/api/events") as second:
            assert first.status_code == second.status_code == 200
            third = client.get("/api/events")
            assert third.status_code == 429 and "limit 2" in third.json()["error"]
            server.stop()  # ends both open streams instead of waiting for them (stop() joins for up to 30 s)
            assert not server.thread.is_alive()
            assert server.app.state.streams.count == 0


def test_an_adopted_process_is_recognised_by_its_command():
    me = AdoptedProcess(os.getpid(), list(sys.orig_argv))
    assert process_runs(os.getpid(), list(sys.orig_argv)) and me.poll() is None
    assert not process_runs(os.getpid(), [*sys.orig_argv, "--something-else"])  # a reused pid runs another command
    assert AdoptedProcess(2 ** 22 + 1, ["python"]).poll() == -1  # above any pid Linux hands out
