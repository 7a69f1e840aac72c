"""A debtor disputes one item on their page; the run delivers the supervisor's notice, which the supervisor sees
on signing into the console; under Reg F the console's lift refuses until verification of the debt was sent
(the error beside the box, nothing changed). The case's evidence shows each step and `dunning verify` passes."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from dunning.config import load_config
from dunning.portal import links
from dunning.web.app import create_app
from tests.conftest import Project, dump, row, write_csv
from tests.portal.conftest import PORTAL_TOML
from tests.web.conftest import PASSWORD
from tests.web.helpers import sign_in, token


REG_F = '[compliance]\nprofile = "default"\n\n[compliance.jurisdictions]\nUS = "us-regf"\n'
DISPUTED_AT = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)  # INV-1 and INV-3 fell due on 1 March
RUN = "2026-03-10T15:30:00Z"
CONSOLE_AT = dt.datetime(2026, 3, 10, 16, tzinfo=dt.UTC)


def _consumer(reference: str, amount: str, due_on: str = "2026-03-01") -> dict[str, str]:
    return row("P001", reference, amount, due_on=due_on, name="Pat Doe", kind="person", country="US",
               region="US-NY", timezone="America/New_York", mobile="+1 212 555 0142", email="pat@example.com")


def _site(project: Project) -> None:
    project.write_config(extra=PORTAL_TOML + REG_F)
    rows = [_consumer("INV-1", "1200.00"), _consumer("INV-3", "250.00"), _consumer("INV-2", "300.00", "2026-04-30")]
    project("import", str(write_csv(project.folder / "in.csv", rows)), now="2026-02-20T08:00:00Z")
    secret = project.folder / "password.txt"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    project("users", "add", "sam", "--role", "supervisor", "--password-file", str(secret), "--by", "setup", now=RUN)


def _app(project: Project, at: dt.datetime) -> TestClient:
    config = load_config(Path(project.config), required=True)
    return TestClient(create_app(config, db_path=None, clock=lambda: at, secret="s" * 48))


def _events(project: Project, *args: str) -> list[dict[str, Any]]:
    return json.loads(project("events", *args, "--json").stdout)


def test_the_supervisor_sees_a_debtors_dispute_and_lifts_it_only_once_verification_was_sent(project: Project):
    _site(project)
    debtor = _app(project, DISPUTED_AT)
    url = links.link(load_config(Path(project.config), required=True), 1, DISPUTED_AT)
    assert url is not None
    path = "/portal/" + links.token_of(url)
    csrf = re.search(r'name="csrf" value="([^"]+)"', debtor.get(path).text)
    assert csrf
    answer = debtor.post(f"{path}/dispute", data={"reference": "INV-3", "reason": "never delivered",
                                                  "csrf": csrf.group(1)}, follow_redirects=False)
    assert answer.status_code == 303
    project("run", now=RUN)  # delivers the notice as it delivers the policy's

    console = _app(project, CONSOLE_AT)
    assert sign_in(console, "sam").status_code == 303
    day = console.get("/").text
    assert "Case 1 · Pat Doe" in day
    assert ("item 1/INV-3 (EUR 250.00 open) disputed: never delivered; held out of demands until verification of "
            "the debt was sent (Reg F): dunning dispute 1/INV-3 --lift --verification-sent") in day
    case_page = console.get("/cases/1").text
    assert re.search(r'class="disputed">.*INV-3.*EUR 250.00.*2026-03-10', case_page, re.S)

    # The lift without the box ticked: refused beside the box, nothing changed.
    before = dump(project)
    refused = console.post("/cases/1/lift-dispute", data={"reference": "INV-3", "reason": "copy of the delivery note",
                                                          "csrf": token(console, "/cases/1")})
    assert refused.status_code == 422
    beside = re.search(r'id="lift-verification_sent-error">([^<]+)<', refused.text)
    assert beside and beside.group(1) == ("1/INV-3 is disputed: collection resumes only once verification of the "
                                          "debt was sent; tick that it was sent")
    assert dump(project) == before
    lifted = console.post("/cases/1/lift-dispute", data={"reference": "INV-3", "reason": "copy of the delivery note",
                                                         "verification_sent": "1", "csrf": token(console, "/cases/1")},
                          follow_redirects=False)
    assert lifted.status_code == 303
    assert "1/INV-3: dispute lifted; collected again" in console.get("/cases/1").text

    kinds = [e["kind"] for e in _events(project, "--case", "1")]
    assert kinds.index("obligation_disputed") < kinds.index("notice") < kinds.index("dispute_lifted")
    [notice] = _events(project, "--kind", "notice")
    assert (notice["step"], notice["data"]["role"]) == ("item-dispute", "supervisor")
    [ended] = _events(project, "--kind", "dispute_lifted")
    assert (ended["data"]["by"], ended["data"]["verification_sent"]) == ("sam", True)
    assert project("verify").exit_code == 0


def test_an_item_disputed_from_the_case_page_is_refused_beside_its_field_or_told_to_the_supervisor(
        project: Project):
    # (The collectors' access to the form is the route-by-role test's; here the case's owner is its supervisor.)
    _site(project)
    console = _app(project, CONSOLE_AT)
    assert sign_in(console, "sam").status_code == 303
    before = dump(project)
    refused = console.post("/cases/1/dispute", data={"reference": "INV-1", "reason": " ",
                                                     "csrf": token(console, "/cases/1")})
    assert refused.status_code == 422 and 'id="dispute-reason-error"' in refused.text
    refused = console.post("/cases/1/dispute", data={"reference": "INV-9", "reason": "wrong",
                                                     "csrf": token(console, "/cases/1")})
    assert refused.status_code == 422 and 'id="dispute-reference-error"' in refused.text
    assert dump(project) == before
    done = console.post("/cases/1/dispute", data={"reference": "INV-1", "reason": "the price agreed was 1000.00",
                                                  "csrf": token(console, "/cases/1")}, follow_redirects=False)
    assert done.status_code == 303
    [disputed] = _events(project, "--kind", "obligation_disputed")
    assert (disputed["data"]["reference"], disputed["data"]["by"]) == ("INV-1", "sam")
    project("run", now="2026-03-10T16:30:00Z")
    [row_] = json.loads(project("notices", "--role", "supervisor", "--json").stdout)
    assert "item 1/INV-1 (EUR 1,200.00 open) disputed: the price agreed was 1000.00;" in row_["why"]
