"""A letter template's text, once Jinja has rendered it: header lines, paragraphs and block markers.

The format (docs/channels/letter.md has the full description)::

    Subject: Final demand: {{ balance }} overdue
    Letterhead: firm                      (optional; "sender" by default)

    Dear {{ debtor.name }},

    Our records show the invoices below are still **unpaid**:

    [[obligations]]

    Yours faithfully,

    [[signature]]

Header lines come first, up to the first blank line. Paragraphs are
separated by blank lines; a single line break inside a paragraph is kept.
``**text**`` is bold. A paragraph that is only ``[[name]]`` places one of
the blocks the layout draws (the obligations table, the statement of
account, the signature, the sign-and-return slip); a letter shows exactly
the blocks its template places. Without ``[[signature]]`` the signature
follows the last paragraph.
"""

from __future__ import annotations

import re

import attrs

HEADERS = ("subject", "letterhead")
LETTERHEADS = ("sender", "firm")
BLOCKS = ("obligations", "statement", "signature", "sign-and-return")
# Blocks that show the debt: never in a letter to a third party the step does not disclose the debt to.
DEBT_BLOCKS = frozenset({"obligations", "statement", "sign-and-return"})

_HEADER = re.compile(r"^([A-Za-z-]+):[ \t]*(.*)$")
_MARKER = re.compile(r"^\[\[\s*([a-z-]+)\s*\]\]$")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


class ContentError(ValueError):
    """A rendered template the letter cannot be made from; the message names the template."""


@attrs.frozen
class Paragraph:
    """One paragraph as reportlab's paragraph markup (escaped, ``<b>`` and ``<br/>`` only)."""

    markup: str


@attrs.frozen
class Block:
    name: str


@attrs.frozen
class LetterText:
    subject: str
    letterhead: str
    parts: tuple[Paragraph | Block, ...]

    @property
    def blocks(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, Block))


def parse(text: str, template: str) -> LetterText:
    """Split a rendered template into its header, paragraphs and blocks; ContentError names what is wrong."""
    lines = text.replace("\r\n", "\n").lstrip("\n").split("\n")
    headers: dict[str, str] = {}
    index = 0
    while index < len(lines):
        match = _HEADER.match(lines[index])
        if not match or match.group(1).lower() not in HEADERS:
            break
        headers[match.group(1).lower()] = match.group(2).strip()
        index += 1
    subject = headers.get("subject", "")
    if not subject:
        raise ContentError(f"template {template!r}: the first line must be 'Subject: ...'")
    letterhead = headers.get("letterhead", "sender").lower()
    if letterhead not in LETTERHEADS:
        raise ContentError(f"template {template!r}: 'Letterhead:' must be one of {', '.join(LETTERHEADS)}, "
                           f"got {letterhead!r}")
    body = "\n".join(lines[index:]).strip()
    parts: list[Paragraph | Block] = []
    for chunk in _PARAGRAPH_BREAK.split(body):
        chunk = "\n".join(line.rstrip() for line in chunk.strip("\n").split("\n")).strip()
        if not chunk:
            continue
        marker = _MARKER.match(chunk)
        if marker:
            name = marker.group(1)
            if name not in BLOCKS:
                raise ContentError(f"template {template!r}: unknown block [[{name}]] (known: {', '.join(BLOCKS)})")
            if any(isinstance(p, Block) and p.name == name for p in parts):
                raise ContentError(f"template {template!r}: block [[{name}]] appears twice")
            parts.append(Block(name))
        else:
            parts.append(Paragraph(to_markup(chunk)))
    if "signature" not in {p.name for p in parts if isinstance(p, Block)}:
        parts.append(Block("signature"))
    return LetterText(subject=subject, letterhead=letterhead, parts=tuple(parts))


def to_markup(text: str) -> str:
    """Plain text with ``**bold**`` as reportlab paragraph markup; everything else is escaped."""
    # Imported here: xml.sax.saxutils imports urllib.request (and http.client), and every command that opens
    # the runtime loads the letter channel.
    from xml.sax.saxutils import escape

    escaped = escape(text)
    return _BOLD.sub(r"<b>\1</b>", escaped).replace("\n", "<br/>")
