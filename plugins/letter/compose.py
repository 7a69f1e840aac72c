"""What goes on a letter: built from the case, the settings and the rendered template, before any layout.

Everything here is plain data and pure functions (no reportlab, no files),
so what a letter says is tested without drawing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from dunning import ActionKey
from dunning.models import Debtor, Obligation, Payment
from dunning.owed import owed_on
from dunning.plugins.letter.content import LetterText, Paragraph
from dunning.plugins.letter.formats import Formats
from dunning.plugins.letter.labels import Labels
from dunning.plugins.letter.settings import Firm, LetterSettings

# How many invoice references the reference block lists before it says "and N more".
MAX_LISTED_REFERENCES = 4


@attrs.frozen
class Letterhead:
    """Who the letter is from: the top-right block and the return line above the window."""

    name: str
    lines: tuple[str, ...]
    return_line: str


@attrs.frozen
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...]
    # Relative column widths and which columns hold amounts (right-aligned).
    widths: tuple[float, ...]
    amounts: frozenset[int]


@attrs.frozen
class Statement:
    invoices_heading: str
    invoices: Table
    payments_heading: str
    payments: Table | None
    no_payments: str
    balance: str  # "Balance on 2 March 2026: €1,200.00", and what of it is overdue when not all of it is


@attrs.frozen
class SignSlip:
    heading: str
    confirm: str
    dispute: str
    fields: tuple[str, ...]  # name, signature, date
    reference: str  # "Our reference: ..." so a returned slip finds its case


@attrs.frozen
class Letter:
    page_size: str
    locale: str | None
    letterhead: Letterhead
    recipient: tuple[str, ...]
    info: tuple[tuple[str, str], ...]
    text: LetterText
    signature: tuple[str, ...]  # the name under the space for a signature, then its lines
    obligations: Table | None
    statement: Statement | None
    sign_slip: SignSlip | None
    page_label: str  # "Page {page}", shown from the second page on
    running_head: str  # sender and reference, at the top of later pages
    author: str
    key: str
    # The deadline the text states ("pay by 26 April"), and the stage it leads to; None if it states none.
    deadline: tuple[dt.date, str | None] | None = None

    def texts(self) -> list[str]:
        """Every text the letter prints, to see which glyphs it needs."""
        out = [self.letterhead.name, *self.letterhead.lines, self.letterhead.return_line, *self.recipient,
               *(v for pair in self.info for v in pair), self.text.subject, *self.signature, self.running_head]
        out += [p.markup for p in self.text.parts if isinstance(p, Paragraph)]
        for table in self._tables():
            out += [*table.header, *table.total, *(cell for row in table.rows for cell in row)]
        if self.statement:
            out += [self.statement.invoices_heading, self.statement.payments_heading, self.statement.no_payments,
                    self.statement.balance]
        if self.sign_slip:
            out += [self.sign_slip.heading, self.sign_slip.confirm, self.sign_slip.dispute, *self.sign_slip.fields,
                    self.sign_slip.reference]
        return out

    def _tables(self) -> list[Table]:
        tables = [self.obligations] if self.obligations else []
        if self.statement:
            tables.append(self.statement.invoices)
            if self.statement.payments:
                tables.append(self.statement.payments)
        return tables


def sender_letterhead(settings: LetterSettings, labels: Labels) -> Letterhead:
    lines = list(settings.sender_address)
    if settings.sender_phone:
        lines.append(f"{labels['phone']}: {settings.sender_phone}")
    if settings.sender_email:
        lines.append(f"{labels['email']}: {settings.sender_email}")
    return Letterhead(settings.sender_name, tuple(lines), return_line(settings.sender_name, settings.sender_address))


def firm_letterhead(firm: Firm) -> Letterhead:
    return Letterhead(firm.name, firm.address, return_line(firm.name, firm.address))


def return_line(name: str, address: Sequence[str]) -> str:
    """The sender in one line above the window: "Northwind Supplies GmbH · Hafenstr. 1 · 20457 Hamburg"."""
    return " · ".join([name, *address])


def obligations_table(obligations: Sequence[Obligation], labels: Labels, formats: Formats, currency: str,
                      today: dt.date, charges: tuple[int, int] = (0, 0)) -> Table:
    """The open obligations, oldest due first, each marked overdue or not yet due on ``today``, with their total.

    ``charges`` (interest, fees) on arrears add a line each, and count in the total.
    """
    owed = owed_on(obligations, today, currency)
    rows = tuple(
        (i.reference, formats.table_date(i.due_on), formats.amount(i.amount, currency),
         formats.amount(i.open, currency),
         labels.format("overdue_days", days=i.days_overdue) if i.overdue else labels["not_yet_due"])
        for i in owed.items
    ) + tuple((labels[label], "", "", formats.amount(amount, currency), "")
              for label, amount in zip(("interest", "fees"), charges, strict=True) if amount)
    total = (labels["total"], "", formats.amount(sum(i.amount for i in owed.items), currency),
             formats.amount(owed.balance + sum(charges), currency), "")
    return Table(header=(labels["reference"], labels["due"], labels["amount"], labels["open"], labels["status"]),
                 rows=rows, total=total, widths=(0.28, 0.16, 0.18, 0.18, 0.2), amounts=frozenset({2, 3}))


def statement(obligations: Sequence[Obligation], payments: Sequence[Payment], labels: Labels, formats: Formats,
              currency: str, today: dt.date) -> Statement:
    """Every obligation, paid ones included, the payments received, and the balance."""
    items = sorted(obligations, key=lambda o: (o.due_on, o.reference))
    invoices = Table(
        header=(labels["reference"], labels["issued"], labels["due"], labels["amount"], labels["paid"], labels["open"]),
        rows=tuple(
            (
                o.reference,
                formats.table_date(o.issued_on) if o.issued_on else "",
                formats.table_date(o.due_on),
                formats.amount(o.amount, o.currency),
                formats.amount(o.paid, o.currency),
                formats.amount(o.open_amount, o.currency),
            )
            for o in items
        ),
        total=(
            labels["total"],
            "",
            "",
            formats.amount(sum(o.amount for o in items), currency),
            formats.amount(sum(o.paid for o in items), currency),
            formats.amount(sum(o.open_amount for o in items), currency),
        ),
        widths=(0.25, 0.15, 0.15, 0.15, 0.15, 0.15),
        amounts=frozenset({3, 4, 5}),
    )
    received = None
    if payments:
        received = Table(
            header=(labels["payment_date"], labels["payment_reference"], labels["amount"]),
            rows=tuple(
                (formats.table_date(p.at.date()), p.reference or "", formats.amount(p.amount, currency))
                for p in payments
            ),
            total=(labels["total"], "", formats.amount(sum(p.amount for p in payments), currency)),
            widths=(0.3, 0.45, 0.25),
            amounts=frozenset({2}),
        )
    owed = owed_on(obligations, today, currency)
    balance = formats.amount(owed.balance, currency)
    if owed.not_yet_due:
        balance += ", " + labels.format("balance_parts", overdue=formats.amount(owed.overdue, currency),
                                        later=formats.amount(owed.not_yet_due, currency))
    return Statement(
        invoices_heading=labels["statement_invoices"], invoices=invoices, payments_heading=labels["payments"],
        payments=received, no_payments=labels["no_payments"],
        balance=f"{labels.format('balance', date=formats.date(today))}: {balance}",
    )


def sign_slip(labels: Labels, formats: Formats, balance: str, today: dt.date, key: str) -> SignSlip:
    return SignSlip(
        heading=labels["sign_heading"],
        confirm=labels.format("sign_confirm", balance=balance, date=formats.date(today)),
        dispute=labels["sign_dispute"],
        fields=(labels["sign_name"], labels["sign_signature"], labels["sign_date"]),
        reference=f"{labels['our_reference']}: {key}",
    )


# About what fits on one line of the reference block at its type size.
REFERENCE_LINE = 28


def _breakable(key: str) -> str:
    """A long key on two lines, broken before its occurrence, so no date or time is split in the middle."""
    if len(key) <= REFERENCE_LINE:
        return key
    try:
        parsed = ActionKey.parse(key)
    except ValueError:
        return key  # not an action key: no occurrence to break before
    return f"{parsed.without_occurrence}\n{parsed.occurrence}"


def info_block(labels: Labels, formats: Formats, today: dt.date, key: str, debtor: Debtor,
               obligations: Sequence[Obligation], disclose: bool, *, payment_reference: str = "",
               debt_kind: str = "invoice") -> tuple[tuple[str, str], ...]:
    """Date, our reference (the action's key, which also names the file), customer number, and, where the debt
    may be shown, the payment reference to quote and the invoices (or a loan's instalments)."""
    info = [(labels["date"], formats.date(today)), (labels["our_reference"], _breakable(key)),
            (labels["customer"], debtor.id)]
    if disclose and payment_reference:
        info.append((labels["payment_reference_to_quote"], payment_reference))
    if disclose:
        # What is asked for: a disputed item is held out of demands (``dunning dispute``).
        refs = [o.reference for o in sorted(obligations, key=lambda o: (o.due_on, o.reference)) if o.collectable]
        if refs:
            shown = ", ".join(refs[:MAX_LISTED_REFERENCES])
            if len(refs) > MAX_LISTED_REFERENCES:
                shown += f" (+{len(refs) - MAX_LISTED_REFERENCES})"
            info.append((labels["instalments" if debt_kind == "loan" else "invoices"], shown))
    return tuple(info)


def signature_lines(text: LetterText, settings: LetterSettings, labels: Labels) -> tuple[str, ...]:
    """The signatory: the lawyer for a letter on the firm's letterhead, otherwise the configured signatory."""
    if text.letterhead == "firm" and settings.firm is not None:
        firm = settings.firm
        lines = [firm.lawyer] if firm.lawyer else []
        return (*lines, firm.name, labels.format("on_behalf", client=settings.sender_name))
    lines = [settings.signatory_name]
    if settings.signatory_title:
        lines.append(settings.signatory_title)
    if settings.sender_name != settings.signatory_name:
        lines.append(settings.sender_name)
    return tuple(lines)
