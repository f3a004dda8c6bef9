"""A real package: sdist and wheel build, pass `twine check`, and the wheel runs in a fresh environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import mnistlab

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the fresh venv sees only its own mnistlab
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, argv))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel built from a clean copy of the checkout (no build output left in it)."""
    pytest.importorskip("build")
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
    for name in ("src", "tests", "docs"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, source / name)
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"), str(source)])
    return work / "dist"


def test_sdist_and_wheel_pass_twine_check(dist):
    pytest.importorskip("twine")
    files = sorted(p.name for p in dist.iterdir())
    assert files == [f"mnistlab-{mnistlab.__version__}-py3-none-any.whl", f"mnistlab-{mnistlab.__version__}.tar.gz"]
    assert "PASSED" in _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())]).stdout


def test_the_wheel_carries_the_package_only(dist):
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mnistlab/cli/__init__.py" in names and "mnistlab/runs/training.py" in names
    assert [n for n in names if not n.startswith(("mnistlab/", "mnistlab-"))] == []
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/runs/20" in n] == []


def test_the_wheel_runs_in_a_fresh_environment(dist, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    # Third-party dependencies come from this environment (no downloads); mnistlab only from the wheel.
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    Path(purelib, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = dist.glob("*.whl")
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)])
    located = _run([str(python), "-c", "import mnistlab; print(mnistlab.__file__)"]).stdout
    assert located.startswith(str(venv))
    assert _run([str(venv / "bin" / "mnistlab"), "--version"]).stdout.strip() == f"mnistlab, version {mnistlab.__version__}"
    assert _run([str(venv / "bin" / "mnistlab"), "data", "info"]).stdout.startswith("cache: ")
