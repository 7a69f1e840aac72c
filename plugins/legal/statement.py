"""The statement of account for a case: invoices and payments with a running balance.

``statement_lines`` is pure; ``to_csv`` and ``to_pdf`` render it for the
evidence bundle. The PDF is built with reportlab's invariant mode, so the
same statement gives the same bytes (and the same hash) every time.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import attrs

from dunning import creditor_reference, money, spreadsheet
from dunning.models import Case, Debtor, Obligation, Payment
from dunning.owed import Owed

COLUMNS = ("date", "type", "reference", "debit", "credit", "balance")


@attrs.frozen
class Line:
    on: dt.date
    type: str  # "invoice" or "payment"
    reference: str
    debit: int = 0
    credit: int = 0
    balance: int = 0


def statement_lines(obligations: Sequence[Obligation], payments: Sequence[Payment], zone: dt.tzinfo) -> list[Line]:
    """Invoices (on their issue date, else their due date) and payments in date order, with the running balance."""
    entries: list[tuple[dt.date, int, str, int, int]] = []
    for o in obligations:
        entries.append((o.issued_on or o.due_on, 0, o.reference, o.amount, 0))
    for p in payments:
        entries.append((p.at.astimezone(zone).date(), 1, p.reference or f"payment {p.id}", 0, p.amount))
    lines: list[Line] = []
    balance = 0
    for on, order, reference, debit, credit in sorted(entries, key=lambda e: (e[0], e[1], e[2])):
        balance += debit - credit
        lines.append(Line(on, "invoice" if order == 0 else "payment", reference, debit, credit, balance))
    return lines


def to_csv(lines: Sequence[Line], currency: str) -> bytes:
    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow([line.on.isoformat(), line.type, line.reference,
                         money.format_minor(line.debit, currency) if line.debit else "",
                         money.format_minor(line.credit, currency) if line.credit else "",
                         money.format_minor(line.balance, currency)])
    return buffer.getvalue().encode("utf-8")


def to_pdf(lines: Sequence[Line], case: Case, debtor: Debtor, today: dt.date, owed: Owed | None = None) -> bytes:
    """The statement as a PDF; with ``owed`` it also states what was overdue on ``today`` and what falls due later."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"Statement of account, case {case.id}",
                                 author="dunning", invariant=1)
    cur = case.currency

    def amount(minor: int) -> str:
        return money.format_minor(minor, cur, grouping=True) if minor else ""

    rows = [["Date", "Type", "Reference", f"Debit ({cur})", f"Credit ({cur})", f"Balance ({cur})"]]
    rows += [[line.on.isoformat(), line.type, line.reference, amount(line.debit), amount(line.credit),
              money.format_minor(line.balance, cur, grouping=True)] for line in lines]
    table = Table(rows, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]))
    story = [
        Paragraph(f"Statement of account, case {case.id}", styles["Title"]),
        Paragraph(f"{debtor.name} ({debtor.id})", styles["Normal"]),
        Paragraph(f"As of {today.isoformat()}; amounts in {cur}", styles["Normal"]),
        Spacer(1, 12),
        table,
        Spacer(1, 12),
        Paragraph(f"Balance due: {money.display(case.balance, cur)}", styles["Heading3"]),
    ]
    if owed is not None:
        story.append(Paragraph(f"Overdue on {today.isoformat()}: {money.display(owed.overdue, cur)}", styles["Normal"]))
        later = "; ".join(f"{i.reference} due on {i.due_on.isoformat()}: {money.display(i.open, cur)}"
                          for i in owed.later_items)
        not_yet_due = f"Not yet due: {money.display(owed.not_yet_due, cur)}" + (f" ({later})" if later else "")
        story.append(Paragraph(not_yet_due, styles["Normal"]))
        if case.creditor_reference:
            story.append(Paragraph(f"Payment reference: {creditor_reference.printed(case.creditor_reference)}",
                                   styles["Normal"]))
    document.build(story)
    return buffer.getvalue()
