"""The layer rule of docs/architecture.md, checked: import-linter contracts and no cycle-dodging imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mnistlab"
LIBRARY_AREAS = ("data", "mlp", "cnn", "insight", "runs", "bench", "errors.py", "fileio.py", "threads.py", "env.py")
"""The library below the command-line areas: none of it imports mnistlab modules inside functions."""
THREADS_FIRST = {"bench/worker.py": ("mnistlab.bench.jobs", "mnistlab.bench.dataset", "mnistlab.bench.engines")}
"""Deliberate late imports of mnistlab: the benchmark worker bounds its thread pools before NumPy loads."""


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


HEAVY_FRAMEWORKS = ("keras", "tensorflow", "torch", "jax", "ray")
"""Optional frameworks that load in seconds: imported inside the functions that need them."""
SHIMS = {"env.py": ("threadpoolctl",), "data/sources.py": ("numpy._core", "numpy.core")}
"""Deliberate late imports: env.py reads BLAS only when asked; sources.py tries numpy 2's name, then 1's."""


def _function_level_imports(path: Path, *, third_party: bool = False) -> list[str]:
    """`module:line target` for every import placed inside a function: of a mnistlab module, or
    (third_party=True) of another package that is neither a heavy framework nor given a reason
    in a comment on its line."""
    text = path.read_text()
    lines, name = text.splitlines(), str(path.relative_to(PACKAGE))
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
                    wrong = root == "mnistlab" and not target.startswith(THREADS_FIRST.get(name, ("-",)))
                if wrong:
                    found.append(f"{name}:{node.lineno} {target}")
    return found


def test_no_library_module_imports_mnistlab_inside_a_function():
    """Imports inside functions are for heavy optional frameworks only, never to dodge a cycle."""
    paths = [p for area in LIBRARY_AREAS for p in ([PACKAGE / area] if area.endswith(".py")
                                                   else sorted((PACKAGE / area).rglob("*.py"))) if p.exists()]
    assert len(paths) > 30
    assert [hit for path in paths for hit in _function_level_imports(path)] == []


def test_library_functions_import_only_heavy_frameworks_or_say_why():
    paths = [p for area in LIBRARY_AREAS for p in ([PACKAGE / area] if area.endswith(".py")
                                                   else sorted((PACKAGE / area).rglob("*.py"))) if p.exists()]
    assert [hit for path in paths for hit in _function_level_imports(path, third_party=True)] == []


def test_the_function_level_import_check_sees_one():
    sample = PACKAGE / "cli" / "mlp.py"
    assert any("mnistlab.runs.training" in hit for hit in _function_level_imports(sample))
    assert any(hit.endswith(" tqdm.auto") for hit in _function_level_imports(PACKAGE / "cli" / "progress.py",
                                                                              third_party=True))
    assert not any("scipy" in hit for hit in _function_level_imports(PACKAGE / "mlp" / "lbfgs.py",
                                                                     third_party=True))  # it gives its reason
