"""Postal addresses: free text in, the lines of the window in the envelope out.

A postal contact's value is free text. Its lines are separated by newlines
or, for addresses kept on one line in a spreadsheet, by ", ":

    "Acme Trading Ltd, Accounts Payable, 12 Harbour Road, Leeds LS1 4AB, United Kingdom"

gives five lines. A comma without a space after it ("Flat 3,4 Mill Lane")
stays inside its line.
"""

from __future__ import annotations

import re

# A DIN 5008 address field has room for six lines of address (and three
# above them for postal notes); longer addresses are joined into the last.
MAX_LINES = 6

_SEPARATOR = re.compile(r"\r?\n|, ")


def split_lines(text: str) -> tuple[str, ...]:
    """The non-empty lines of a free-text address."""
    return tuple(part.strip() for part in _SEPARATOR.split(text) if part.strip())


def window_lines(recipient: str, address: str) -> tuple[str, ...]:
    """What shows through the window: the recipient, then the address, at most ``MAX_LINES`` lines.

    The recipient is left out when the address already starts with it, as
    addresses copied from an invoice often do.
    """
    lines = list(split_lines(address))
    name = recipient.strip()
    if name and (not lines or lines[0].casefold() != name.casefold()):
        lines.insert(0, name)
    if len(lines) > MAX_LINES:
        lines[MAX_LINES - 1:] = [", ".join(lines[MAX_LINES - 1:])]
    return tuple(lines)
