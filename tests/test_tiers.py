"""The two test tiers: `make test` runs everything, `make check` every package without the slow groups.

The fast tier is chosen by markers (pyproject.toml) from measured durations; the README states both
tiers' times on the slower machine kind. These checks read files only, so they cost nothing.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mnistlab"


def check_markers() -> set[str]:
    """The markers that `make check` deselects (its CHECK_MARKERS expression, `not a and not b ...`)."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("CHECK_MARKERS"))
    expression = line.split(":=", 1)[1]
    words = set(re.findall(r"\w+", expression))
    assert re.fullmatch(r"\s*not \w+( and not \w+)*\s*", expression), f"{expression!r}: only 'not X and not Y'"
    return words - {"not", "and"}


def declared_markers() -> set[str]:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {entry.split(":", 1)[0] for entry in options["markers"]}


def module_markers(path: Path) -> set[str]:
    """Markers a test file puts on all of its tests (its `pytestmark = ...` line)."""
    found = re.search(r"^pytestmark\s*=\s*(.+)$", path.read_text(), re.M)
    return set(re.findall(r"pytest\.mark\.(\w+)", found.group(1))) if found else set()


def test_check_deselects_declared_markers_only():
    markers = check_markers()
    assert {"slow", "browser"} <= markers
    assert markers <= declared_markers(), "declare each marker of CHECK_MARKERS in pyproject.toml"


def test_check_covers_every_package():
    """Each subpackage has a test folder with a file that `make check` runs (not wholly deselected)."""
    deselected = check_markers()
    packages = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    assert packages
    for package in packages:
        files = sorted((ROOT / "tests" / package).glob("test_*.py"))
        assert any(not module_markers(f) & deselected for f in files), f"make check runs no test of {package}"


def test_the_readme_names_both_tiers_and_their_measured_times():
    readme = (ROOT / "README.md").read_text()
    assert "make check" in readme and "make test" in readme
    timed = [line for line in readme.splitlines() if "make check" in line and "min" in line]
    assert timed and any("AMD EPYC" in line for line in readme.splitlines()), "state the times and the machine"
