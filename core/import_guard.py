"""A plain import never changes who a debtor is: different details or new contacts point to ``--sync``.

Re-importing a file with a new name used to rename the debtor silently and
add the new email beside the old one. A credit controller expects a plain
import to add invoices and nothing else; the books' changes to a debtor go
through ``dunning import FILE --sync`` (which records them as an event), or
``dunning debtors edit`` / ``dunning contacts add`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from dunning import log
from dunning.models import Contact, Debtor
from dunning.sync import DEBTOR_FIELDS, contact_key, debtor_changes

# The row's column that gives each kind of contact, to name it in the message.
_CONTACT_COLUMN = {"email": "email", "mobile": "mobile", "work": "work_phone", "home": "home_phone",
                   "postal": "address"}


class _Debtors(Protocol):
    def debtor(self, debtor_id: str) -> Debtor | None: ...
    def contacts(self, debtor_id: str) -> list[Contact]: ...


def given_fields(row: Mapping[str, Any]) -> frozenset[str]:
    """The debtor fields a row actually fills: a blank cell keeps what is stored."""
    given = {f for f in DEBTOR_FIELDS if str(row.get(f) or "").strip()}
    if "region" in given:
        given.add("country")  # a region names its country
    return frozenset(given)


def refused_changes(store: _Debtors, rows: Sequence[tuple[int, Mapping[str, Any]]],
                    debtors: Iterable[tuple[Debtor, Sequence[Contact]]], file: str,
                    seen: set[str] | None = None) -> list[tuple[int, str, str]]:
    """(line, field, problem) for each existing debtor the file would change; ``debtors`` in the rows' order.

    ``seen`` (the debtors whose details were compared already) lets a file be checked a row at a time.
    """
    problems: list[tuple[int, str, str]] = []
    seen = set() if seen is None else seen
    for (line, row), (debtor, contacts) in zip(rows, debtors, strict=True):
        stored = store.debtor(debtor.id)
        if stored is None:
            continue
        hint = f"a plain import adds invoices only; `dunning import {file} --sync` updates the debtor"
        if debtor.id not in seen:
            for change in debtor_changes(stored, debtor, given_fields(row)):
                before = "no " + change.field if change.before is None else f"{change.field} {change.before!r}"
                problems.append((line, change.field, f"debtor {debtor.id!r} is recorded with {before}, "
                                                     f"the file says {change.after!r}: {hint}"))
        seen.add(debtor.id)
        known = {contact_key(c) for c in store.contacts(debtor.id)}
        for contact in contacts:
            if contact_key(contact) not in known:
                known.add(contact_key(contact))
                problems.append((line, _CONTACT_COLUMN.get(contact.kind.value, "contacts"),
                                 f"debtor {debtor.id!r} has no {contact.kind.value} contact "
                                 f"{log.mask(contact.value)!r}: {hint} (or `dunning contacts add`)"))
    return problems
