"""The report's blocks as one self-contained HTML file: images inlined as base64 PNG."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from bench.report.doc import Block, Heading, Image, Para, Table

_BOLD = re.compile(r"\*\*(.+?)\*\*")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption, .caption { color: #555; font-size: 0.9em; }
ul.notes { color: #555; font-size: 0.9em; }
"""


def _inline(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", html.escape(text))


def to_html(blocks: list[Block], title: str, base: Path) -> str:
    """base: the folder image paths are relative to."""
    head = (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{STYLE}</style></head><body>")
    parts = [head]
    for b in blocks:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            parts.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Table):
            if b.caption:
                parts.append(f"<p class='caption'>{_inline(b.caption)}</p>")
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.headers)
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>"
                           for r in b.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            if b.notes:
                parts.append("<ul class='notes'>" + "".join(f"<li>{_inline(n)}</li>" for n in b.notes)
                             + "</ul>")
        elif isinstance(b, Image):
            data = base64.b64encode((base / b.path).read_bytes()).decode()
            parts.append(f"<figure><img alt='{html.escape(b.caption)}' "
                         f"src='data:image/png;base64,{data}'><figcaption>{_inline(b.caption)}"
                         f"</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
