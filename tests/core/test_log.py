"""Logs: JSON when not on a terminal, and contact details never in clear."""

from __future__ import annotations

import json

import structlog

from dunning import log


def test_mask_hides_emails_and_phone_numbers():
    text = "sent to jane.doe@example.com and +44 7700 900123 for case 7 (EUR 1,234.50)"
    masked = log.mask(text)
    assert "jane.doe" not in masked and "7700 900" not in masked
    assert "j***@example.com" in masked and "***123" in masked
    assert "case 7" in masked and "1,234.50" in masked


def test_json_logs_are_masked(capsys):
    log.configure("json")
    try:
        structlog.get_logger("t").info("delivered", to="ap@acme.example", phone="+1 (555) 010-2000", case_id=3)
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "delivered" and line["case_id"] == 3 and line["level"] == "info"
    assert line["to"] == "a***@acme.example" and line["phone"] == "***000"


def test_dates_hashes_and_ids_are_not_taken_for_phone_numbers():
    from dunning.log import mask

    for text in ("2026-03-02", "batch=2026-03-02-run_ab12", "sha256=2420e8071234567ab", "ref 12345678901"):
        assert mask(text) == text
    assert mask("(020) 7946 0018 or +86 138 0013 8000") == "***018 or ***000"


# Every way a number or an address turns up in a log line, and what it must become.
MASKED = [
    ("+44 7700 900123", "***123"),
    ("+447700900123", "***123"),
    ("+1 (415) 555-0101", "***101"),
    ("(415) 555-0101", "***101"),
    ("415-555-0101", "***101"),
    ("415.555.0101", "***101"),
    ("415 555 0101", "***101"),
    ("07700 900123", "***123"),
    ("07700900123", "***123"),
    ("(020) 7946 0018", "***018"),
    ("030 1234567", "***567"),
    ("+49 30 1234567", "***567"),
    ("13800138000", "***000"),
    ("138 0013 8000", "***000"),
    ("+86 138-0013-8000", "***000"),
    ("jane.doe@example.com", "j***@example.com"),
    ("Jane.Doe+ar@mail.example.co.uk", "J***@mail.example.co.uk"),
    ("jürgen@bücher.de", "j***@bücher.de"),
    ("张伟@例子.中国", "张***@例子.中国"),
    ("<ap@acme.example>", "<a***@acme.example>"),
]

UNTOUCHED = ["2026-03-02", "2026-03-02T08:00:00+00:00", "EUR 1,234.50", "GBP 12345.67", "case 1234567",
             "sha256=2420e8071234567ab", "ref 12345678901", "7:2026-03-02:phone:1", "v1.2.3", "@here",
             "RF18539007547034"]


def test_mask_covers_every_notation_of_numbers_and_addresses():
    for raw, expected in MASKED:
        assert log.mask(f"to {raw}, case 7") == f"to {expected}, case 7", raw


def test_mask_leaves_dates_amounts_keys_and_references_alone():
    for text in UNTOUCHED:
        assert log.mask(text) == text


def test_non_string_values_and_secrets_are_masked_in_log_lines(capsys):
    log.configure("json")
    try:
        structlog.get_logger("t").warning(
            "odd", to=["ap@acme.example", "+44 7700 900123"], detail={"number": "07700 900123", "count": 3},
            error=ValueError("bounced: jane@example.com"), password="hunter2", smtp={"token": "abc", "host": "h"},
            amount=1234, case_id=7)
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["to"] == ["a***@acme.example", "***123"]
    assert line["detail"] == {"number": "***123", "count": 3}
    assert line["error"] == "bounced: j***@example.com"
    assert line["password"] == "***" and line["smtp"] == {"token": "***", "host": "h"}
    assert line["amount"] == 1234 and line["case_id"] == 7
