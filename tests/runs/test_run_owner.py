"""`mnistlab.runs.rundir` is the one owner of a run directory: each rule held in one place, and tested here.

- only rundir names the metrics file and the run record (scan of the source);
- statuses are one str-Enum, JSON and string comparisons unchanged;
- a run left "running" by a dead process is closed as "interrupted" by whoever reads it;
- planned epochs, the label and trial metadata live in the run's record;
- many writers (threads and processes) in one runs directory get distinct folders, files unmixed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import mnistlab
from mnistlab.cli import ExitCode, main
from mnistlab.fileio import make_unique_dir
from mnistlab.runs.catalog import list_runs, load_run
from mnistlab.runs.rundir import (METRICS_FILE, RUN_FILE, RunDir, RunStatus, find_runs, planned_epochs_of,
                                  run_dir_of)

SRC = Path(mnistlab.__file__).parent
OWNER = SRC / "runs" / "rundir.py"
OWNED_NAMES = ("metrics.csv", "run.json")
# Modules that may import a record file's name, only to name it in messages; none opens it.
# (RUN_FILES, the tuple of all of them, is free to use: the lab stats them to notice changes.)
NAMES_IN_MESSAGES = {SRC / "runs" / "catalog.py": {"RUN_FILE"}}


def _mentions(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [name for name in OWNED_NAMES if name in text]


def _imported_file_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "mnistlab.runs.rundir":
            names |= {alias.name for alias in node.names if alias.name.endswith("_FILE")}
    return names


def test_only_rundir_names_the_metrics_file_and_the_run_record():
    offenders = {str(p.relative_to(SRC)): _mentions(p) for p in SRC.rglob("*")
                 if p.is_file() and p.suffix in (".py", ".js", ".html") and p != OWNER and _mentions(p)}
    assert offenders == {}, "open these files through mnistlab.runs.rundir.RunDir"
    for path in SRC.rglob("*.py"):
        if path != OWNER:
            imported = _imported_file_names(ast.parse(path.read_text(encoding="utf-8")))
            assert imported <= NAMES_IN_MESSAGES.get(path, set()), f"{path} imports {imported}"


def test_the_scan_finds_a_module_that_names_the_file(tmp_path):
    """Positive control: the scan above would catch a module opening the metrics file itself."""
    module = tmp_path / "sneaky.py"
    module.write_text('from mnistlab.runs.rundir import METRICS_FILE\nopen(run_dir / "metrics.csv")\n')
    assert _mentions(module) == ["metrics.csv"]
    assert _imported_file_names(ast.parse(module.read_text())) == {"METRICS_FILE"}


def test_statuses_are_a_str_enum_that_json_and_strings_keep_reading(runs_dir):
    assert [s.value for s in RunStatus] == ["running", "completed", "interrupted", "failed", "diverged", "stopped"]
    assert RunStatus.COMPLETED == "completed" and f"{RunStatus.FAILED}" == "failed"
    run = RunDir.create(runs_dir, "s", "mlp", {"epochs": 1})
    run.finish({"epochs": 1}, status=RunStatus.STOPPED)
    assert json.loads(run.file(RUN_FILE).read_text())["status"] == "stopped"
    assert load_run(run.path).status == RunStatus.STOPPED
    with pytest.raises(ValueError, match="unknown run status 'done'"):
        run.set_status("done")


def _dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                             text=True, check=True)
    return int(process.stdout)


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted_when_read(runs_dir):
    dead = RunDir.create(runs_dir, "killed", "mlp", {"epochs": 5})
    dead.log_epoch({"epoch": 1, "loss": 0.5})
    dead.update_info(pid=_dead_pid())
    alive = RunDir.create(runs_dir, "training", "mlp", {"epochs": 5})  # this process: alive
    elsewhere = RunDir.create(runs_dir, "remote", "mlp", {"epochs": 5})
    elsewhere.update_info(pid=_dead_pid(), host="another-host")  # a pid of another machine says nothing here
    statuses = {record.label: record.status for record in list_runs(runs_dir)}
    assert statuses == {"killed": "interrupted", "training": "running", "remote": "running"}
    info = dead.info
    assert info["status"] == "interrupted" and "ended without recording" in info["reason"] and "finished" in info
    assert "the run interrupted after 1 logged epochs" in " ".join(load_run(dead.path).problems)


def test_pid_and_host_are_recorded_and_a_resume_takes_them_over(runs_dir):
    run = RunDir.create(runs_dir, "r", "cnn", {"epochs": 2})
    info = run.info
    assert info["pid"] == os.getpid() and info["host"] and run.trainer_alive() is True
    run.update_info(pid=_dead_pid())
    assert run.trainer_alive() is False
    run.mark_running(resumed_from_epoch=1)
    assert run.info["pid"] == os.getpid() and run.info["status"] == "running"


def test_planned_epochs_have_one_definition(runs_dir):
    assert planned_epochs_of({"epochs": 7}) == 7 and planned_epochs_of({"mlp": {"epochs": 9}}) == 9
    assert planned_epochs_of({"epochs": True}) is None and planned_epochs_of(None) is None
    mlp = RunDir.create(runs_dir, "m", "mlp", {"dataset": "mnist", "mlp": {"epochs": 9}})
    assert mlp.info["planned_epochs"] == 9 and mlp.planned_epochs == 9 == load_run(mlp.path).planned_epochs
    mlp.update_info(planned_epochs=12)  # what a resume to 12 epochs records
    assert mlp.planned_epochs == 12 == load_run(mlp.path).planned_epochs
    older = RunDir.create(runs_dir, "old", "cnn", {"epochs": 4})
    older.update_info(planned_epochs=None)  # a run from before the field: its config says
    assert older.planned_epochs == 4 == load_run(older.path).planned_epochs


def test_the_label_and_trial_metadata_live_in_the_record(runs_dir):
    label = "ünï cödé 🚀 run"
    run = RunDir.create(runs_dir, label, "mlp", {}, trial={"sweep": "lr-sweep", "trial_id": "a1"})
    assert run.path.name.endswith("-uni-code-run") and run.label == label == load_run(run.path).label
    run.set_trial(seed=3)
    assert run.trial == {"sweep": "lr-sweep", "trial_id": "a1", "seed": 3} == load_run(run.path).trial
    assert RunDir.create(runs_dir, "solo", "mlp", {}).trial == {}
    assert [r.path for r in find_runs(runs_dir, label)] == [run.path]
    (run.path / "model.npz").write_bytes(b"model")
    assert run_dir_of(run.path / "model.npz") == run.path and run_dir_of(runs_dir / "x.keras") is None


def test_typed_rows_read_back_and_a_resume_trims_them(runs_dir):
    run = RunDir.create(runs_dir, "rows", "mlp", {})
    for epoch in (1, 2, 3):
        run.log_epoch({"epoch": epoch, "loss": 1.0 / epoch, "epoch_seconds": 0.5, "test_accuracy": ""})
    rows = run.epoch_rows()
    assert [r.epoch for r in rows] == [1, 2, 3] and rows[1].get("loss") == 0.5 and rows[0].get("test_accuracy") is None
    assert run.metrics()["loss"].tolist() == [1.0, 0.5, pytest.approx(1 / 3)]
    kept = run.keep_epochs_up_to(2)
    assert [r.epoch for r in kept] == [1, 2] == [r.epoch for r in run.epoch_rows()]
    with run.file(METRICS_FILE).open("a") as fh:
        fh.write("3,0.1")  # a row cut off mid-write
    assert run.metrics_cut_off() and [r.epoch for r in run.epoch_rows()] == [1, 2, 3]


# --- many writers ------------------------------------------------------------------------------------

WRITER = """
import sys
from mnistlab.runs.rundir import RunDir
run = RunDir.create(sys.argv[1], sys.argv[2], "mlp", {"epochs": 3, "writer": int(sys.argv[3])})
for epoch in (1, 2, 3):
    run.log_epoch({"epoch": epoch, "loss": float(sys.argv[3]), "epoch_seconds": 0.0})
