"""`mnistlab lab` from the command line: it serves the runs, prints its URL, stops on Ctrl-C, reports bad input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from mnistlab.cli import main

pytest.importorskip("starlette", reason="the lab needs the [lab] extra (starlette, uvicorn)")
pytest.importorskip("uvicorn", reason="the lab needs the [lab] extra (starlette, uvicorn)")


# Starts the command with SIGINT at a set disposition: SIG_IGN is what a shell's `cmd &` (and some CI
# runners) hand down; exec keeps it, while a Python handler would be reset to the default.
LAUNCH_WITH_SIGINT = "import os, signal, sys; signal.signal(signal.SIGINT, getattr(signal, sys.argv[1])); " \
                     "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"


@pytest.mark.parametrize("inherited", ["SIG_DFL", "SIG_IGN"])
def test_the_command_serves_the_runs_and_stops_on_ctrl_c(lab_runs, inherited):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", LAUNCH_WITH_SIGINT, inherited,
               "-m", "mnistlab", "lab", "--runs-dir", str(lab_runs["dir"]), "--port", "0", "--no-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("mnistlab lab on ") and "http://127.0.0.1:" in line and "token" not in line
        url = line.split(": ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "api/runs", timeout=30) as response:  # answered: the server runs
            names = [row["name"] for row in json.load(response)["runs"]]
        assert lab_runs["mlp"].name in names
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130  # the CLI's exit code for Ctrl-C, after a clean shutdown
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_a_busy_port_is_one_error_line(capsys, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code = main(["lab", "--runs-dir", str(tmp_path), "--port", str(port), "--no-browser"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: cannot listen on 127.0.0.1:") and "--port" in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_as_runs_dir_is_one_error_line(capsys, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    code = main(["lab", "--runs-dir", str(path), "--no-browser"])
    err = capsys.readouterr().err
    assert code == 2 and "'--runs-dir'" in err and "is a file" in err and "Traceback" not in err


def test_help_names_every_option(capsys):
    assert main(["lab", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--runs-dir", "--host", "--port", "--no-browser"):
        assert option in out


def test_accepted_connections_have_nagle_off():
    """Without TCP_NODELAY every keep-alive request waits ~40 ms for a delayed ACK (see lab.server)."""
    from mnistlab.lab.server import open_listener

    with open_listener("127.0.0.1", 0) as listener, \
            socket.create_connection(listener.getsockname(), timeout=5) as client:
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert client is not None
