"""Where a benchmark's results go: JSON, CSV and PNG in an output folder, a section of a Markdown file.

The three commands (`bench mlp`, `bench cnn`, `bench tta`) write the same way, named after
their stem: ``<stem>.json``, ``<stem>.csv``, ``<stem>.png`` and the ``bench-<stem>`` section.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mnistlab.bench.fields import BenchRow
from mnistlab.bench.report import csv_text, replace_section, write_figure_atomic
from mnistlab.fileio import write_text_atomic


def prepare_output_dir(out: Path | None) -> None:
    """Create `out` before a long run, so that a path that cannot be a folder fails in seconds."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)


def publish(stem: str, document: dict[str, Any], rows: Sequence[BenchRow], *, out: Path | None = None,
            markdown: Path | None = None, figure: Callable[[], Any] | None = None,
            section: Callable[[str | None], str] | None = None) -> None:
    """Write `document` and `rows` into `out`, and `section(figure path)` into `markdown`'s bench-`stem` section.

    `figure` builds the PNG's Figure (None: no figure); `section` gets the PNG's path relative
    to the Markdown file, or None when no PNG was written.
    """
    if out is not None:
        prepare_output_dir(out)
        write_text_atomic(out / f"{stem}.json", json.dumps(document, indent=2, default=str) + "\n")
        write_text_atomic(out / f"{stem}.csv", csv_text(rows))
        if figure is not None:
            write_figure_atomic(figure(), out / f"{stem}.png")
    if markdown is not None and section is not None:
        png = os.path.relpath(out / f"{stem}.png", markdown.parent) if out is not None and figure is not None else None
        old = markdown.read_text() if markdown.exists() else ""
        write_text_atomic(markdown, replace_section(old, f"bench-{stem}", section(png)))