run.finish({"epochs": 3, "writer": int(sys.argv[3])})
"""
def _start_together(commands: list[list[str]]) -> list[subprocess.Popen]:
    """Start the commands at once; each waits for a shared go signal (its stdin closing) before importing."""
    env = {**os.environ, "PYTHONPATH": str(SRC.parent)}
    gate = "import sys; sys.stdin.read(); "
    processes = [subprocess.Popen([sys.executable, "-c", gate + f"exec(compile({command[0]!r}, 'w', 'exec'))",
                                   *command[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env) for command in commands]
    for process in processes:
        process.stdin.close()  # go
        process.stdin = None
    return processes


def test_many_writers_in_one_runs_directory_get_distinct_runs(runs_dir):
    """12 processes and 8 threads write runs of one name, and 2 sweeps start, all at the same moment."""
    from mnistlab.sweep.driver import _new_sweep_dir

    name = "same name"
    processes = _start_together([[WRITER, str(runs_dir), name, str(i)] for i in range(12)])
    sweeps: list[Path] = []
    threads = [threading.Thread(target=RunDir.create, args=(runs_dir, name, "cnn", {"thread": i}))
               for i in range(8)] + [threading.Thread(target=lambda: sweeps.append(_new_sweep_dir(runs_dir, name)))
                                     for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in outputs]
    assert len(set(sweeps)) == 2 and all(p.is_dir() and p.parent == runs_dir for p in sweeps)
    records = list_runs(runs_dir)  # the sweep folders hold no run files yet: not runs
    assert len(records) == 20 and len({r.path for r in records}) == 20 and not {r.path for r in records} & set(sweeps)
    assert {r.label for r in records} == {name}
    writers = [r for r in records if r.kind == "mlp"]
    assert sorted(r.config["writer"] for r in writers) == list(range(12))
    for record in writers:  # each run's files are its own writer's
        assert record.status == "completed" and record.summary["writer"] == record.config["writer"]
        assert record.metrics["loss"].tolist() == [float(record.config["writer"])] * 3
    assert len(find_runs(runs_dir, name)) == 20


def test_make_unique_dir_never_reuses_a_folder(tmp_path):
    made = [make_unique_dir(tmp_path, "x") for _ in range(3)]
    assert len(set(made)) == 3 and [p.name.rsplit("-x", 1)[-1] for p in made][1:] == ["-2", "-3"]


@pytest.mark.slow
def test_a_dozen_real_trainings_started_together_are_all_listed(runs_dir, capsys):
    """12 `mnistlab mlp train` processes with the same --name, started at once: 12 runs, all completed."""
    env = {**os.environ, "PYTHONPATH": str(SRC.parent)}
    argv = [sys.executable, "-m", "mnistlab", "mlp", "train", "--preset", "seed", "--train-size", "100",
            "--hidden", "4", "--epochs", "1", "--threads", "1", "--quiet", "--runs-dir", str(runs_dir),
            "--name", "ünï cödé 🚀 run"]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(12)]
    outputs = [process.communicate(timeout=600) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err for _, err in outputs]
    assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == ExitCode.OK
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 12 and len({row["path"] for row in rows}) == 12
    assert {row["status"] for row in rows} == {"completed"} and {row["label"] for row in rows} == {"ünï cödé 🚀 run"}
    assert sorted(out.split("run: ")[-1].strip() for out, _ in outputs) == sorted(row["path"] for row in rows)


def test_closing_a_dead_run_never_writes_through_a_link_out_of_it(runs_dir, tmp_path):
    run = RunDir.create(runs_dir, "linked", "mlp", {})
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({**run.info, "pid": _dead_pid()}))
    run.file(RUN_FILE).unlink()
    (run.path / RUN_FILE).symlink_to(outside)
    record = load_run(run.path)  # read, shown as interrupted, but the file outside is left alone
    assert record.status == "interrupted" and json.loads(outside.read_text())["status"] == "running"
