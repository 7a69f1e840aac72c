"""The payment reference a debtor quotes: an ISO 11649 structured creditor reference per case.

``RF`` + two check digits + the case id, so a reference mistyped by one
character (or two swapped) fails its check instead of matching another
case, and a bank or a payment file can carry it in the structured field.
Derived from the case id alone: the same case always has the same
reference, and two cases never share one.
"""

from __future__ import annotations

# python-stdnum is imported in each function: its package imports ssl and more, and the store, the templates
# and `cases` import this module for every command that opens the database.

# Case ids are padded to this many digits, so references have one length
# for the first hundred million cases (ISO 11649 allows up to 21).
BODY_DIGITS = 8


def for_case(case_id: int) -> str:
    """The compact reference of case ``case_id``: ``RF`` + check digits + padded id (e.g. ``RF7400000001``)."""
    if case_id < 0:
        raise ValueError(f"case id must not be negative, got {case_id}")
    from stdnum.iso7064 import mod_97_10

    body = f"{case_id:0{BODY_DIGITS}d}"
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def printed(reference: str) -> str:
    """The reference in groups of four, as ISO 11649 asks it be printed: ``RF74 0000 0001``.

    Done here, as python-stdnum's ``iso11649.format`` does it (a test compares them): `cases show` prints the
    reference and should not import python-stdnum, which only making and checking a reference need.
    """
    compact = "".join(c for c in reference if c not in " -.,/:").upper().strip()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def is_valid(reference: str) -> bool:
    from stdnum import iso11649

    return iso11649.is_valid(reference)
