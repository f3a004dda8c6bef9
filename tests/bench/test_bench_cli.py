"""`mnistlab bench mlp` / `bench cnn` through the CLI: exit codes, JSON shape, files, errors."""

import json
import subprocess
import sys

import pytest

from mnistlab.cli import main


def test_bench_mlp_json_and_files(tmp_path, capsys):
    out, md = tmp_path / "out", tmp_path / "README.md"
    md.write_text("# Benchmarks\n\nHow to run.\n")
    code = main(["bench", "mlp", "--engines", "mnistlab,sklearn", "--n-train", "300", "--batch-sizes", "100",
                 "--threads", "1", "--epochs", "2", "--repeats", "1", "--no-targets", "--json", "--quiet",
                 "--out", str(out), "--markdown", str(md)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert {"command", "config", "machine", "gemm_gflops", "rows", "runs", "targets", "notes"} <= set(document)
    assert [(r["engine"], r["batch_size"], r["threads"]) for r in document["rows"]] == [
        ("mnistlab", 100, 1), ("sklearn", 100, 1)]
    assert document["n_train"] == 300 and document["layer_sizes"] == [784, 70, 30, 10]
    assert sorted(p.name for p in out.iterdir()) == ["mlp.csv", "mlp.json", "mlp.png"]
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nHow to run.") and "<!-- bench-mlp:start -->" in text
    assert "](out/mlp.png)" in text


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "100,x"], "--batch-sizes takes comma-separated integers"),
    (["--threads", "0"], "--threads needs positive integers"),
    (["--engines", "caffe"], "unknown engine(s) caffe"),
    (["--epochs", "0"], "epochs and repeats must be at least 1"),
])
def test_bench_mlp_bad_options_fail_with_one_line(args, message, capsys):
    assert main(["bench", "mlp", "--quiet", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--engines", "caffe"], "unknown CNN engine(s) caffe"),
    (["--batches", "0"], "batches, threads and repeats must be at least 1"),
    (["--batch-sizes", "0"], "--batch-sizes needs positive integers"),
])
def test_bench_cnn_bad_options_fail_with_one_line(args, message, capsys):
    assert main(["bench", "cnn", "--quiet", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.cnn
def test_bench_cnn_torch_json(capsys):
    pytest.importorskip("torch")
    code = main(["bench", "cnn", "--engines", "torch", "--batch-sizes", "32", "--batches", "2", "--threads", "1",
                 "--json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (row,) = json.loads(captured.out)["rows"]
    assert row["engine"] == "torch" and row["batch_size"] == 32 and row["batches"] == 2
    assert row["images_per_second"] == pytest.approx(32 / row["seconds_per_batch"])
    assert row["seconds_per_epoch"] == pytest.approx(row["seconds_per_batch"] * 60000 / 32)


def test_the_cli_loads_no_engine_adapter_until_a_bench_command_runs():
    """`mnistlab --help` stays light: the engines' names come without their adapters (and scikit-learn)."""
    probe = ("import sys, mnistlab.cli; "
             "print(sorted(m for m in sys.modules if m.startswith('mnistlab.bench.engines') or m == 'sklearn'))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
