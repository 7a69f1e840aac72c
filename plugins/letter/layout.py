"""The page: a composed ``Letter`` drawn with reportlab's platypus into PDF bytes.

The first page follows DIN 5008 form B, so the recipient's address shows
through the window of a C5/6, DL or C5 envelope: the address field starts
45 mm from the top and 20 mm from the left edge and is 85 mm wide; the
return line sits just above the recipient; the reference block starts at
125 mm from the left, 50 mm from the top; the text starts below 98.5 mm;
fold marks at 105 and 210 mm (thirds of the page on US letter) and a punch
mark at the middle. Later pages carry a running head and a page number.

``invariant=1`` keeps the creation date and document id out of the file,
so the same letter always gives the same bytes.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate, Paragraph, Spacer,
                                Table, TableStyle)

from dunning.plugins.letter import compose
from dunning.plugins.letter.content import Block
from dunning.plugins.letter.content import Paragraph as TextParagraph
from dunning.plugins.letter.content import to_markup
from dunning.plugins.letter.fonts import CJK_LOCALES, FontChoice

PAGE_SIZES = {"A4": A4, "letter": LETTER}

# DIN 5008 form B, measured from the top-left corner of the page.
WINDOW_LEFT = 20 * mm
WINDOW_TOP = 45 * mm
WINDOW_WIDTH = 85 * mm
RETURN_LINE_BASELINE = WINDOW_TOP + 15 * mm
RECIPIENT_BASELINE = WINDOW_TOP + 21 * mm
RECIPIENT_LEADING = 12  # points: six lines fit in the window's 27 mm address zone
INFO_LEFT = 125 * mm
INFO_TOP = 50 * mm
TEXT_TOP = 98.5 * mm
LEFT_MARGIN = 25 * mm
RIGHT_MARGIN = 20 * mm
BOTTOM_MARGIN = 22 * mm
LATER_TOP = 25 * mm
A4_FOLDS = (105 * mm, 210 * mm)

GRID = colors.Color(0.55, 0.55, 0.55)


def render(letter: compose.Letter, fonts: FontChoice) -> tuple[bytes, int]:
    """The letter as PDF bytes, and its number of pages."""
    buffer = io.BytesIO()
    width, height = PAGE_SIZES[letter.page_size]
    styles = _styles(fonts, _cjk(letter.locale))
    first = Frame(LEFT_MARGIN, BOTTOM_MARGIN, width - LEFT_MARGIN - RIGHT_MARGIN, height - TEXT_TOP - BOTTOM_MARGIN,
                  id="first", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    later = Frame(LEFT_MARGIN, BOTTOM_MARGIN, width - LEFT_MARGIN - RIGHT_MARGIN, height - LATER_TOP - BOTTOM_MARGIN,
                  id="later", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc = BaseDocTemplate(
        buffer, pagesize=(width, height), invariant=1, title=letter.text.subject, author=letter.author,
        subject=letter.key, creator="dunning", producer="dunning", pageCompression=1,
    )
    doc.addPageTemplates([
        PageTemplate(id="First", frames=[first], onPage=lambda c, d: _first_page(c, letter, styles, fonts),
                     autoNextPageTemplate="Later"),
        PageTemplate(id="Later", frames=[later], onPage=lambda c, d: _later_page(c, d, letter, fonts)),
    ])
    doc.build(_story(letter, styles, doc.width))
    return buffer.getvalue(), doc.page


def _cjk(locale: str | None) -> bool:
    return bool(locale) and locale.lower().startswith(CJK_LOCALES)  # type: ignore[union-attr]


@lru_cache(maxsize=16)
def _styles(fonts: FontChoice, cjk: bool) -> dict[str, ParagraphStyle]:
    wrap = "CJK" if cjk else None
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=10, leading=14, spaceAfter=8, wordWrap=wrap)
    return {
        "body": body,
        "subject": ParagraphStyle("subject", parent=body, fontName=fonts.bold, fontSize=11, leading=15, spaceAfter=12),
        "heading": ParagraphStyle("heading", parent=body, fontName=fonts.bold, spaceBefore=4, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=11, spaceAfter=0),
        "cell_right": ParagraphStyle(
            "cell_right", parent=body, fontSize=9, leading=11, spaceAfter=0, alignment=TA_RIGHT
        ),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName=fonts.bold, fontSize=9, leading=11, spaceAfter=0
        ),
        "cell_bold_right": ParagraphStyle(
            "cell_bold_right",
            parent=body,
            fontName=fonts.bold,
            fontSize=9,
            leading=11,
            spaceAfter=0,
            alignment=TA_RIGHT,
        ),
        "closing": ParagraphStyle("closing", parent=body, keepWithNext=1),
        "line": ParagraphStyle("line", parent=body, spaceAfter=0),
        "line_bold": ParagraphStyle("line_bold", parent=body, fontName=fonts.bold, spaceAfter=0),
        "info": ParagraphStyle("info", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10, spaceAfter=0),
    }


# --- the story ------------------------------------------------------------------------------------------


def _story(letter: compose.Letter, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(to_markup(letter.text.subject), styles["subject"])]
    parts = letter.text.parts
    for i, part in enumerate(parts):
        if isinstance(part, TextParagraph):
            # The closing ("Yours sincerely,") stays on the page of the signature under it.
            closing = i + 1 < len(parts) and parts[i + 1] == Block("signature")
            story.append(Paragraph(part.markup, styles["closing" if closing else "body"]))
        elif isinstance(part, Block):
            story.extend(_block(part.name, letter, styles, width))
    return story


def _block(name: str, letter: compose.Letter, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    if name == "obligations" and letter.obligations is not None:
        return [_table(letter.obligations, styles, width), Spacer(1, 10)]
    if name == "statement" and letter.statement is not None:
        return _statement(letter.statement, styles, width)
    if name == "signature":
        lines = [Spacer(1, 16 * mm)]  # room for the handwritten signature
        lines += [Paragraph(to_markup(line), styles["line_bold" if i == 0 else "line"])
                  for i, line in enumerate(letter.signature)]
        return [KeepTogether(lines)]
    if name == "sign-and-return" and letter.sign_slip is not None:
        return [_sign_slip(letter.sign_slip, styles, width)]
    return []


def _table(table: compose.Table, styles: dict[str, ParagraphStyle], width: float) -> Table:
    def row(cells: tuple[str, ...], bold: bool) -> list[Paragraph]:
        out = []
        for i, cell in enumerate(cells):
            key = ("cell_bold" if bold else "cell") + ("_right" if i in table.amounts else "")
            out.append(Paragraph(to_markup(cell), styles[key]))
        return out

    data = [row(table.header, True), *(row(r, False) for r in table.rows), row(table.total, True)]
    flowable = Table(data, colWidths=[w * width for w in table.widths], repeatRows=1, hAlign="LEFT")
    flowable.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -2), 0.25, GRID),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
    ]))
    return flowable


def _statement(statement: compose.Statement, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(to_markup(statement.invoices_heading), styles["heading"]),
                           _table(statement.invoices, styles, width), Spacer(1, 8),
                           Paragraph(to_markup(statement.payments_heading), styles["heading"])]
    if statement.payments is not None:
        out.append(_table(statement.payments, styles, width * 0.75))
    else:
        out.append(Paragraph(to_markup(statement.no_payments), styles["body"]))
    out += [Spacer(1, 8), Paragraph(to_markup(statement.balance), styles["heading"]), Spacer(1, 6)]
    return out


class _CutLine(Flowable):
    """A dashed line across the frame: where the debtor cuts off the slip."""

    def __init__(self, width: float):
        super().__init__()
        self.width, self.height = width, 10

    def draw(self) -> None:
        self.canv.setDash(3, 3)
        self.canv.setStrokeColor(GRID)
        self.canv.line(0, 5, self.width, 5)


class _Box(Flowable):
    """An empty square to tick."""

    def __init__(self, side: float):
        super().__init__()
        self.width = self.height = side

    def draw(self) -> None:
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.width, self.height)


def _sign_slip(slip: compose.SignSlip, styles: dict[str, ParagraphStyle], width: float) -> Flowable:
    choices = Table([[_Box(3.5 * mm), Paragraph(to_markup(slip.confirm), styles["body"])],
                     [_Box(3.5 * mm), Paragraph(to_markup(slip.dispute), styles["body"])]],
                    colWidths=[8 * mm, width - 8 * mm], hAlign="LEFT")
    choices.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    # Three ruled lines for the reason, indented under the boxes' text.
    reasons = Table([["", ""]] * 3, colWidths=[8 * mm, width - 8 * mm], rowHeights=[7 * mm] * 3, hAlign="LEFT")
    reasons.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, -1), 0.4, GRID)]))
    # Name, signature and date, each on its own line with a gap between them.
    gap = 0.04 * width
    fields = Table([[""] * 5, [Paragraph(to_markup(slip.fields[0]), styles["small"]), "",
                               Paragraph(to_markup(slip.fields[1]), styles["small"]), "",
                               Paragraph(to_markup(slip.fields[2]), styles["small"])]],
                   colWidths=[0.36 * width, gap, 0.36 * width, gap, width - 0.72 * width - 2 * gap],
                   rowHeights=[14 * mm, None], hAlign="LEFT")
    fields.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (0, 0), 0.6, colors.black),
        ("LINEBELOW", (2, 0), (2, 0), 0.6, colors.black),
        ("LINEBELOW", (4, 0), (4, 0), 0.6, colors.black),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    ]))
    return KeepTogether([
        Spacer(1, 6 * mm), _CutLine(width), Spacer(1, 3 * mm),
        Paragraph(to_markup(slip.heading), styles["heading"]),
        Paragraph(to_markup(slip.reference), styles["small"]), Spacer(1, 3 * mm),
        choices, reasons, Spacer(1, 2 * mm), fields,
    ])


# --- what every page carries ------------------------------------------------------------------------------


def _first_page(canvas: Canvas, letter: compose.Letter, styles: dict[str, ParagraphStyle], fonts: FontChoice) -> None:
    width, height = canvas._pagesize
    canvas.saveState()
    _letterhead(canvas, letter.letterhead, fonts, width, height)
    # The return line, small and underlined, just above the recipient.
    canvas.setFont(fonts.regular, 7)
    canvas.drawString(WINDOW_LEFT + 5 * mm, height - RETURN_LINE_BASELINE, letter.letterhead.return_line[:120])
    text_width = min(canvas.stringWidth(letter.letterhead.return_line[:120], fonts.regular, 7), WINDOW_WIDTH - 5 * mm)
    canvas.setLineWidth(0.3)
    canvas.line(WINDOW_LEFT + 5 * mm, height - RETURN_LINE_BASELINE - 1.2, WINDOW_LEFT + 5 * mm + text_width,
                height - RETURN_LINE_BASELINE - 1.2)
    canvas.setFont(fonts.regular, 10)
    for i, line in enumerate(letter.recipient):
        canvas.drawString(WINDOW_LEFT + 5 * mm, height - RECIPIENT_BASELINE - i * RECIPIENT_LEADING, line)
    info = Table([[Paragraph(to_markup(label), styles["info"]), Paragraph(to_markup(value), styles["info"])]
                  for label, value in letter.info], colWidths=[24 * mm, width - INFO_LEFT - RIGHT_MARGIN - 24 * mm])
    info.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    _, info_height = info.wrapOn(canvas, width - INFO_LEFT - RIGHT_MARGIN, 40 * mm)
    info.drawOn(canvas, INFO_LEFT, height - INFO_TOP - info_height)
    _marks(canvas, letter.page_size, height)
    canvas.restoreState()


def _letterhead(canvas: Canvas, head: compose.Letterhead, fonts: FontChoice, width: float, height: float) -> None:
    right = width - RIGHT_MARGIN
    canvas.setFont(fonts.bold, 13)
    canvas.drawRightString(right, height - 15 * mm, head.name)
    canvas.setFont(fonts.regular, 8.5)
    for i, line in enumerate(head.lines[:7]):  # seven lines fill the header zone above the window
        canvas.drawRightString(right, height - 21 * mm - i * 3.6 * mm, line)


def _marks(canvas: Canvas, page_size: str, height: float) -> None:
    folds = A4_FOLDS if page_size == "A4" else (height / 3, height * 2 / 3)
    canvas.setLineWidth(0.3)
    canvas.setStrokeColor(GRID)
    for y in folds:
        canvas.line(4 * mm, height - y, 8 * mm, height - y)
    canvas.line(4 * mm, height / 2, 10 * mm, height / 2)  # punch mark


def _later_page(canvas: Canvas, doc: Any, letter: compose.Letter, fonts: FontChoice) -> None:
    width, height = canvas._pagesize
    canvas.saveState()
    canvas.setFont(fonts.regular, 8)
    canvas.setFillColor(GRID)
    canvas.drawString(LEFT_MARGIN, height - 15 * mm, letter.running_head)
    canvas.drawRightString(width - RIGHT_MARGIN, height - 15 * mm, letter.page_label.format(page=doc.page))
    canvas.restoreState()
