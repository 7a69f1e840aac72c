"""A field collector's visits: on their day, and their case open to them through the area they cover."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from starlette.testclient import TestClient

from dunning.config import load_config
from dunning.web.app import create_app
from tests.conftest import Project
from tests.web.conftest import PASSWORD
from tests.web.helpers import sign_in


MOMENT = dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC)  # day 31 past due: first-visit


def test_a_visit_in_my_area_is_on_my_day_and_its_case_is_mine(project: Project, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DUNNING_LOAD_PLUGINS", "phone,visit")
    project.write_config(enabled=["phone", "visit"], extra='\n[channels.phone]\ncollectors = ["ann", "bob"]\n'
                                                            '\n[channels.visit.collectors]\nSW1A = "ann"\n')
    path = project.folder / "debts.json"
    path.write_text(json.dumps([{
        "debtor_id": "D1", "name": "Mall Florists", "kind": "company", "mobile": "+44 7700 900101",
        "address": "3 The Mall, London SW1A 1AB", "country": "GB", "timezone": "Europe/London",
        "reference": "INV-1", "amount": "3600.00", "currency": "GBP", "issued_on": "2026-01-01",
        "due_on": "2026-03-02"}]), encoding="utf-8")
    project("import", str(path), now="2026-02-01T09:00:00Z")
    project("run", now="2026-04-02T07:00:00Z")
    secret = project.folder / "pw.txt"
    secret.write_text(PASSWORD, encoding="utf-8")
    for name in ("ann", "bob", "cy"):
        project("users", "add", name, "--role", "collector", "--password-file", str(secret))
    client = TestClient(create_app(load_config(project.config, required=True), db_path=None,
                                   clock=lambda: MOMENT, secret="s" * 48))
    # Case 1 is bob's on the call list (1 modulo 2) and ann's in the field (SW1A).
    sign_in(client, "ann")
    day = client.get("/").text
    assert "Mall Florists" in day and "3 The Mall, London SW1A 1AB" in day and "first-visit" in day
    assert client.get("/cases/1").status_code == 200
    sign_in(client, "bob")
    assert client.get("/cases/1").status_code == 200
    sign_in(client, "cy")
    assert "No visits today." in client.get("/").text
    assert client.get("/cases/1").status_code == 403
