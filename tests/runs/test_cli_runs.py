"""`mnistlab report`, `mnistlab runs` and `mnistlab rerun` through the real CLI entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mnistlab.cli
from mnistlab.cli import ExitCode, main


def test_report_prints_the_path_of_the_page(run_factory, capsys):
    run = run_factory("shown")
    assert main(["report", str(run.path)]) == ExitCode.OK
    out = capsys.readouterr().out.strip()
    assert out == str(run.path / "report.html")
    assert (run.path / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_report_with_out_compares_several_runs(run_factory, tmp_path, capsys):
    out = tmp_path / "both.html"
    paths = [str(run_factory(n).path) for n in ("a", "b")]
    assert main(["report", *paths, "--out", str(out)]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == str(out)
    assert "Comparison of 2 runs" in out.read_text()


def test_report_json_names_the_page_and_the_runs(run_factory, capsys):
    run = run_factory("as-json")
    assert main(["report", str(run.path), "--json"]) == ExitCode.OK
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"report": str((run.path / "report.html").resolve()), "runs": [str(run.path)]}


def test_report_on_a_directory_that_is_not_a_run_is_one_clear_line(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path} is not a run directory") and err.count("\n") == 1
    assert "mnistlab runs" in err
    assert list(tmp_path.iterdir()) == []


def test_runs_lists_a_table(run_factory, runs_dir, capsys):
    run_factory("first", epochs=3)
    run_factory("second", status="running", epochs=1)
    assert main(["runs", "--runs-dir", str(runs_dir)]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "label", "model", "dataset", "epochs", "test_acc", "seconds", "status"]
    first, second = (line.split() for line in lines[1:])
    assert first[0].endswith("-first") and first[1:] == ["first", "mlp", "mnist", "3", "0.8500", "0.8", "completed"]
    assert second[0].endswith("-second") and second[1:] == ["second", "mlp", "mnist", "1", "0.5500", "-", "running"]


def test_runs_shows_the_label_as_typed_beside_the_safe_folder(run_factory, runs_dir, capsys):
    label = "ünï cödé 🚀 run"
    run = run_factory(label, epochs=1)
    assert run.path.name.endswith("-uni-code-run")
    assert main(["runs", "--runs-dir", str(runs_dir)]) == ExitCode.OK
    (line,) = capsys.readouterr().out.splitlines()[1:]
    assert line.startswith(run.path.name) and label in line
    assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == ExitCode.OK
    (row,) = json.loads(capsys.readouterr().out)
    assert row["label"] == label and row["name"] == run.path.name


def test_runs_json_is_machine_readable(run_factory, runs_dir, capsys):
    run = run_factory("only", epochs=2)
    assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == ExitCode.OK
    (row,) = json.loads(capsys.readouterr().out)
    assert row["path"] == str(run.path) and row["epochs"] == 2
    assert row["test_accuracy"] == pytest.approx(0.775) and row["status"] == "completed"


def test_runs_on_an_empty_or_missing_directory(runs_dir, tmp_path, capsys):
    assert main(["runs", "--runs-dir", str(runs_dir)]) == ExitCode.OK
    assert "no runs in" in capsys.readouterr().out
    assert main(["runs", "--runs-dir", str(tmp_path / "none")]) == ExitCode.ERROR
    assert "error: no runs directory" in capsys.readouterr().err


def test_rerun_trains_the_stored_config_without_reentering_the_cli(run_factory, runs_dir, monkeypatch, capsys):
    from mnistlab.cnn.config import CNNConfig
    from mnistlab.runs.kinds import get_kind
    from mnistlab.runs.summary import RunSummary

    run = run_factory("orig", kind="cnn")
    (run.path / "config.json").write_text(json.dumps(CNNConfig(epochs=2).to_dict()))
    kind = get_kind("cnn")
    calls = []
    monkeypatch.setattr(mnistlab.cli, "main", lambda argv=None: pytest.fail("rerun re-entered main()"))
    monkeypatch.setattr(type(kind), "prepare", lambda self, config: config)
    monkeypatch.setattr(type(kind), "train", lambda self, config, **where: calls.append((config, where)) or
                        RunSummary(model="cnn", run_dir="new", test_accuracy=0.5))
    assert main(["rerun", str(run.path), "--quiet", "--json"]) == ExitCode.OK
    ((config, where),) = calls
    assert config == kind.resolve_config(config_file=run.path / "config.json")
    assert (where["runs_dir"], where["name"]) == (runs_dir, "orig-rerun")
    assert json.loads(capsys.readouterr().out) == {"model": "cnn", "epochs": 0, "run_dir": "new",
                                                   "test_accuracy": 0.5, "train_seconds": 0.0}
    calls.clear()
    assert main(["rerun", str(run.path), "--runs-dir", "elsewhere", "--name=x", "--epochs", "7", "--json"]) == 0
    ((config, where),) = calls
    assert (config.epochs, str(where["runs_dir"]), where["name"]) == (7, "elsewhere", "x")
    assert "cnn train --config" in capsys.readouterr().err


def test_rerun_refuses_another_config_and_unknown_options(run_factory, capsys):
    run = run_factory("orig")
    assert main(["rerun", str(run.path), "--config", "other.json"]) == ExitCode.ERROR
    assert "rerun repeats RUN_DIR/config.json" in capsys.readouterr().err
    assert main(["rerun", str(run.path), "--bogus"]) == ExitCode.USAGE
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("damage, message", [
    (lambda p: (p / "config.json").unlink(), "config.json is missing or unreadable"),
    (lambda p: (p / "run.json").write_text('{"kind": "svm"}'), "no known model kind ('svm')"),
])
def test_rerun_refuses_a_run_it_cannot_repeat(run_factory, capsys, damage, message):
    run = run_factory("damaged")
    damage(run.path)
    assert main(["rerun", str(run.path)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def _has_mlp_train() -> bool:
    group = mnistlab.cli.cli.commands.get("mlp")
    return group is not None and "train" in getattr(group, "commands", {})


@pytest.mark.slow
@pytest.mark.skipif(not _has_mlp_train(), reason="`mnistlab mlp train` is not registered")
def test_rerun_repeats_a_tiny_mlp_run_exactly(runs_dir, capsys):
    assert main(["mlp", "train", "--train-size", "300", "--hidden", "8", "--epochs", "2",
                 "--runs-dir", str(runs_dir), "--name", "tiny", "--quiet", "--json"]) == ExitCode.OK
    first = json.loads(capsys.readouterr().out)
    (original,) = runs_dir.iterdir()
    assert main(["rerun", str(original), "--quiet", "--json"]) == ExitCode.OK
    captured = capsys.readouterr()
    second = json.loads(captured.out)
    assert f"mlp train --config {original / 'config.json'}" in captured.err
    (again,) = runs_dir.glob("*-tiny-rerun")
    assert json.loads((again / "config.json").read_text()) == json.loads((original / "config.json").read_text())
    assert second["test_accuracy"] == first["test_accuracy"]
    assert (again / "metrics.csv").read_text().count("\n") == 3


def _sklearn_loaded_after(script: str, runs_dir) -> tuple[str, bool]:
    """Run `script` in a fresh interpreter (RUNS is `runs_dir`); its output and whether scikit-learn got imported."""
    src = str(Path(mnistlab.cli.__file__).parents[2])
    code = f"import sys\nRUNS = {str(runs_dir)!r}\n{script}\nprint('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": src})
    assert result.returncode == 0, result.stderr
    *out, loaded = result.stdout.splitlines()
    return "\n".join(out), loaded == "True"


def test_listing_runs_does_not_import_scikit_learn(tmp_path):
    """`mnistlab runs` starts without scikit-learn's second of imports (the model kinds load it when they train)."""
    listing = ("from mnistlab.cli import main\n"
               "main(['runs', '--runs-dir', RUNS])\nmain(['runs', '--json', '--runs-dir', RUNS])")
    out, loaded = _sklearn_loaded_after(listing, tmp_path)
    assert out.startswith("no runs in") and not loaded
    _, loaded = _sklearn_loaded_after(listing + "\nimport mnistlab.mlp.estimator", tmp_path)
    assert loaded  # the check sees scikit-learn once something does import it
