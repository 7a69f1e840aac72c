"""The fast paths of text_checks give the answers the slow, general checks give."""

from __future__ import annotations

import sys
import unicodedata

import email_validator
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning import text_checks


def test_the_control_characters_are_unicodes_category_cc():
    every = [chr(c) for c in range(sys.maxunicode + 1)]
    control = {ch for ch in every if unicodedata.category(ch) == "Cc"}
    assert {ch for ch in every if text_checks.control_character(ch)} == control
    assert {ch for ch in every if text_checks.control_character(ch, multiline=True)} == control - {"\r", "\n"}
    assert text_checks.control_character("Acme\x1b[2J") == (
        "holds a control character (U+001B); only printable text is accepted")


def _accepted(text: str) -> bool:
    try:
        email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


EXAMPLES = [
    "ap@acme.example", "a.b+c_d-e@mail.acme.co.uk", "x@a.b", "x@localhost.test", "x@host.onion", "x@a.arpa",
    "a..b@acme.example", ".a@acme.example", "a.@acme.example", "a@-acme.example", "a@acme-.example",
    "a@ab--cd.example", "a@xn--bcher-kva.de", "a@acme.123", "a@acme", "a" * 64 + "@acme.example",
    "a" * 65 + "@acme.example", "a@" + "b" * 63 + ".example", "a@" + "b" * 64 + ".example",
    "a@" + ".".join(["b" * 60] * 5) + ".de", "ap@ACME.EXAMPLE", "a@acme.local", "a@b.c.d.e.f.g.museum",
]

plausible = st.from_regex(r"[A-Za-z0-9._+@-]{1,12}@[A-Za-z0-9.-]{1,20}\.[A-Za-z0-9-]{1,8}", fullmatch=True)


def test_the_plain_form_is_only_ever_what_email_validator_accepts():
    for text in EXAMPLES:
        if text_checks.plainly_email(text):
            assert _accepted(text), text
    assert text_checks.plainly_email("ap@acme.example") and not text_checks.plainly_email("x@localhost.test")


@settings(max_examples=400, deadline=None)
@given(plausible)
def test_generated_addresses_agree(text: str):
    if text_checks.plainly_email(text):
        assert _accepted(text)
