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
