"""How commands print: JSON for machines, aligned tables for people. Plugins' commands use these too."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import click


def print_json(data: Any) -> None:
    """``data`` as indented JSON (dates and other values as text), for ``--json``."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters shown escaped, so stored data cannot move the cursor."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, empty: str = "(none)",
                indent: str = "") -> None:
    """Rows under their headers in aligned columns; ``empty`` when there are none."""
    if not rows:
        click.echo(indent + empty)
        return
    text = [["" if v is None else printable(str(v)) for v in row] for row in rows]
    widths = [max(width(h), *(width(r[i]) for r in text)) for i, h in enumerate(headers)]
    for line in [list(headers), *text]:
        click.echo(indent + "  ".join(v + " " * (w - width(v)) for v, w in zip(line, widths, strict=False)).rstrip())
