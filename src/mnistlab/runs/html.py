"""Small HTML building blocks for the run report: escaping, tables, embedded images, the page shell.

Everything the page needs travels inside it: images as base64 `data:` URIs, the style sheet and
one short script inline. A Content-Security-Policy forbids every other source, so a report that
tried to fetch anything from a network or a neighbouring file would fail loudly in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from matplotlib.figure import Figure

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5rem 3rem; color: #1d2327; background: #fff; line-height: 1.4; }
header { border-bottom: 2px solid #d0d7de; margin-bottom: 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #d0d7de; }
h3 { margin-top: 1.5rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top;
         white-space: pre-line; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.diff td, tr.diff th { background: #fff3bf; }
tr.group th { background: #e7edf3; text-align: left; }
#only-diff:checked ~ table tr.same { display: none; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: .9rem; }
.problems { background: #fff8e6; border-left: 4px solid #d4a72c; padding: .5rem 1rem; }
.problems li { margin: .2rem 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem;
         background: #ddf4ff; margin-left: .5rem; vertical-align: middle; }
.badge.completed, .badge.stopped { background: #dafbe1; } .badge.interrupted, .badge.running { background: #fff8c5; }
.badge.failed, .badge.diverged, .badge.unknown { background: #ffebe9; }
.broken { color: #cf222e; font-weight: bold; }
.muted { color: #57606a; }
details { margin: .5rem 0; } summary { cursor: pointer; }
"""

# Marks each image as loaded or not (and says so on the page); the browser tests read the marks.
SCRIPT = """
window.addEventListener("load", () => {
  let loaded = 0;
  for (const img of document.images) {
    const ok = img.complete && img.naturalWidth > 0;
    img.dataset.loaded = ok ? "yes" : "no";
    if (ok) { loaded += 1; } else {
      const note = document.createElement("p");
      note.className = "broken";
      note.textContent = "This image failed to load: " + img.alt;
      img.after(note);
    }
  }
  document.body.dataset.imagesLoaded = String(loaded);
  document.body.dataset.imagesTotal = String(document.images.length);
});
"""


def content_security_policy() -> str:
    """A policy that allows only inline styles, `data:` images and this page's own script."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    return f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"


def page(title: str, body: str) -> str:
    """A complete HTML document around `body` (already HTML)."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")


def png_bytes(fig: Figure) -> bytes:
    """The PNG encoding of a matplotlib figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def image(png: bytes, caption: str, *, alt: str | None = None) -> str:
    """A <figure> with the PNG embedded as a data URI and a caption."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="{uri}" alt="{escape(alt or caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def format_value(value: Any) -> str:
    """A compact, readable text for a config or metric value (floats to 6 significant digits).

    Dicts read as "key: value, ..."; a list of dicts (e.g. a CNN's layers) gets one line per item.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            return "\n".join(format_value(v) for v in value)
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> one level with dotted keys ({"a": {"b": 1}} -> {"a.b": 1})."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f'<td class="num">{escape(format_value(value))}</td>' if numeric else \
        f"<td>{escape(format_value(value))}</td>"


def key_value_table(rows: Mapping[str, Any]) -> str:
    """A two-column table of names and values."""
    if not rows:
        return '<p class="muted">(empty)</p>'
    body = "".join(f"<tr><th>{escape(str(k))}</th>{_cell(v)}</tr>" for k, v in rows.items())
    return f"<table>{body}</table>"


def columns_table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A table with a header row and one row per item of `rows`."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def comparison_table(names: list[str], groups: Mapping[str, Mapping[str, list[Any]]]) -> str:
    """One column per run, one row per key, grouped; rows whose values differ get class "diff".

    `groups` maps a group title to {key: [value per run]}. A checkbox (no script) hides equal rows.
    """
    head = "<th>key</th>" + "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for title, rows in groups.items():
        body.append(f'<tr class="group"><th colspan="{len(names) + 1}">{escape(title)}</th></tr>')
        for key, values in rows.items():
            texts = [format_value(v) for v in values]
            differs = len(set(texts)) > 1
            cells = "".join(_cell(v) for v in values)
            body.append(f'<tr class="{"diff" if differs else "same"}"><th>{escape(key)}</th>{cells}</tr>')
    return ('<input type="checkbox" id="only-diff"> <label for="only-diff">show only the rows that differ'
            "</label> <span class=\"muted\">(differences are highlighted)</span>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
