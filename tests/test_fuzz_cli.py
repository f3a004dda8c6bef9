"""Bad inputs and faults through the real CLI, one subprocess each (issue 12's classes, table-driven).

Every bad case must end non-zero with exactly one `error:` line and no traceback; every case, good
or bad, must write nothing outside its runs directory and leave no temporary file anywhere.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.fuzz  # a fresh CLI process per case: `make test` runs them, `make check` does not

SRC = Path(__file__).parents[1] / "src"
TINY = ["--train-size", "200", "--hidden", "8", "--epochs", "1", "--quiet"]
CNN_TINY = ["--dataset", "mnist", "--epochs", "1", "--train-size", "128", "--conv", "4", "--dense", "8", "--quiet"]
TEMP_NAME = re.compile(r"(^\..*\.tmp(\.\w+)?$)|(\.mnistlab-\d+-)")

# (case id, argv with {w} = the work folder, expected exit: "error" or 0, setup kind)
CASES = [
    # 1. path safety: a name is a label; the run stays inside --runs-dir
    ("name-dotdot", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/runs", "--name", "../../../escaped"], 0, None),
    ("name-slash", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/runs", "--name", "a/b"], 0, None),
    ("name-300", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/runs", "--name", "n" * 300], 0, None),
    ("name-newline", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/runs", "--name", "two\nlines"], 0, None),
    ("rerun-hostile", ["rerun", "{w}/x/y/runs/hostile", "--quiet"], 0, "hostile-run"),
    # 2. unwritable or full output
    ("runs-dir-proc", ["mlp", "train", *TINY, "--runs-dir", "/proc/mnistlab-fuzz"], "error", None),
    ("runs-dir-devnull", ["mlp", "train", *TINY, "--runs-dir", "/dev/null"], "error", None),
    ("runs-dir-below-file", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/a-file/runs"], "error", "file"),
    ("full-disk", ["mlp", "train", *TINY, "--runs-dir", "{w}/x/y/runs"], "error", "fsize"),
    ("maps-out-proc", ["cnn", "maps", "{w}/x/y/model.keras", "--out", "/proc/mnistlab-fuzz", "--quiet"], "error",
     "cnn-model"),
    # 3. divergence
    ("mlp-lr-1e6", ["mlp", "train", "--train-size", "2000", "--hidden", "16", "--epochs", "2", "--lr", "1e6",
                    "--quiet", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("mlp-rmsprop-1e6", ["mlp", "train", "--train-size", "2000", "--hidden", "16", "--epochs", "2", "--lr", "1e6",
                         "--solver", "rmsprop", "--l2", "5e-4", "--quiet", "--runs-dir", "{w}/x/y/runs"],
     "error", None),  # with the L2 of the default of the day (see tests/test_divergence.py)
    ("mlp-rmsprop-1e6-issue-23", ["mlp", "train", "--train-size", "2000", "--hidden", "16", "--epochs", "2", "--lr",
                                  "1e6", "--solver", "rmsprop", "--quiet", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("mlp-seed-lr-1e3", ["mlp", "train", "--preset", "seed", "--train-size", "2000", "--epochs", "2", "--lr", "1e3",
                         "--quiet", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("cnn-lr-1e6", ["cnn", "train", *CNN_TINY, "--epochs", "2", "--lr", "1e6", "--validation-split", "0",
                    "--runs-dir", "{w}/x/y/runs"], "error", None),
    # 4. config and model files
    ("config-list", ["mlp", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error", "[1, 2]"),
    ("config-empty-list", ["mlp", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error",
     "[]"),
    ("config-mlp-list", ["mlp", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error",
     '{"mlp": [1, 2]}'),
    ("config-intervals", ["mlp", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error",
     '{"mlp": {"init_intervals": 5}}'),
    ("config-not-utf8", ["mlp", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error",
     "binary"),
    ("cnn-config-layers-5", ["cnn", "train", "--config", "{w}/x/y/bad.json", "--runs-dir", "{w}/x/y/runs"], "error",
     '{"layers": 5}'),
    ("rerun-bad-config", ["rerun", "{w}/x/y/runs/hostile", "--quiet"], "error", "hostile-bad-config"),
    ("cnn-eval-bad-config", ["cnn", "eval", "{w}/x/y/runs/cnnrun"], "error", "cnn-run-bad-config"),
    ("mlp-eval-nan-model", ["mlp", "eval", "{w}/x/y/model.npz", "--dataset", "mnist"], "error", "nan-model"),
    ("mlp-eval-no-classes", ["mlp", "eval", "{w}/x/y/model.npz", "--dataset", "mnist"], "error", "no-classes"),
    # 5. numbers
    ("seed-negative", ["mlp", "train", *TINY, "--seed", "-5", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("pca-too-many", ["mlp", "train", *TINY, "--pca", "10000", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("clusters-too-many", ["mlp", "train", *TINY, "--clusters", "100000", "--runs-dir", "{w}/x/y/runs"], "error",
     None),
    ("cnn-epochs-1e20", ["cnn", "train", "--epochs", "1e20", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("cnn-epochs-huge", ["cnn", "train", "--epochs", str(10**20), "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("cnn-batch-huge", ["cnn", "train", "--batch-size", str(10**20), "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("cnn-stride-0", ["cnn", "train", "--stride", "0", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("cnn-pool-size-0", ["cnn", "train", "--pool-size", "0", "--runs-dir", "{w}/x/y/runs"], "error", None),
    ("unknown-option", ["mlp", "train", "--bogus", "--runs-dir", "{w}/x/y/runs"], "error", None),
    # 6. insight commands
    ("maps-wrong-input", ["cnn", "maps", "{w}/x/y/model.keras", "--quiet"], "error", "wrong-input-model"),
    # 8. resume
    ("resume-missing", ["resume", "{w}/x/y/runs/nothing-here"], "error", None),
    ("resume-killed-after-last-epoch", ["resume", "{w}/x/y/runs/killed", "--quiet"], 0, "killed-after-last-epoch"),
    ("resume-finished", ["resume", "{w}/x/y/runs/killed", "--quiet"], "error", "finished-run"),
]


def _write_model_npz(path: Path, change) -> None:
    from mnistlab.mlp.estimator import MLPClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 784)), rng.integers(0, 10, 60)
    MLPClassifier(hidden_sizes=(4,), epochs=1, n_iter_no_change=None, random_state=0).fit(X, y).save(path)
    with np.load(path) as data:
        arrays = dict(data.items())
    change(arrays)
    np.savez(path, **arrays)


def _write_keras_model(path: Path, input_shape: tuple[int, ...]) -> None:
    keras = pytest.importorskip("keras")
    from mnistlab.cnn.io import save_model

    model = keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    save_model(model, path)


def _setup(kind: str | None, base: Path) -> None:
    """Prepare what a case needs inside `base` (the folder that holds the runs directory)."""
    from mnistlab.runs import RunDir

    base.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        (base / "a-file").write_text("")
    elif kind in ("hostile-run", "hostile-bad-config"):
        run = RunDir.create(base / "runs", "fine", "mlp", {})
        run.path.rename(base / "runs" / "hostile")
        info = json.loads((base / "runs" / "hostile" / "run.json").read_text())
        (base / "runs" / "hostile" / "run.json").write_text(json.dumps({**info, "name": "../../../escaped"}))
        config = [1, 2] if kind == "hostile-bad-config" else {
            "train_size": 200, "mlp": {"epochs": 1, "hidden_sizes": [8], "n_iter_no_change": None}}
        (base / "runs" / "hostile" / "config.json").write_text(json.dumps(config))
    elif kind == "cnn-run-bad-config":
        run = RunDir.create(base / "runs", "c", "cnn", {})
        run.path.rename(base / "runs" / "cnnrun")
        (base / "runs" / "cnnrun" / "config.json").write_text("[1, 2]")
        (base / "runs" / "cnnrun" / "model.keras").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    elif kind in ("killed-after-last-epoch", "finished-run"):
        subprocess.run([sys.executable, "-m", "mnistlab", "mlp", "train", *TINY, "--runs-dir", str(base / "runs")],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)
        (run,) = (base / "runs").iterdir()
        run = run.rename(base / "runs" / "killed")
        if kind == "killed-after-last-epoch":  # its last checkpoint written, then SIGKILL before model and summary
            (run / "model.npz").unlink()
            (run / "summary.json").unlink()
            info = json.loads((run / "run.json").read_text())
            (run / "run.json").write_text(json.dumps({**info, "status": "running", "pid": 2**22 + 1}))
    elif kind == "nan-model":
        _write_model_npz(base / "model.npz", lambda a: a.update(weights_0=np.full_like(a["weights_0"], np.nan)))
    elif kind == "no-classes":
        _write_model_npz(base / "model.npz", lambda a: a.pop("classes"))
    elif kind == "wrong-input-model":
        _write_keras_model(base / "model.keras", (32, 32, 3))
    elif kind == "cnn-model":
        _write_keras_model(base / "model.keras", (28, 28, 1))
    elif kind == "binary":
        (base / "bad.json").write_bytes(b'{"dataset": "\xff\xfe"}')
    elif kind not in (None, "fsize"):
        (base / "bad.json").write_text(kind)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("case, argv, expected, setup", CASES, ids=[c[0] for c in CASES])
def test_cli_case(tmp_path, case, argv, expected, setup):
    if case.startswith(("cnn", "maps")) or setup in ("wrong-input-model", "cnn-model", "cnn-run-bad-config"):
        pytest.importorskip("keras")
    work, base = tmp_path / "w", tmp_path / "w" / "x" / "y"
    _setup(setup, base)
    before = _tree(tmp_path)
    limit = None
    if setup == "fsize":  # a full disk: small run files fit, the model does not
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-m", "mnistlab", *[a.replace("{w}", str(work)) for a in argv]],
                          capture_output=True, text=True, timeout=120, cwd=work, env=env, preexec_fn=limit)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in proc.stderr, proc.stderr
    if expected == "error":
        assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    else:
        assert proc.returncode == 0 and not lines, proc.stderr
    outside = {p for p in _tree(tmp_path) - before if not p.startswith(("w/x/y/runs", "w/runs/insight"))}
    assert not outside, f"written outside the runs directory: {sorted(outside)}"
    assert not [p for p in _tree(tmp_path) if TEMP_NAME.search(Path(p).name)], "a temporary file was left"
