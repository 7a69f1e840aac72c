"""Proposing a settlement from the console's case page: `dunning offer` in a form, refusals beside their field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from starlette.testclient import TestClient

from dunning.config import load_config
from dunning.web.app import create_app
from tests.conftest import Project, dump
from tests.core.test_ledger_interest import smtp  # noqa: F401
from tests.core.test_settlements import day, owing  # noqa: F401
from tests.web.conftest import PASSWORD
from tests.web.helpers import sign_in, token


NOON = dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)  # day(2, 12): the case owes GBP 1,075.32


def _signed_in(project: Project) -> TestClient:
    secret = project.folder / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    project("users", "add", "sam", "--role", "supervisor", "--password-file", str(secret), "--by", "setup",
            now=day(2, 11))
    config = load_config(Path(project.config), required=True)
    client = TestClient(create_app(config, db_path=None, clock=lambda: NOON, secret="s" * 48))
    assert sign_in(client, "sam").status_code == 303
    return client


def test_a_settlement_within_the_stage_limit_is_offered_and_a_deeper_discount_is_refused(owing):  # noqa: F811
    client = _signed_in(owing)
    csrf = token(client, "/cases/1")
    before = dump(owing)
    deep = client.post("/cases/1/settle", data={"csrf": csrf, "amount": "800.00", "until": "2026-03-20"})
    assert deep.status_code == 422
    assert "a discount of 25.60% is beyond what the policy allows" in deep.text
    assert 'id="settle-amount-error"' in deep.text
    past = client.post("/cases/1/settle", data={"csrf": csrf, "amount": "900.00", "until": "2026-03-03"})
    assert past.status_code == 422 and 'id="settle-until-error">the date 2026-03-03 is not in the future' in past.text
    assert dump(owing) == before
    done = client.post("/cases/1/settle", data={"csrf": csrf, "amount": "900.00", "until": "2026-03-20",
                                                 "instalments": "2"})
    assert done.status_code == 200  # followed to the case page
    assert "offer 1 to settle GBP 900.00 of GBP 1,075.32 by 2026-03-20; collection paused" in done.text
    [offered] = json.loads(owing("events", "--kind", "settlement_offered", "--json").stdout)
    assert (offered["data"]["by"], offered["data"]["amount"], offered["data"]["instalments"]) == ("sam", 90000, 2)
    assert owing("verify").exit_code == 0
