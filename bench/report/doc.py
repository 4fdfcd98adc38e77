"""A report as a list of blocks, rendered to Markdown here and to HTML in html.py.

Cell and paragraph text may use **bold**; nothing else is interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Para:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    notes: list[str] = field(default_factory=list)  # shown under the table


@dataclass
class Image:
    path: Path  # relative to the report's folder
    caption: str


Block = Heading | Para | Table | Image


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}\n")
        elif isinstance(b, Para):
            out.append(b.text + "\n")
        elif isinstance(b, Table):
            if b.caption:
                out.append(b.caption + "\n")
            out.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            out.append("|" + "|".join(" --- " for _ in b.headers) + "|")
            for r in b.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
            out.append("")
            for n in b.notes:
                out.append(f"- {n}")
            if b.notes:
                out.append("")
        elif isinstance(b, Image):
            out.append(f"![{b.caption}]({b.path.as_posix()})\n")
            out.append(f"*{b.caption}*\n")
    return "\n".join(out).rstrip() + "\n"
