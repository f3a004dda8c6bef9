"""The layer rule of docs/architecture.md, checked: import-linter contracts and no cycle-dodging imports."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mnistlab"
PACKAGES = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())
"""Every subpackage of mnistlab: the checks below cover all of them and every top-level module."""
LATE_MNISTLAB_IMPORTS = {
    "bench/worker.py": ("mnistlab.bench.jobs", "mnistlab.bench.dataset", "mnistlab.bench.engines"),
    "sweep/driver.py": ("mnistlab.sweep.recorder",),
    "lab/__init__.py": ("mnistlab.lab.app",),
    "__init__.py": ("mnistlab.mlp.estimator",),
    "runs/training.py": ("mnistlab.mlp.estimator",),
    "runs/kinds/mlp.py": ("mnistlab.mlp.estimator",),
}
"""Imports of mnistlab inside a function, each for a reason that is not a cycle, the short named list:
the benchmark worker bounds its thread pools before the modules that load NumPy; the sweep's
recorder subclasses Ray Tune's Callback, so it loads only once Ray has started; the lab's
create_app and mnistlab.MLPClassifier resolve lazily so that importing the package stays light;
the run layer loads the MLP estimator (a scikit-learn estimator, a second of imports) only to train
or load a model, so that reading runs (`mnistlab runs`, tests/runs/test_cli_runs.py) stays free of it.
The command line (cli/) imports the library inside its commands so that `mnistlab --help` starts
fast without loading NumPy's heavy users (tests/bench/test_bench_cli.py holds that): allowed there."""
LAZY_AREAS = ("cli",)


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; "
               "sys.exit(c())", "--config", str(config), "--no-cache"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_layer_contracts_are_kept():
    pytest.importorskip("importlinter")
    result = _lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_broken_layer_fails_the_contracts(tmp_path):
    """Positive control: the same check fails once a lower layer (data) may not import errors."""
    pytest.importorskip("importlinter")
    inverted = (ROOT / "pyproject.toml").read_text().replace('    "mnistlab.errors",\n', "").replace(
        '    "mnistlab.data",\n', '    "mnistlab.errors",\n    "mnistlab.data",\n')
    config = tmp_path / "pyproject.toml"
    config.write_text(inverted)
    result = _lint_imports(config)
    assert result.returncode != 0 and "BROKEN" in result.stdout


LATE_BAD_IMPORTS = {
    "data/catalog.py": ("from mnistlab.cli import main", "mnistlab.data is not allowed to import mnistlab.cli"),
    "bench/jobs.py": ("import mnistlab.lab.query", "mnistlab.bench is not allowed to import mnistlab.lab"),
    "mlp/config.py": ("from mnistlab.cnn import config", "mnistlab.mlp is not allowed to import mnistlab.cnn"),
}
"""Imports hidden in a method: upward (data -> cli) and between siblings (bench -> lab, mlp -> cnn)."""


def test_the_contracts_see_imports_inside_functions(tmp_path):
    """Positive control on a scratch copy: an import written inside a method breaks the layers like any other,
    so the layer order holds wherever an import is written (cli/'s lazy imports and LATE_MNISTLAB_IMPORTS too)."""
    pytest.importorskip("importlinter")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, (late_import, _) in LATE_BAD_IMPORTS.items():
        target = tmp_path / "src" / "mnistlab" / module
        target.write_text(target.read_text() + f"\n\nclass _Late:\n    def method(self):\n        {late_import}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; "
               "sys.exit(c())", "--config", str(tmp_path / "pyproject.toml"), "--no-cache"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, result.stdout + result.stderr
    assert [message for _, message in LATE_BAD_IMPORTS.values() if message not in result.stdout] == []


HEAVY_FRAMEWORKS = ("keras", "tensorflow", "torch", "jax", "ray")
"""Optional frameworks that load in seconds: imported inside the functions that need them."""
SHIMS = {"env.py": ("threadpoolctl",), "data/sources.py": ("numpy._core", "numpy.core")}
"""Deliberate late imports: env.py reads BLAS only when asked; sources.py tries numpy 2's name, then 1's."""


def _function_level_imports(path: Path, *, third_party: bool = False) -> list[str]:
    """`module:line target` for every import placed inside a function: of a mnistlab module, or
    (third_party=True) of another package that is neither a heavy framework nor given a reason
    in a comment on its line."""
    text = path.read_text()
    lines = text.splitlines()
    name = str(path.relative_to(PACKAGE)) if path.is_relative_to(PACKAGE) else path.name
    found = []
    for function in (n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in ast.walk(function):
            targets = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for target in targets:
                root = target.split(".")[0]
                if third_party:
                    explained = "#" in lines[node.lineno - 1] or root in HEAVY_FRAMEWORKS or \
                        target.startswith(SHIMS.get(name, ("-",)))
                    wrong = root != "mnistlab" and not explained
                else:
                    wrong = root == "mnistlab" and not target.startswith(LATE_MNISTLAB_IMPORTS.get(name, ("-",)))
                if wrong:
                    found.append(f"{name}:{node.lineno} {target}")
    return found


def _modules(areas) -> list[Path]:
    return sorted(p for area in areas for p in (PACKAGE / area).rglob("*.py")) + sorted(PACKAGE.glob("*.py"))


def test_the_checks_cover_every_package():
    covered = {p.relative_to(PACKAGE).parts[0] for p in _modules(PACKAGES)}
    assert covered >= {"data", "mlp", "cnn", "insight", "runs", "bench", "sweep", "lab", "cli", "errors.py"}
    assert set(LATE_MNISTLAB_IMPORTS) <= {str(p.relative_to(PACKAGE)) for p in _modules(PACKAGES)}


def test_no_module_imports_mnistlab_inside_a_function():
    """Imports inside functions are for heavy optional frameworks only, never to dodge a cycle."""
    paths = _modules([area for area in PACKAGES if area not in LAZY_AREAS])
    assert len(paths) > 100
    assert [hit for path in paths for hit in _function_level_imports(path)] == []


def test_functions_import_only_heavy_frameworks_or_say_why():
    paths = _modules(PACKAGES)
    assert [hit for path in paths for hit in _function_level_imports(path, third_party=True)] == []


def test_the_function_level_import_check_sees_one(tmp_path):
    """Positive control: a late mnistlab import and an unexplained late third-party import are found."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from mnistlab.runs import training\n    import tqdm.auto\n"
                      "    import scipy.optimize  # cold path: only the lbfgs solver needs it\n    import ray\n")
    assert _function_level_imports(sample) == ["sample.py:2 mnistlab.runs"]
    assert _function_level_imports(sample, third_party=True) == ["sample.py:3 tqdm.auto"]


CLI_LINE_BUDGET = 1100
"""cli/ parses, calls one library function and prints (issue 20): logic that grows goes to the library."""


def test_the_command_line_stays_thin():
    lines = sum(len(path.read_text().splitlines()) for path in (PACKAGE / "cli").glob("*.py"))
    assert 0 < lines < CLI_LINE_BUDGET, f"cli/ has {lines} lines; move logic into runs/, bench/, sweep/ or lab/"
